package sources

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// CheckInput tells, without consuming it, whether path is a recorded input
// that ScanFile can read: it exists, is a regular readable file, is text,
// and its format has a reader. Callers check every path first so that a
// typo in the last one fails before the first one is scanned. Stdin ("-")
// cannot be peeked without consuming it and always passes.
func CheckInput(path string) error {
	if path == "-" {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", path, ErrUnreadable, unwrapPathErr(err))
	}
	if fi.IsDir() {
		return fmt.Errorf("%s: %w", path, ErrIsDirectory)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", path, ErrUnreadable, unwrapPathErr(err))
	}
	defer f.Close()
	head := make([]byte, SniffHeadSize)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: %w: %w", path, ErrUnreadable, err)
	}
	head = head[:n]
	if len(head) == 0 {
		return nil
	}
	if isBinary(head) {
		return fmt.Errorf("%s: %w", path, ErrBinary)
	}
	format, err := Sniff(head)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if _, ok := scanners[format]; !ok {
		return fmt.Errorf("%s: %s: %w", path, format, ErrNoScanner)
	}
	return nil
}
