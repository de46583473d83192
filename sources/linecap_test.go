package sources

import (
	"bytes"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

// capOracle is what lineCap must produce: every line longer than max
// replaced by an empty one (its newline kept), the rest unchanged.
func capOracle(in []byte, max int) ([]byte, uint64) {
	lines := bytes.Split(in, []byte("\n"))
	var dropped uint64
	for i, l := range lines {
		if len(l) > max {
			lines[i] = nil
			dropped++
		}
	}
	return bytes.Join(lines, []byte("\n")), dropped
}

// capInputs are lines short and long, with and without a newline at the
// end: fixed cases, then random ones.
func capInputs() []string {
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := []string{"", "a", "a\n", "\n\n", "12345678\n123456789\nok", "123456789", "x\n1234567890123456789012\ny\n"}
	for range 300 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(strings.Repeat("z", rng.IntN(30)))
			if rng.IntN(5) > 0 {
				b.WriteByte('\n')
			}
		}
		inputs = append(inputs, b.String())
	}
	return inputs
}

func TestLineCapMatchesOracle(t *testing.T) {
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
	}
	for name, wrap := range readers {
		for _, in := range capInputs() {
			for _, max := range []int{1, 8, 16} {
				lc := newLineCap(wrap(strings.NewReader(in)), max)
				got, err := io.ReadAll(lc)
				want, dropped := capOracle([]byte(in), max)
				if err != nil || !bytes.Equal(got, want) || lc.dropped != dropped {
					t.Fatalf("%s, max %d, %q: got %q (%d dropped, %v), want %q (%d)", name, max, in, got, lc.dropped, err, want, dropped)
				}
			}
		}
	}
}

// TestLineCapBoundedMemory: an endless line costs the cap and one read,
// never more, and reads to the end.
func TestLineCapBoundedMemory(t *testing.T) {
	const size = 64 << 20
	src := io.MultiReader(strings.NewReader("first\n"), io.LimitReader(zeroes{}, size), strings.NewReader("\nlast\n"))
	lc := newLineCap(src, 1<<10)
	got, err := io.ReadAll(lc)
	if err != nil || string(got) != "first\n\nlast\n" || lc.dropped != 1 {
		t.Fatalf("%q, %d dropped, %v", got, lc.dropped, err)
	}
	if cap(lc.buf) > 2<<10 {
		t.Fatalf("buffer grew to %d bytes", cap(lc.buf))
	}
}

type zeroes struct{}

func (zeroes) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestLineCapKeepsReadError: a failing reader's error reaches the scanner
// after the whole lines before it.
func TestLineCapKeepsReadError(t *testing.T) {
	lc := newLineCap(io.MultiReader(strings.NewReader("a\nb"), iotest.ErrReader(io.ErrUnexpectedEOF)), 8)
	got, err := io.ReadAll(lc)
	if string(got) != "a\nb" || err != io.ErrUnexpectedEOF {
		t.Fatalf("%q, %v", got, err)
	}
}
