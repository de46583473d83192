package tail

import (
	"bytes"
	"context"
	"io"
	"sync"
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
		health: sources.Health{Name: name}}, nil
}

// Name reports the source spec.
func (s *Source) Name() string { return s.name }

// Ready is closed when backfill is done.
func (s *Source) Ready() <-chan struct{} { return s.tailer.Ready() }

// Health returns the counters.
func (s *Source) Health() sources.Health {
	st := s.tailer.Stats()
	s.mu.Lock()
	h, p := s.health, s.pump
	s.mu.Unlock()
	h.Live = st.Live
	h.Records = st.Lines
	h.Malformed += st.Oversize + p.malformed()
	return h
}

// idleFlush is how long a quiet input waits before the decoder is told
// that the last event is complete (auditd writes no end-of-event record).
const idleFlush = 200 * time.Millisecond

// Run follows the input until ctx ends.
func (s *Source) Run(ctx context.Context, emit func([]sources.Event)) error {
	p := newPump(s.newDec, s.since, emit, &s.mu, &s.health)
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
	emit       func([]sources.Event)
	last       time.Time
	dirty      bool
	hmu        *sync.Mutex
	health     *sources.Health
}

func newPump(nd NewDecoder, since time.Time, emit func([]sources.Event), hmu *sync.Mutex, h *sources.Health) *pump {
	p := &pump{since: since, emit: emit, hmu: hmu, health: h}
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

// malformed reads the decoder's count under the pump's lock (decoders are
// not safe for concurrent use).
func (p *pump) malformed() uint64 {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.dec.(statser); ok {
		return st.Stats().Malformed
	}
	return 0
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
	}
	p.mu.Unlock()
	p.send(out)
}

func (p *pump) send(out []sources.Event) {
	if len(out) == 0 {
		return
	}
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
		t := time.NewTicker(idleFlush / 2)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				p.mu.Lock()
				var out []sources.Event
				if p.dirty && time.Since(p.last) >= idleFlush {
					p.dec.Flush()
					p.dirty = false
				}
				out, p.batch = p.batch, nil
				p.mu.Unlock()
				p.send(out)
			}
		}
	}()
	return func() { cancel(); <-done }
}

func (p *pump) finish() {
	p.mu.Lock()
	p.dec.Flush()
	out := p.batch
	p.batch = nil
	p.mu.Unlock()
	p.send(out)
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

// Health returns the counters.
func (s *ReaderSource) Health() sources.Health {
	s.mu.Lock()
	h, p := s.health, s.pump
	s.mu.Unlock()
	h.Malformed += p.malformed()
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
