package sources

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Stats counts what a recorded-file scan saw.
type Stats struct {
	Lines     uint64 // input lines read
	Records   uint64 // audit records recognised (or documents, for NDJSON)
	Events    uint64 // normalized file events emitted
	Malformed uint64 // lines that could not be parsed, skipped
	Gaps      uint64 // records that arrived after their event was finished (reassembly gaps)
}

// Add sums counters, for a summary over several files.
func (s *Stats) Add(o Stats) {
	s.Lines += o.Lines
	s.Records += o.Records
	s.Events += o.Events
	s.Malformed += o.Malformed
	s.Gaps += o.Gaps
}

// ScanOptions configures ScanFile.
type ScanOptions struct {
	HostID, HostName string
	// Emit receives each normalized event in input order.
	Emit func(ev Event)
	// Workers bounds the goroutines a scanner may use (0 = GOMAXPROCS).
	Workers int
}

// ScanFunc reads one recorded input of a given format to its end.
type ScanFunc func(r io.Reader, opt ScanOptions) (Stats, error)

var scanners = map[Format]ScanFunc{}

// RegisterScanner makes ScanFile able to read format f. Format packages
// call it from init (sources/auditd does for the auditd formats), so the
// program must import them; sources itself cannot, they import it.
func RegisterScanner(f Format, fn ScanFunc) { scanners[f] = fn }

// Errors ScanFile wraps, so callers can tell unusable input (exit 2) from
// failures while reading.
var (
	ErrUnreadable  = errors.New("cannot read input")
	ErrIsDirectory = errors.New("is a directory")
	ErrBinary      = errors.New("binary data, not a text log")
	ErrNoScanner   = errors.New("no reader for this format")
)

// ScanFile hunts through one recorded file (or stdin for "-"): it rejects
// what is not a readable text file, detects the format from the head and
// hands the stream to that format's scanner.
func ScanFile(path string, opt ScanOptions) (Stats, error) {
	var r io.Reader
	name := path
	if path == "-" {
		r, name = os.Stdin, "stdin"
	} else {
		f, err := openPath(path)
		if err != nil {
			return Stats{}, err
		}
		defer f.Close()
		r = f
	}
	br, scan, err := prepare(r, name)
	if err != nil || scan == nil {
		return Stats{}, err
	}
	st, err := scan(br, opt)
	if err != nil {
		return st, fmt.Errorf("%s: %w", name, err)
	}
	return st, nil
}

// unwrapPathErr drops the *fs.PathError wrapper, whose text repeats the path.
func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// isBinary reports a head that is mostly NUL or control bytes. Text logs
// may hold a stray NUL or an ENRICHED 0x1D, so only a share above 10%
// counts.
func isBinary(head []byte) bool {
	bad := 0
	for _, c := range head {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != 0x1d {
			bad++
		}
	}
	return bad*10 > len(head)
}

// gzipMagic starts every gzip stream: rotated logs are often compressed.
var gzipMagic = []byte{0x1f, 0x8b}

// prepare reads the head of an input, decompressing gzip transparently,
// and finds the scanner for its format. A nil scanner with a nil error is
// an empty input.
func prepare(r io.Reader, name string) (*bufio.Reader, ScanFunc, error) {
	br := bufio.NewReaderSize(r, SniffHeadSize)
	if magic, _ := br.Peek(len(gzipMagic)); bytes.Equal(magic, gzipMagic) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w: gzip: %w", name, ErrUnreadable, err)
		}
		br = bufio.NewReaderSize(gz, SniffHeadSize)
	}
	head, err := br.Peek(SniffHeadSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, nil, fmt.Errorf("%s: %w: %w", name, ErrUnreadable, err)
	}
	if len(head) == 0 {
		return br, nil, nil // an empty file holds no events; not an error
	}
	if isBinary(head) {
		return nil, nil, fmt.Errorf("%s: %w", name, ErrBinary)
	}
	format, err := Sniff(head)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	scan, ok := scanners[format]
	if !ok {
		return nil, nil, fmt.Errorf("%s: %s: %w", name, format, ErrNoScanner)
	}
	return br, scan, nil
}

// openPath opens a recorded input, refusing what is missing, unreadable or
// a directory with an error naming the path.
func openPath(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", path, ErrUnreadable, unwrapPathErr(err))
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s: %w", path, ErrIsDirectory)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", path, ErrUnreadable, unwrapPathErr(err))
	}
	return f, nil
}
