package limitfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("ok"), 0o600)
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, 11), 0o600)
	if b, err := Read(small, 10); err != nil || string(b) != "ok" {
		t.Fatalf("small: %q %v", b, err)
	}
	if _, err := Read(big, 10); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("big: %v", err)
	}
	start := time.Now()
	for path, want := range map[string]string{"/dev/zero": "device", dir: "directory", filepath.Join(dir, "none"): "no such file"} {
		if _, err := Read(path, 1<<20); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v, want %q", path, err, want)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("refusals took %v", d)
	}
}

// TestReadPipeCapped: a pipe has no size until read; one byte past the
// cap is enough to refuse it.
func TestReadPipeCapped(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		for range 1 << 10 { // 1 MiB, until the reader stops
			if _, err := f.Write(make([]byte, 1<<10)); err != nil {
				return
			}
		}
	}()
	if _, err := Read(fifo, 4<<10); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("pipe over the cap: %v", err)
	}
}
