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
func ReadLineBlocks[B any](r io.Reader, free <-chan B, quit <-chan struct{}, data func(B) *[]byte, keepPartial bool, send func(B)) error {
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
			n, err := r.Read(buf[len(buf):cap(buf)])
			// Only the new bytes are searched: a long line read in small
			// pieces must not be scanned again and again.
			if i := bytes.LastIndexByte(buf[len(buf):len(buf)+n], '\n'); i >= 0 {
				end = len(buf) + i + 1
			}
			buf = buf[:len(buf)+n]
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
