package tail

import (
	"bytes"
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xferhunt/xferhunt/sources"
)

// Decoder turns lines of one format into events, emitting through the
// callback it was built with. sources/auditd's Parser is one.
type Decoder interface {
	Line(line []byte)
	Flush()
}

// NewDecoder builds a Decoder that emits through emit.
type NewDecoder func(emit func(sources.Event)) Decoder

// Source is a sources.Source over a followed file or directory: backfill
// (events marked Historical, those before Options.Since dropped), then live.
type Source struct {
	name   string
	tailer *Tailer
	newDec NewDecoder
	since  time.Time
	// idle and hold are idleFlush and eventHold; tests shorten them.
	idle, hold time.Duration

	mu     sync.Mutex
	health sources.Health
	pump   *pump
}

// statser is implemented by decoders that count malformed input.
type statser interface{ Stats() sources.Stats }

// NewSource checks path and returns a source named name (e.g.
// "auditlog:/var/log/audit/audit.log").
func NewSource(name string, opt Options, newDec NewDecoder) (*Source, error) {
	t, err := New(opt)
	if err != nil {
		return nil, err
	}
	return &Source{name: name, tailer: t, newDec: newDec, since: opt.Since,
		idle: idleFlush, hold: eventHold, health: sources.Health{Name: name}}, nil
}

// Name reports the source spec.
func (s *Source) Name() string { return s.name }

// Ready is closed when backfill is done.
func (s *Source) Ready() <-chan struct{} { return s.tailer.Ready() }

// CanWait is true: a followed file keeps what is not read yet, so the
// source waits for a full sink rather than drop (sources.Waiter).
func (s *Source) CanWait() bool { return true }

// Health returns the counters.
func (s *Source) Health() sources.Health {
	st := s.tailer.Stats()
	s.mu.Lock()
	h, p := s.health, s.pump
	s.mu.Unlock()
	h.Live = st.Live
	h.Records = st.Lines
	ds := p.decoded()
	h.Malformed += st.Oversize + st.Cut + ds.Malformed
	h.Gaps += ds.Gaps
	h.Lost += st.Missed
	return h
}

// Idle flush timing. auditd writes no end-of-event record, so a quiet
// input is the only sign that its last event is complete; but quiet is
// not proof. A writer pausing inside an event (auditd waiting on its disk,
// a line cut at a buffer boundary) would have the event finished without
// its later records, which then arrive as gaps and the event is lost. So
// the flush waits longer while the tailer holds an unfinished line or the
// decoder knows it is inside an event (see Awaiter).
const (
	// idleFlush is how long a quiet input waits before the decoder is
	// told that its last event is complete.
	idleFlush = 200 * time.Millisecond
	// eventHold bounds the wait for the rest of an event the decoder
	// says is open: a writer that never finishes it must not hold back
	// the events before it for ever. What arrives later is a gap.
	eventHold = 5 * time.Second
)

// Awaiter is implemented by decoders that can tell that the input stopped
// inside an event, whose remaining records are still to come (an auditd
// syscall event whose PROCTITLE record has not arrived). The idle flush
// waits for them, up to eventHold, instead of finishing the event short.
type Awaiter interface{ Awaiting() bool }

// Run follows the input until ctx ends.
func (s *Source) Run(ctx context.Context, emit func([]sources.Event)) error {
	p := newPump(s.newDec, s.since, emit, &s.mu, &s.health)
	p.unfinished, p.idle, p.hold = s.tailer.holding, s.idle, s.hold
	s.mu.Lock()
	s.pump = p
	s.mu.Unlock()
	stop := p.idleFlusher(ctx)
	defer stop()
	err := s.tailer.Run(ctx, p.line)
	p.finish()
	return err
}

// pump serializes a decoder between the tailer and the idle flusher and
// batches what it emits.
type pump struct {
	mu         sync.Mutex
	dec        Decoder
	historical bool
	since      time.Time
	batch      []sources.Event
	last       time.Time
	dirty      bool
	// unfinished reports that the input holds the start of a line whose
	// end has not been written yet; nil for none.
	unfinished func() bool
	idle, hold time.Duration // see idleFlush and eventHold

	// sendMu is taken before mu is released and held while emitting, so
	// batches leave in the order they were cut even when emit blocks
	// (a source that waits for room in the sink).
	sendMu sync.Mutex
	emit   func([]sources.Event)
	hmu    *sync.Mutex
	health *sources.Health
	// stats is the decoder's counters as of the last line or tick, kept
	// apart so Health never waits for a pump stuck in a blocking emit.
	stats atomic.Pointer[sources.Stats]
	// flushes counts idle flushes, so tests wait for one instead of
	// sleeping past it.
	flushes atomic.Uint64
}

func newPump(nd NewDecoder, since time.Time, emit func([]sources.Event), hmu *sync.Mutex, h *sources.Health) *pump {
	p := &pump{since: since, emit: emit, hmu: hmu, health: h, idle: idleFlush, hold: eventHold}
	p.dec = nd(p.collect)
	return p
}

// collect receives decoded events; historical ones outside the window are
// dropped here so every format shares the rule.
func (p *pump) collect(ev sources.Event) {
	if p.historical {
		ev.Historical = true
		if !p.since.IsZero() {
			if ts, err := time.Parse(time.RFC3339Nano, ev.Doc.Str("@timestamp")); err == nil && ts.Before(p.since) {
				return
			}
		}
	}
	p.batch = append(p.batch, ev)
}

const maxBatch = 512

// decoded is the decoder's counters as last noted (zero before Run).
func (p *pump) decoded() sources.Stats {
	if p == nil {
		return sources.Stats{}
	}
	if st := p.stats.Load(); st != nil {
		return *st
	}
	return sources.Stats{}
}

// noteStats copies the decoder's counters for Health; called under mu
// (decoders are not safe for concurrent use).
func (p *pump) noteStats() {
	if st, ok := p.dec.(statser); ok {
		s := st.Stats()
		p.stats.Store(&s)
	}
}

func (p *pump) line(b []byte, historical bool) {
	p.mu.Lock()
	if p.historical && !historical {
		// Backfill is over: what the decoder still holds is history.
		p.dec.Flush()
	}
	p.historical = historical
	p.dec.Line(b)
	p.last, p.dirty = time.Now(), true
	var out []sources.Event
	if len(p.batch) >= maxBatch || (!historical && len(p.batch) > 0) {
		out, p.batch = p.batch, nil
		p.noteStats()
	}
	p.sendLocked(out)
}

// sendLocked emits out in order and releases mu, which the caller holds.
func (p *pump) sendLocked(out []sources.Event) {
	if len(out) == 0 {
		p.mu.Unlock()
		return
	}
	p.sendMu.Lock()
	p.mu.Unlock()
	defer p.sendMu.Unlock()
	p.hmu.Lock()
	p.health.Events += sources.FileEvents(out)
	p.hmu.Unlock()
	p.emit(out)
}

// idleFlusher completes the decoder's last event once the input is quiet.
func (p *pump) idleFlusher(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(p.idle / 2)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				p.mu.Lock()
				if p.dirty && p.quiet(time.Since(p.last)) {
					p.dec.Flush()
					p.dirty = false
					p.flushes.Add(1)
				}
				out := p.batch
				p.batch = nil
				p.noteStats()
				p.sendLocked(out)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// quiet reports whether an input silent for d has finished its last event.
// A decoder that knows where its events end (an Awaiter) is asked; for any
// other, an unfinished line means its record, and so its event, is not
// finished (up to lineHold, see Tailer.holding).
func (p *pump) quiet(d time.Duration) bool {
	if d < p.idle {
		return false
	}
	if a, ok := p.dec.(Awaiter); ok {
		return !a.Awaiting() || d >= p.hold
	}
	return p.unfinished == nil || !p.unfinished()
}

func (p *pump) finish() {
	p.mu.Lock()
	p.dec.Flush()
	out := p.batch
	p.batch = nil
	p.noteStats()
	p.sendLocked(out)
}

// ReaderSource is a sources.Source over a stream read once to its end,
// such as stdin; its events are live, not historical.
type ReaderSource struct {
	name   string
	r      io.Reader
	newDec NewDecoder

	mu     sync.Mutex
	health sources.Health
	pump   *pump
}

// NewReaderSource returns a source reading r.
func NewReaderSource(name string, r io.Reader, newDec NewDecoder) *ReaderSource {
	return &ReaderSource{name: name, r: r, newDec: newDec, health: sources.Health{Name: name, Live: true}}
}

// Name reports the source name.
func (s *ReaderSource) Name() string { return s.name }

// CanWait is true: a stream not read stays with its writer (a pipe blocks
// it), so the source waits for a full sink rather than drop
// (sources.Waiter).
func (s *ReaderSource) CanWait() bool { return true }

// Health returns the counters.
func (s *ReaderSource) Health() sources.Health {
	s.mu.Lock()
	h, p := s.health, s.pump
	s.mu.Unlock()
	ds := p.decoded()
	h.Malformed += ds.Malformed
	h.Gaps += ds.Gaps
	return h
}

// Run reads to EOF (or until ctx ends), then returns nil.
func (s *ReaderSource) Run(ctx context.Context, emit func([]sources.Event)) error {
	p := newPump(s.newDec, time.Time{}, emit, &s.mu, &s.health)
	s.mu.Lock()
	s.pump = p
	s.mu.Unlock()
	stop := p.idleFlusher(ctx)
	defer stop()
	defer p.finish()
	buf := make([]byte, 256<<10)
	var partial []byte
	skipping := false // inside a line over DefaultMaxLine: drop to its newline
	oversize := func() {
		partial, skipping = partial[:0], true
		s.mu.Lock()
		s.health.Malformed++
		s.mu.Unlock()
	}
	for ctx.Err() == nil {
		n, err := s.r.Read(buf)
		chunk := buf[:n]
		for len(chunk) > 0 {
			i := bytes.IndexByte(chunk, '\n')
			if i < 0 {
				// Bounded like the tailer's lines: one line without a
				// newline must not grow memory without limit.
				if !skipping && len(partial)+len(chunk) > DefaultMaxLine {
					oversize()
				}
				if !skipping {
					partial = append(partial, chunk...)
				}
				break
			}
			seg := chunk[:i]
			if !skipping && len(partial)+len(seg) > DefaultMaxLine {
				oversize()
			}
			if skipping {
				skipping = false
				chunk = chunk[i+1:]
				continue
			}
			if len(partial) > 0 {
				partial = append(partial, seg...)
				seg = partial
			}
			p.line(trimCR(seg), false)
			s.mu.Lock()
			s.health.Records++
			s.mu.Unlock()
			partial = partial[:0]
			chunk = chunk[i+1:]
		}
		if err == io.EOF {
			if len(partial) > 0 && !skipping {
				p.line(trimCR(partial), false)
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}
