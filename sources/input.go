package sources

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	// Inflates about a third faster than compress/gzip, with the same
	// API, errors and multi-member handling: a rotated .gz log scans at
	// the speed of its decompression.
	"github.com/klauspost/compress/gzip"
)

// Errors the input reader wraps, so callers can tell unusable input (exit
// 2) from failures while reading.
var (
	ErrUnreadable  = errors.New("cannot read input")
	ErrIsDirectory = errors.New("is a directory")
	ErrIsDevice    = errors.New("is a device, not a recorded log")
	ErrBinary      = errors.New("binary data, not a text log")
	ErrNoScanner   = errors.New("no reader for this format")
)

// MaxLine caps one line of a line-oriented input. A longer line is counted
// as malformed and skipped, so one line without a newline (a 10 GiB
// gzip bomb, a sparse file) cannot grow memory without limit. It is four
// times the longest real audit record the tailer allows for, and far above
// any ECS document a line holds.
const MaxLine = 1 << 20

// Input is one recorded input, opened once and checked before any is
// scanned: its type (a regular file, or a stream — stdin, a pipe, a FIFO,
// a socket — that can be read only once), its compression and its format.
// A stream keeps the head read to decide its format and is scanned from
// there, so nothing it held is lost; a regular file is read again from its
// start, so checking many files holds no buffers.
type Input struct {
	name   string
	f      *os.File
	own    bool // f is ours to close (not stdin)
	stream bool
	br     *bufio.Reader // the prepared reader of a stream, kept
	format Format        // Unknown: the input is empty
	fs     *Formats      // the registry that recognised it
}

// OpenInput opens path ("-" for stdin) and checks it is a recorded input
// the scanners can read: not missing, not a directory or a device, text
// and of a known format. Every error is one line naming path and wraps one
// of the errors above or ErrUnknownFormat.
func (fs *Formats) OpenInput(path string) (*Input, error) {
	in := &Input{name: path, fs: fs}
	if path == "-" {
		in.name, in.f = "stdin", os.Stdin
	} else {
		// Stat first: opening a FIFO blocks until a writer comes, so what
		// is refused must be refused before the open.
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %w", path, ErrUnreadable, unwrapPathErr(err))
		}
		if err := checkType(path, fi.Mode()); err != nil {
			return nil, err
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %w", path, ErrUnreadable, unwrapPathErr(err))
		}
		in.f, in.own = f, true
	}
	// The open file decides, not the path: it may have been swapped.
	fi, err := in.f.Stat()
	if err != nil {
		in.Close()
		return nil, fmt.Errorf("%s: %w: %w", in.name, ErrUnreadable, unwrapPathErr(err))
	}
	if in.own {
		if err := checkType(path, fi.Mode()); err != nil {
			in.Close()
			return nil, err
		}
	}
	in.stream = !fi.Mode().IsRegular()
	br, format, err := fs.prepare(in.f, in.name)
	if err != nil {
		in.Close()
		return nil, err
	}
	in.format = format
	if in.stream {
		in.br = br
	}
	return in, nil
}

// checkType refuses what cannot be a recorded log: a directory, or a
// device (/dev/zero would be read forever, a terminal would wait).
func checkType(path string, m fs.FileMode) error {
	switch {
	case m.IsDir():
		return fmt.Errorf("%s: %w", path, ErrIsDirectory)
	case m&fs.ModeDevice != 0:
		return fmt.Errorf("%s: %w", path, ErrIsDevice)
	}
	return nil
}

// Name is the input as messages name it ("stdin" for "-").
func (in *Input) Name() string { return in.name }

// Scan reads the input to its end through its format's scanner, lines
// capped at MaxLine (counted as malformed). When reading fails part way
// (a truncated gzip, an I/O error), the events before the failure have
// been emitted and the error says so; Stats counts what was read.
func (in *Input) Scan(opt ScanOptions) (Stats, error) {
	br := in.br
	if !in.stream {
		// Read again from the start: the check only peeked.
		if _, err := in.f.Seek(0, io.SeekStart); err != nil {
			return Stats{}, fmt.Errorf("%s: %w: %w", in.name, ErrUnreadable, unwrapPathErr(err))
		}
		var err error
		if br, in.format, err = in.fs.prepare(in.f, in.name); err != nil {
			return Stats{}, err
		}
	}
	in.br = nil // a stream is read once
	if in.format == Unknown {
		return Stats{}, nil // empty
	}
	var r io.Reader = br
	var lc *lineCap
	if in.format != JSONDocuments {
		// Line formats only: JSON documents may span lines or share one
		// (a whole _search response), so a line says nothing of their size.
		lc = newLineCap(br, MaxLine)
		r = lc
	}
	st, err := in.fs.scanners[in.format](r, opt)
	if lc != nil {
		st.Malformed += lc.dropped
		if err == nil {
			err = lc.err
		}
	}
	if err != nil {
		return st, fmt.Errorf("%s: %w", in.name, err)
	}
	return st, nil
}

// Close releases the input (stdin stays open).
func (in *Input) Close() error {
	if in.own && in.f != nil {
		return in.f.Close()
	}
	return nil
}

// ScanFile opens, checks and scans one recorded input (stdin for "-").
func (fs *Formats) ScanFile(path string, opt ScanOptions) (Stats, error) {
	in, err := fs.OpenInput(path)
	if err != nil {
		return Stats{}, err
	}
	defer in.Close()
	return in.Scan(opt)
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
// and decides its format, which has a scanner. Unknown with a nil error is
// an empty input.
func (fs *Formats) prepare(r io.Reader, name string) (*bufio.Reader, Format, error) {
	br := bufio.NewReaderSize(r, SniffHeadSize)
	if magic, _ := br.Peek(len(gzipMagic)); bytes.Equal(magic, gzipMagic) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, Unknown, fmt.Errorf("%s: %w: gzip: %w", name, ErrUnreadable, err)
		}
		br = bufio.NewReaderSize(gzipErrors{gz}, SniffHeadSize)
	}
	head, err := br.Peek(SniffHeadSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, Unknown, fmt.Errorf("%s: %w: %w", name, ErrUnreadable, err)
	}
	if len(head) == 0 {
		return br, Unknown, nil // an empty file holds no events; not an error
	}
	if isBinary(head) {
		return nil, Unknown, fmt.Errorf("%s: %w", name, ErrBinary)
	}
	format, err := fs.Sniff(head)
	if err != nil {
		return nil, Unknown, fmt.Errorf("%s: %w", name, err)
	}
	if _, ok := fs.scanners[format]; !ok {
		return nil, Unknown, fmt.Errorf("%s: %s: %w", name, format, ErrNoScanner)
	}
	return br, format, nil
}

// gzipErrors says "gzip" in the errors of a damaged stream (a bare
// "unexpected EOF" does not tell a truncated archive from a short read).
type gzipErrors struct{ r io.Reader }

func (g gzipErrors) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("gzip: %w", err)
	}
	return n, err
}
