package auditbeat

import (
	"bufio"
	"fmt"
	"io"

	"github.com/xferhunt/xferhunt/sources"
)

// Scan reads a recorded stream of Auditbeat documents only to its end. The
// scan command reads NDJSON with ecsjson.Scan instead, which routes each
// document by its own shape: a file that opens with an Auditbeat document
// may hold ECS documents further down.
func Scan(r io.Reader, opt sources.ScanOptions) (sources.Stats, error) {
	d := NewDecoder(Options{HostID: opt.HostID, HostName: opt.HostName, Emit: opt.Emit})
	if err := eachLine(r, d.Line); err != nil {
		return d.Stats(), err
	}
	return d.Stats(), nil
}

// eachLine calls fn for every line of r, however long.
func eachLine(r io.Reader, fn func([]byte)) error {
	br := bufio.NewReaderSize(r, 256<<10)
	var long []byte
	for {
		chunk, err := br.ReadSlice('\n')
		switch err {
		case nil:
			if long != nil {
				fn(append(long, chunk...))
				long = nil
			} else {
				fn(chunk)
			}
		case bufio.ErrBufferFull:
			long = append(long, chunk...)
		case io.EOF:
			if len(long)+len(chunk) > 0 {
				fn(append(long, chunk...))
			}
			return nil
		default:
			return fmt.Errorf("read: %w", err)
		}
	}
}
