// Package limitfile reads the small files a responder names on the command
// line (rules, exception lists) with a size cap, so that a mistaken or
// hostile path (/dev/zero, a huge log given as --rule) fails at once with
// one clear line instead of reading until memory runs out. Unlike the
// writes of internal/safefile, these paths are the responder's own choice,
// so symlinks are followed and a pipe (<(…)) is read like a file.
package limitfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrTooLarge matches (errors.Is) a file over its cap.
var ErrTooLarge = errors.New("too large")

// Read returns the content of path when it is at most max bytes; a
// directory or a device is refused without reading, a larger file after
// reading max+1 bytes. Errors do not repeat the path: callers name it.
func Read(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil {
		switch m := fi.Mode(); {
		case m.IsDir():
			return nil, errors.New("is a directory")
		case m&fs.ModeDevice != 0:
			return nil, errors.New("is a device, not a file")
		case m.IsRegular() && fi.Size() > max:
			return nil, fmt.Errorf("%w: %d bytes, the limit is %s", ErrTooLarge, fi.Size(), human(max))
		}
	}
	// The size of a pipe or of a file still growing is known only by
	// reading: read one byte past the cap to tell.
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: over the %s limit", ErrTooLarge, human(max))
	}
	return data, nil
}

func human(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
