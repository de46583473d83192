package auditd

import (
	"bytes"
	"errors"
	"io"
	"runtime"

	"github.com/xferhunt/xferhunt/sources"
)

// ScanRecorded is Scan as the recorded-input registry calls it
// (sources.ScanFunc), for both auditd formats (RAW and ENRICHED).
func ScanRecorded(r io.Reader, o sources.ScanOptions) (sources.Stats, error) {
	return Scan(r, Options{HostID: o.HostID, HostName: o.HostName, Emit: o.Emit, Workers: o.Workers, Story: o.Story})
}

const (
	// blockSize is how much a one-worker Scan reads at once; lines are cut
	// in place.
	blockSize = 1 << 20
	// chunkSize is the read size of a pipelined Scan: small enough that
	// the stages overlap from the start, large enough that handing a
	// chunk over costs nothing per line.
	chunkSize = 256 << 10
	// chunks bounds the blocks in flight between reading and parsing,
	// and so the memory of a pipelined Scan.
	chunks = 4
	// batchSize is how many planned events travel to the builder at once,
	// so the channel costs little per event.
	batchSize = 64
)

// Scan parses a whole auditd log from r, streaming: memory is a few blocks
// plus the bounded tables, whatever the size of the input. With two or more
// workers it runs three stages on their own goroutines, so that both cores
// work: the caller's reads blocks, splits lines and parses their headers
// and SYSCALL bodies; the second groups records into events and keeps the
// attribution tables (the only part that must see every record in order);
// the third turns finished events into documents and emits them, in log
// order.
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

	batches := make(chan []*fileEvent, 8)
	built := make(chan struct{})
	go func() {
		defer close(built)
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

	full := make(chan *chunk, chunks)
	free := make(chan *chunk, chunks)
	for range chunks {
		// Audit lines are rarely shorter than 64 bytes: the token
		// slices seldom grow.
		free <- &chunk{buf: make([]byte, chunkSize), toks: make([]token, 0, chunkSize/64), sys: make([]sysRec, 0, chunkSize/256)}
	}
	parsed := make(chan struct{})
	go func() {
		defer close(parsed)
		batch := make([]*fileEvent, 0, batchSize)
		p.out = func(fe *fileEvent) {
			batch = append(batch, fe)
			if len(batch) == batchSize {
				batches <- batch
				batch = make([]*fileEvent, 0, batchSize)
			}
		}
		p.borrow = true // the chunk stays ours until detach
		for c := range full {
			for i := range c.toks {
				p.token(c, &c.toks[i])
			}
			p.detach()
			free <- c
		}
		p.Flush()
		if len(batch) > 0 {
			batches <- batch
		}
		close(batches)
	}()

	err := readChunks(r, full, free)
	close(full)
	<-parsed
	<-built
	return p.Stats(), err
}

// chunk is a block of whole lines with their headers (and SYSCALL bodies)
// already parsed, on its way from the reading goroutine to the parser.
type chunk struct {
	buf  []byte
	toks []token
	sys  []sysRec
}

// token is one line of a chunk: its header, kept small (offsets rather
// than slices) because every line of the log passes through one.
type token struct {
	line         []byte // without its newline; empty lines count but hold nothing
	sec, msec    int64
	serial       uint64
	body, rawEnd int // offsets in line, as in rec
	nodeEnd      int // line[len("node="):nodeEnd] is the node name; 0 without one
	kind         recKind
	ok           bool  // the line is an audit record
	sys          int32 // index of the parsed SYSCALL body in chunk.sys, or -1
}

// header rebuilds the line's header.
func (t *token) header() header {
	h := header{sec: t.sec, msec: t.msec, serial: t.serial, raw: t.line[:t.rawEnd], body: t.line[t.body:t.rawEnd]}
	if t.nodeEnd > 0 {
		h.node = t.line[len("node="):t.nodeEnd]
	}
	if t.rawEnd < len(t.line) {
		h.enriched = t.line[t.rawEnd+1:]
	}
	return h
}

// split cuts data (whole lines) into tokens.
func (c *chunk) split(data []byte) {
	c.toks, c.sys = c.toks[:0], c.sys[:0]
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		t := token{line: trimEOL(line), sys: -1}
		if len(t.line) > 0 {
			var h header
			h, t.ok = parseHeader(t.line)
			if t.ok {
				t.sec, t.msec, t.serial = h.sec, h.msec, h.serial
				if h.node != nil {
					t.nodeEnd = len("node=") + len(h.node)
				}
				t.rawEnd = len(h.raw)
				t.body = t.rawEnd - len(h.body)
				t.kind = kindOf(h.typ)
				if t.kind == rkSyscall {
					c.sys = append(c.sys, sysRec{})
					c.sys[len(c.sys)-1].parse(h.body)
					t.sys = int32(len(c.sys) - 1)
				}
			}
		}
		c.toks = append(c.toks, t)
	}
}

// token feeds one prepared line, as Line does with a raw one.
func (p *Parser) token(c *chunk, t *token) {
	p.st.Lines++
	if len(t.line) == 0 {
		return
	}
	if !t.ok {
		p.st.Malformed++
		return
	}
	var sys *sysRec
	if t.sys >= 0 {
		sys = &c.sys[t.sys]
	}
	h := t.header()
	p.record(t.line, &h, t.kind, sys)
}

// readChunks reads r into chunks taken from free, cut after their last
// newline (the unfinished line moves to the next chunk), and sends them to
// full once split and at least half full, so that short reads (a pipe)
// still make large chunks; a last line without a newline counts too.
func readChunks(r io.Reader, full chan<- *chunk, free <-chan *chunk) error {
	c := <-free
	n := 0   // bytes read into c.buf
	end := 0 // c.buf[:end] is whole lines
	for {
		if n == len(c.buf) {
			c.buf = append(c.buf, make([]byte, len(c.buf))...) // a line longer than a chunk
		}
		m, err := r.Read(c.buf[n:])
		// Only the new bytes are searched: a long line read in small
		// pieces must not be scanned again and again.
		if i := bytes.LastIndexByte(c.buf[n:n+m], '\n'); i >= 0 {
			end = n + i + 1
		}
		n += m
		if err != nil {
			end = n
		}
		if end > 0 && (err != nil || 2*n >= len(c.buf)) {
			next := <-free
			tail := c.buf[end:n]
			if len(next.buf) < 2*len(tail) {
				next.buf = make([]byte, 2*len(tail))
			}
			c.split(c.buf[:end])
			n, end = copy(next.buf, tail), 0
			full <- c
			c = next
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
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
