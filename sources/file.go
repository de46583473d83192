package sources

import (
	"bufio"
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
		fi, err := os.Stat(path)
		if err != nil {
			return Stats{}, fmt.Errorf("%s: %w: %w", path, ErrUnreadable, unwrapPathErr(err))
		}
		if fi.IsDir() {
			return Stats{}, fmt.Errorf("%s: %w", path, ErrIsDirectory)
		}
		f, err := os.Open(path)
		if err != nil {
			return Stats{}, fmt.Errorf("%s: %w: %w", path, ErrUnreadable, unwrapPathErr(err))
		}
		defer f.Close()
		r = f
	}
	br := bufio.NewReaderSize(r, SniffHeadSize)
	head, err := br.Peek(SniffHeadSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return Stats{}, fmt.Errorf("%s: %w: %w", name, ErrUnreadable, err)
	}
	if len(head) == 0 {
		return Stats{}, nil // an empty file holds no events; not an error
	}
	if isBinary(head) {
		return Stats{}, fmt.Errorf("%s: %w", name, ErrBinary)
	}
	format, err := Sniff(head)
	if err != nil {
		return Stats{}, fmt.Errorf("%s: %w", name, err)
	}
	scan, ok := scanners[format]
	if !ok {
		return Stats{}, fmt.Errorf("%s: %s: %w", name, format, ErrNoScanner)
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
