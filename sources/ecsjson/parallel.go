package ecsjson

import (
	"bytes"
	"fmt"
	"io"

	"github.com/xferhunt/xferhunt/sources"
)

// blockSize is how much of the input a worker decodes at once: large
// enough that handing a block over costs nothing per line, small enough
// that the workers start at once and the blocks in flight stay a few MB.
const blockSize = 256 << 10

// block is a run of whole lines and, once decoded, their events.
type block struct {
	data  []byte // whole lines; the input's last may lack its newline
	evs   []sources.Event
	stats sources.Stats
	done  chan struct{}
}

// scanParallel is Scan with workers decoders. One goroutine reads blocks
// of whole lines, the workers decode them (each with its own parser and
// emitter, which share nothing), and the caller emits each block's events
// in input order. A fixed set of blocks circulates, so a slow consumer
// holds the reader back instead of letting blocks pile up.
func scanParallel(r io.Reader, opt sources.ScanOptions, workers int) (sources.Stats, error) {
	nblocks := 2*workers + 2
	free := make(chan *block, nblocks)
	for range nblocks {
		free <- &block{data: make([]byte, 0, blockSize), done: make(chan struct{}, 1)}
	}
	work := make(chan *block, nblocks)
	order := make(chan *block, nblocks)
	quit := make(chan struct{})
	defer close(quit) // the reader stops should the consumer return early
	var readErr error
	go func() {
		defer close(order)
		defer close(work)
		// A read error drops the unfinished line read before it, as
		// the one-worker Scan does.
		readErr = sources.ReadLineBlocks(r, free, quit, func(b *block) *[]byte { return &b.data }, false, func(b *block) {
			order <- b
			work <- b
		})
	}()
	for range workers {
		go decodeBlocks(work, opt)
	}
	var total sources.Stats
	for b := range order {
		<-b.done
		if opt.Emit != nil {
			for _, ev := range b.evs {
				opt.Emit(ev)
			}
		}
		total.Add(b.stats)
		clear(b.evs) // the free block must not keep documents alive
		b.evs, b.stats = b.evs[:0], sources.Stats{}
		free <- b
	}
	// order is closed after ReadLineBlocks returned: readErr is set.
	if readErr != nil {
		return total, fmt.Errorf("read: %w", readErr)
	}
	return total, nil
}

// decodeBlocks is one worker: it decodes the lines of each block into the
// block's events and stats.
func decodeBlocks(work <-chan *block, opt sources.ScanOptions) {
	var cur *block
	d := NewDecoder(Options{HostID: opt.HostID, HostName: opt.HostName, Sparse: opt.Sparse, Emit: func(ev sources.Event) {
		cur.evs = append(cur.evs, ev)
	}})
	for b := range work {
		cur = b
		d.em.stats = sources.Stats{}
		data := b.data
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				d.Line(data) // the input's last line, without a newline
				break
			}
			d.Line(data[:i+1])
			data = data[i+1:]
		}
		b.stats = d.em.stats
		cur = nil
		b.done <- struct{}{}
	}
}
