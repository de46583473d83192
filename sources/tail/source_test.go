package tail

import (
	"context"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/xferhunt/xferhunt/sources"
)

// lineDecoder records the lines a ReaderSource hands it.
type lineDecoder struct {
	mu    sync.Mutex
	lines []string
}

func (d *lineDecoder) Line(b []byte) {
	d.mu.Lock()
	d.lines = append(d.lines, string(b))
	d.mu.Unlock()
}

func (d *lineDecoder) Flush() {}

// endless reads as an endless run of 'A' without a newline.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'A'
	}
	return len(p), nil
}

// TestReaderSourceCapsLines: `--source -` kept a line without a newline
// in memory however long (issue 9 item 7). A line over DefaultMaxLine is
// counted as malformed and skipped, the lines around it still arrive, and
// reading 256 MiB of it allocates a bounded amount.
func TestReaderSourceCapsLines(t *testing.T) {
	const long = 256 << 20
	in := io.MultiReader(strings.NewReader("before\n"), io.LimitReader(endless{}, long), strings.NewReader("\nafter\n"))
	dec := &lineDecoder{}
	src := NewReaderSource("stdin", in, func(func(sources.Event)) Decoder { return dec })
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := src.Run(context.Background(), func([]sources.Event) {}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got := strings.Join(dec.lines, "|"); got != "before|after" {
		sizes := make([]int, len(dec.lines))
		for i, l := range dec.lines {
			sizes[i] = len(l)
		}
		t.Fatalf("%d lines of %v bytes, want before|after", len(sizes), sizes)
	}
	if h := src.Health(); h.Malformed != 1 {
		t.Fatalf("malformed %d, want the one over-long line", h.Malformed)
	}
	// Growing the held line up to the cap costs about twice the cap;
	// without it, reading the line cost more than the line.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*DefaultMaxLine {
		t.Fatalf("allocated %d MiB reading a %d MiB line", alloc>>20, long>>20)
	}
}
