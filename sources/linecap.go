package sources

import (
	"bytes"
	"io"
)

// lineCap passes a line-oriented input through, but replaces every line
// longer than max bytes by an empty line and counts it in dropped. It
// holds back the unfinished last line until its newline (or the end)
// shows it fits, so a scanner never sees any part of an over-long line
// (a prefix could parse as a record) and memory stays max plus one read,
// whatever the input.
type lineCap struct {
	capper   // the rule (max, skipping, dropped), shared with ReadLineBlocks
	r        io.Reader
	buf      []byte
	off      int // buf[off:ready] is whole lines not yet returned
	ready    int // buf[ready:n] is the unfinished line
	n        int
	readSize int // at most max
	eof      bool
	err      error // the underlying reader's error other than io.EOF
}

// capReadSize is how much lineCap reads at once beyond the held line.
const capReadSize = 256 << 10

func newLineCap(r io.Reader, max int) *lineCap {
	return &lineCap{capper: capper{max: max}, r: r, readSize: min(capReadSize, max)}
}

// fresh reports that nothing was read through c yet, so a reader of
// blocks (ReadLineBlocks) may read c.r itself and cap the lines in its
// own buffer.
func (c *lineCap) fresh() bool { return c.buf == nil && !c.eof }

// Read returns whole lines (and at the end the last line without a
// newline) of at most max bytes each.
func (c *lineCap) Read(p []byte) (int, error) {
	if c.buf == nil && !c.eof {
		// Made at the first read, not before: ReadLineBlocks never
		// needs it.
		c.buf = make([]byte, c.max+c.readSize)
	}
	for {
		if c.off < c.ready {
			k := copy(p, c.buf[c.off:c.ready])
			c.off += k
			return k, nil
		}
		if c.eof {
			if c.n > c.ready && !c.skipping {
				c.ready = c.n // the last line, without a newline, fits
				continue
			}
			if c.err != nil {
				return 0, c.err
			}
			return 0, io.EOF
		}
		// Move the unfinished line to the front, then read after it.
		c.n = copy(c.buf, c.buf[c.ready:c.n])
		c.off, c.ready = 0, 0
		m, err := c.r.Read(c.buf[c.n : c.n+c.readSize])
		if err != nil {
			c.eof = true
			if err != io.EOF {
				c.err = err
			}
		}
		c.take(m)
	}
}

// take accounts for m bytes just read at buf[n:], by capper's rule.
func (c *lineCap) take(m int) {
	start, m := c.capper.take(c.buf, c.ready, c.n, m)
	c.n = start + m
	if i := bytes.LastIndexByte(c.buf[start:c.n], '\n'); i >= 0 {
		c.ready = start + i + 1
	}
}
