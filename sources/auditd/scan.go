package auditd

import (
	"bytes"
	"errors"
	"io"
	"runtime"

	"github.com/xferhunt/xferhunt/sources"
)

func init() {
	fn := func(r io.Reader, o sources.ScanOptions) (sources.Stats, error) {
		return Scan(r, Options{HostID: o.HostID, HostName: o.HostName, Emit: o.Emit, Workers: o.Workers})
	}
	sources.RegisterScanner(sources.AuditdRaw, fn)
	sources.RegisterScanner(sources.AuditdEnriched, fn)
}

const (
	// blockSize is how much Scan reads at once; lines are cut in place.
	blockSize = 1 << 20
	// batchSize is how many planned events travel to the builder at once,
	// so the channel costs little per event.
	batchSize = 64
)

// Scan parses a whole auditd log from r, streaming: memory is one block
// plus the bounded tables, whatever the size of the input. With two or more
// workers, the caller's goroutine reads and parses while a second one turns
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
	batches := make(chan []*fileEvent, 8)
	done := make(chan struct{})
	go func() {
		defer close(done)
		bx := newBoxes()
		for b := range batches {
			for _, fe := range b {
				if opt.Emit != nil {
					opt.Emit(sources.Event{Doc: fe.doc(bx), Key: fe.key})
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
	err := readLines(r, p)
	p.Flush()
	if len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	<-done
	return p.Stats(), err
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
