package auditd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"

	"github.com/xferhunt/xferhunt/sources"
)

// ScanRecorded is Scan as the recorded-input registry calls it
// (sources.ScanFunc), for both auditd formats (RAW and ENRICHED).
func ScanRecorded(r io.Reader, o sources.ScanOptions) (sources.Stats, error) {
	return Scan(r, Options{HostID: o.HostID, HostName: o.HostName, Emit: o.Emit, Workers: o.Workers, Story: o.Story, Sparse: o.Sparse})
}

const (
	// blockSize is how much a one-worker Scan reads at once; lines are cut
	// in place.
	blockSize = 1 << 20
	// chunkSize is the read size of a pipelined Scan: small enough that
	// the stages overlap from the start and a block stays in the cache
	// from its split to its grouping, large enough that handing a chunk
	// over costs nothing per line.
	chunkSize = 128 << 10
	// spareChunks is how many blocks a pipelined Scan has in flight
	// beyond one per worker: one being read, one done waiting for its turn
	// to be grouped and a spare, so that the reader seldom waits. Few and
	// small, so that a block is still in the cache when it is grouped
	// after its split, and few fresh pages (each a costly fault on a
	// shadow-paged VM) hold them.
	spareChunks = 3
	// batchSize is how many planned events travel to the builder at once,
	// so the channel costs little per event.
	batchSize = 64
)

// Scan parses a whole auditd log from r, streaming: memory is a few blocks
// plus the bounded tables, whatever the size of the input. With two or more
// workers it pipelines the scan so that every core works: the caller's
// goroutine reads blocks of whole lines; each worker cuts a block's lines
// and parses what does not depend on other lines (headers, SYSCALL bodies,
// the fields of user-space records), blocks in parallel, then groups the
// blocks whose turn has come, in read order, one worker at a time
// (grouping records into events and keeping the attribution tables is the
// only part that must see every record in order); one goroutine turns
// finished events into documents and emits them, in log order.
func Scan(r io.Reader, opt Options) (Stats, error) {
	p := NewParser(opt)
	workers := opt.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers < 2 {
		err := readLines(r, p)
		p.Flush()
		return p.Stats(), err
	}
	workers = min(workers, maxSplitters)

	batches := make(chan []*fileEvent, 8)
	built := make(chan struct{})
	go func() {
		defer close(built)
		pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("stage", "build")))
		bx := newBoxes()
		bx.obj = newObjects() // Scan's consumer only reads documents
		for b := range batches {
			for _, fe := range b {
				if opt.Emit != nil {
					opt.Emit(sources.Event{Doc: fe.doc(bx), Key: fe.key, Context: fe.context})
				}
			}
		}
	}()

	batch := make([]*fileEvent, 0, batchSize)
	p.out = func(fe *fileEvent) {
		batch = append(batch, fe)
		if len(batch) == batchSize {
			batches <- batch
			batch = make([]*fileEvent, 0, batchSize)
		}
	}
	p.borrow = true // a block stays the grouper's until detach

	// Every block in flight is in exactly one of: free, being read, work
	// (waiting for or in a worker), done (split, waiting for its turn to be
	// grouped). There is no grouping goroutine: the worker that finishes
	// a block groups it and every block done after it, in read order,
	// when no other worker is grouping (g.mu) — so no core waits for a
	// grouper to wake up, and a block is often grouped on the core that
	// has just split it.
	n := workers + spareChunks
	free := make(chan *chunk, n)
	work := make(chan *chunk, n)
	for range n {
		// Audit lines are rarely shorter than 64 bytes: the token
		// slices seldom grow.
		free <- &chunk{data: make([]byte, 0, chunkSize), toks: make([]token, 0, chunkSize/64),
			heads: make([]sysHead, 0, chunkSize/256)}
	}
	g := &grouping{p: p, free: free, done: make([]atomic.Pointer[chunk], n),
		label: pprof.WithLabels(context.Background(), pprof.Labels("stage", "group"))}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			split := pprof.WithLabels(context.Background(), pprof.Labels("stage", "split"))
			pprof.SetGoroutineLabels(split)
			var sp splitter
			for c := range work {
				c.split(c.data, opt.Story, &sp)
				g.done[c.seq%uint64(n)].Store(c)
				if g.group() {
					pprof.SetGoroutineLabels(split)
					// Freeing blocks readied the reader on this
					// worker's P, where it would wait for this
					// worker to block: let it read now.
					runtime.Gosched()
				}
			}
		}()
	}

	// A read error keeps the unfinished line read before it, as
	// readLines does.
	var seq uint64
	err := sources.ReadLineBlocks(r, free, nil, func(c *chunk) *[]byte { return &c.data }, true, func(c *chunk) {
		c.seq = seq
		seq++
		work <- c
	})
	close(work)
	wg.Wait()
	g.group() // nothing runs beside it now: whatever is left
	p.Flush()
	if len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	<-built
	return p.Stats(), err
}

// grouping feeds split blocks to the parser in read order, from whichever
// worker holds mu.
type grouping struct {
	mu    sync.Mutex
	p     *Parser
	next  atomic.Uint64 // the read number of the block to group next; written under mu
	done  []atomic.Pointer[chunk]
	free  chan<- *chunk
	label context.Context
}

// group takes the grouping, if no other worker has it, and groups every
// block done in read order from next; it reports whether it did any. A
// worker that finds the grouping taken leaves: the one holding it looks
// again after letting go, so a block done meanwhile is not left behind
// (both sides are sequentially consistent atomics: either the holder sees
// the block, or the block's worker sees the grouping free).
func (g *grouping) group() bool {
	grouped := false
	n := uint64(len(g.done))
	for {
		// A hint only (next may have moved on, the block in the slot
		// may be a later one): it is checked again under mu, where the
		// blocks in flight are next, next+1, ... next+n-1, each in its
		// own slot, so the slot of next holds next or nothing. Nothing
		// but the slot is read here: a block grouped meanwhile may be
		// read into again.
		if g.done[g.next.Load()%n].Load() == nil {
			return grouped
		}
		if !g.mu.TryLock() {
			return grouped
		}
		if !grouped {
			pprof.SetGoroutineLabels(g.label)
			grouped = true
		}
		for {
			next := g.next.Load()
			c := g.done[next%n].Load()
			if c == nil {
				break
			}
			g.done[next%n].Store(nil)
			for i := range c.toks {
				g.p.token(c, &c.toks[i])
			}
			g.p.detach()
			g.next.Store(next + 1)
			g.free <- c // never blocks: free holds every block
		}
		g.mu.Unlock()
	}
}

// maxSplitters bounds the workers of a Scan: beyond a few the grouping,
// which must stay one at a time, is the bottleneck anyway.
const maxSplitters = 4

// chunk is a block of whole lines, read by Scan's caller and split by a
// worker (headers, SYSCALL bodies and user-space fields parsed) on its way
// to being grouped.
type chunk struct {
	data  []byte // whole lines (sources.ReadLineBlocks); the input's last may lack its newline
	toks  []token
	heads []sysHead // of every SYSCALL record
	sys   []sysRec  // of the SYSCALL records that are kept (sysHead.full)
	usr   []userVals
	seq   uint64 // its number in read order
}

// splitter is what one worker keeps from block to block.
type splitter struct {
	strs interner
	sys  sysRec // the SYSCALL record being read, copied into the block if kept
}

// token is one line of a chunk: its header, kept small (offsets rather
// than slices) because most lines of the log pass through one. A run
// token stands for consecutive lines that only count or move the log's
// clock (see split).
type token struct {
	line         []byte // without its newline; empty lines count but hold nothing
	sec, msec    int64
	serial       uint64
	body, rawEnd int32 // offsets in line, as in rec
	nodeEnd      int32 // line[len("node="):nodeEnd] is the node name; 0 without one
	sys          int32 // index of the parsed SYSCALL body in chunk.heads, or -1
	usr          int32 // index of the user-space record's decoded fields in chunk.usr, or -1
	// A run's lines, malformed lines among them and records; sec is the
	// newest record's second.
	lines, bad, recs uint32
	kind             recKind
	nt               nameType // of a PATH record
	ok               bool     // the line is an audit record
	run              bool
}

// header rebuilds the line's header in h, which must be zero. It fills
// the caller's header rather than returning one: copying a returned header
// stalls (its wide loads read the narrower stores that built it).
func (t *token) header(h *header) {
	h.sec, h.msec, h.serial = t.sec, t.msec, t.serial
	h.raw, h.body, h.nt = t.line[:t.rawEnd], t.line[t.body:t.rawEnd], t.nt
	if t.nodeEnd > 0 {
		h.node = t.line[len("node="):t.nodeEnd]
	}
	if int(t.rawEnd) < len(t.line) {
		h.enriched = t.line[t.rawEnd+1:]
	}
}

// split cuts data (whole lines) into tokens and parses every line as far
// as it can alone. Consecutive lines that only count or move the clock
// (empty and malformed lines, records of no kind the grouper reads,
// without a node= prefix) become one run token: the grouper's work for
// each is a counter and Parser.expire, and expiring once at the run's
// newest second does what expiring at each did (the clock only moves
// forward, and nothing else happens in between). On the mixed log of
// the README that is 36% of the lines, in runs of 1.3 on average: each
// costs the in-order grouper two counters and a comparison instead of a
// header, a dispatch and an expiry.
//
// Strings the grouper keeps (user-space values) come from strs, the
// splitter's interner, and it compares a SYSCALL's process by a hash
// (sysHead.ident), rather than reading the block: the block's bytes were
// just written on another core, and reading them there again costs a cache
// transfer per line, while an interned string is written once and then
// only read.
func (c *chunk) split(data []byte, story bool, sp *splitter) {
	c.toks, c.heads, c.sys, c.usr = c.toks[:0], c.heads[:0], c.sys[:0], c.usr[:0]
	strs := &sp.strs
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		t := token{line: trimEOL(line), sys: -1, usr: -1}
		// Offsets are int32: a line of 2 GiB or more (never from the
		// recorded-input registry, which caps lines at sources.MaxLine)
		// is malformed.
		if len(t.line) > 0 && len(t.line) <= math.MaxInt32 {
			var h header
			t.ok = parseStamp(t.line, &h)
			if t.ok {
				t.sec, t.msec, t.serial = h.sec, h.msec, h.serial
				if h.node != nil {
					t.nodeEnd = int32(len("node=") + len(h.node))
				}
				t.kind = kindOf(h.typ)
				// A record of no other kind only moves the log's clock
				// (Parser.record): its ENRICHED part is never read.
				if t.kind != rkOther {
					h.splitEnriched(t.line)
				}
				switch t.kind {
				case rkPath:
					t.nt = nameTypeOf(h.body)
				case rkSyscall:
					s := &sp.sys
					s.parse(h.body, story)
					s.ident = identOf(s.comm, s.exe)
					s.full = -1
					if s.keep {
						s.enriched = h.enriched
						s.full = int32(len(c.sys))
						c.sys = append(c.sys, *s)
					}
					c.heads = append(c.heads, s.sysHead)
					t.sys = int32(len(c.heads) - 1)
				case rkUserStart, rkUserLogin, rkLogin, rkCredAcq, rkPAM, rkUserEnd:
					var u userRec
					userFields(h.body, &u)
					if !u.feeds(t.kind, story) {
						t.kind = rkOther // userRecord would return at once
						break
					}
					c.usr = append(c.usr, userVals{})
					u.values(strs, &c.usr[len(c.usr)-1])
					t.usr = int32(len(c.usr) - 1)
				}
				t.rawEnd = int32(len(h.raw))
				t.body = t.rawEnd - int32(len(h.body))
			}
		}
		if len(t.line) > 0 && t.ok && (t.kind != rkOther || t.nodeEnd > 0) {
			c.toks = append(c.toks, t)
			continue
		}
		if n := len(c.toks); n == 0 || !c.toks[n-1].run {
			c.toks = append(c.toks, token{run: true, sys: -1, usr: -1})
		}
		r := &c.toks[len(c.toks)-1]
		r.lines++
		switch {
		case len(t.line) == 0:
		case !t.ok:
			r.bad++
		default:
			r.recs++
			r.sec = max(r.sec, t.sec)
		}
	}
}

// token feeds one prepared line, as Line does with a raw one, or a run.
func (p *Parser) token(c *chunk, t *token) {
	if t.run {
		p.st.Lines += uint64(t.lines)
		p.st.Malformed += uint64(t.bad)
		if t.recs > 0 {
			p.st.Records += uint64(t.recs)
			p.expire(t.sec)
		}
		return
	}
	p.st.Lines++
	var hd *sysHead
	var sys *sysRec
	if t.sys >= 0 {
		hd = &c.heads[t.sys]
		if hd.full >= 0 {
			sys = &c.sys[hd.full]
		}
	}
	var usr *userVals
	if t.usr >= 0 {
		usr = &c.usr[t.usr]
	}
	var h header
	t.header(&h)
	p.record(t.line, &h, t.kind, hd, sys, usr)
}

// readLines feeds every line of r to p; a last line without a newline
// counts too.
func readLines(r io.Reader, p *Parser) error {
	buf := make([]byte, blockSize)
	n := 0 // bytes of an unfinished line kept at the front
	for {
		if n == len(buf) {
			buf = append(buf, make([]byte, len(buf))...) // a line longer than a block
		}
		m, err := r.Read(buf[n:])
		n += m
		b := buf[:n]
		for {
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				break
			}
			p.Line(b[:i])
			b = b[i+1:]
		}
		n = copy(buf, b)
		if err != nil {
			if n > 0 {
				p.Line(buf[:n])
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
