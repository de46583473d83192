package sources

import (
	"bytes"
	"errors"
	"io"
	"slices"
)

// ReadLineBlocks is the reading half of a parallel line parser (the auditd
// text scan, the NDJSON decode): it fills blocks with whole lines, which
// workers can then parse in any order while the consumer takes them back in
// read order. A fixed set of blocks circulates through free, so a slow
// consumer holds the reader back instead of letting blocks pile up.
//
// It takes a block from free, reads into its buffer (*data(b): the length is
// what it holds, the capacity the room; a line longer than the room grows
// it), and hands it to send cut after its last newline once it is at least
// half full, so that short reads (a pipe) still make large blocks; the
// unfinished line moves to the next block. At the end of the input the last
// line counts even without a newline. When a read fails, the whole lines
// before it are sent and the error returned; keepPartial says whether the
// unfinished line read before the error goes with them (a text record is
// parsed as far as it goes) or is dropped (a cut JSON document is none).
// quit, which may be nil, stops the reading before the next block when the
// consumer returns early.
//
// An r that caps its lines (Input.Scan's lineCap) and was not read yet is
// read underneath, and its cap enforced in the blocks themselves, exactly
// as lineCap does: every byte of the input was copied once more through
// lineCap's own buffer, ~5% of a scan's CPU, and that buffer (1.25 MiB)
// was fresh pages too.
func ReadLineBlocks[B any](r io.Reader, free <-chan B, quit <-chan struct{}, data func(B) *[]byte, keepPartial bool, send func(B)) error {
	var lc capper
	if c, ok := r.(*lineCap); ok && c.fresh() {
		r, lc.max = c.r, c.max
		defer func() { c.dropped += lc.dropped }()
		c.eof = true // its bytes are read here, not by its Read
	}
	var carry []byte // the unfinished line of the block sent last
	for {
		var b B
		select {
		case b = <-free:
		case <-quit:
			return nil
		}
		p := data(b)
		buf := append((*p)[:0], carry...)
		carry = carry[:0]
		end := 0 // buf[:end] is whole lines (carry holds no newline)
		for {
			if len(buf) == cap(buf) {
				buf = slices.Grow(buf, max(cap(buf), 4096)) // a line longer than the block
			}
			room := buf[len(buf):cap(buf)]
			if lc.max > 0 && len(room) > lc.max {
				room = room[:lc.max] // see capper.take
			}
			start := len(buf)
			n, err := r.Read(room)
			if lc.max > 0 {
				start, n = lc.take(buf[:cap(buf)], end, start, n)
			}
			// Only the new bytes are searched: a long line read in small
			// pieces must not be scanned again and again.
			if i := bytes.LastIndexByte(buf[start:start+n], '\n'); i >= 0 {
				end = start + i + 1
			}
			buf = buf[:start+n]
			if err != nil {
				eof := errors.Is(err, io.EOF)
				if eof || keepPartial {
					end = len(buf)
				}
				*p = buf[:end]
				if end > 0 {
					send(b)
				}
				if eof {
					return nil
				}
				return err
			}
			if end > 0 && 2*len(buf) >= cap(buf) {
				carry = append(carry, buf[end:]...)
				*p = buf[:end]
				break
			}
		}
		send(b)
	}
}

// capper is the line cap's rule, applied by lineCap in its own buffer and
// by ReadLineBlocks in its blocks: a line longer than max bytes becomes an
// empty line (its newline kept; none at the end of the input) and is
// counted in dropped, and no part of it is ever in a block (a prefix could
// parse as a record). max 0: no cap.
type capper struct {
	max      int
	skipping bool // inside an over-long line: discard up to its newline
	dropped  uint64
}

// take accounts for n bytes just read at buf[start:], buf[line:start]
// being the unfinished line before them, and returns where the bytes
// kept start and how many there are. A read is never longer than max, so
// only the line unfinished before it can be too long among the lines it
// completes; and it cannot be unless it and the read together are longer
// than max, which is seldom (a block is smaller than max), so most reads
// cost nothing here.
func (c *capper) take(buf []byte, line, start, n int) (int, int) {
	if !c.skipping && start+n-line <= c.max {
		return start, n // no line in reach is longer than max
	}
	if c.skipping {
		i := bytes.IndexByte(buf[start:start+n], '\n')
		if i < 0 {
			return start, 0 // still inside the over-long line: drop it all
		}
		// Keep from its newline on: the dropped line reads as empty, so
		// line counts stay true.
		n = copy(buf[start:], buf[start+i:start+n])
		c.skipping = false
	} else if i := bytes.IndexByte(buf[start:start+n], '\n'); i >= 0 && start+i-line > c.max {
		// The unfinished line ends here, too long: the same, at once.
		n = copy(buf[line:], buf[start+i:start+n])
		start = line
		c.dropped++
	}
	if i := bytes.LastIndexByte(buf[start:start+n], '\n'); i >= 0 {
		line = start + i + 1
	}
	if start+n-line > c.max {
		// The unfinished line is already too long: drop all it holds,
		// the part in earlier reads too.
		c.dropped++
		c.skipping = true
		if line < start {
			return line, 0
		}
		return start, line - start
	}
	return start, n
}
