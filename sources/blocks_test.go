package sources

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll runs ReadLineBlocks with three blocks of room bytes and returns
// the blocks it sent, in order. Each goes back to free at once, as a
// consumer done with it would return it.
func readAll(t *testing.T, r io.Reader, room int, keepPartial bool) ([]string, error) {
	t.Helper()
	type blk struct{ data []byte }
	free := make(chan *blk, 3)
	for range 3 {
		free <- &blk{data: make([]byte, 0, room)}
	}
	var got []string
	err := ReadLineBlocks(r, free, nil, func(b *blk) *[]byte { return &b.data }, keepPartial, func(b *blk) {
		got = append(got, string(b.data))
		free <- b
	})
	return got, err
}

// TestReadLineBlocks: whatever the reads return, the blocks hold the input
// in order, each cut after a newline but the input's last, lines longer than
// a block included; short reads still make blocks at least half full.
func TestReadLineBlocks(t *testing.T) {
	var in strings.Builder
	for i := range 200 {
		in.WriteString(strings.Repeat("x", i%23))
		if i == 77 {
			in.WriteString(strings.Repeat("long", 50)) // 200+ bytes: longer than a block
		}
		in.WriteString("\r\n")
	}
	in.WriteString("last line without a newline")
	for name, wrap := range map[string]func(io.Reader) io.Reader{
		"whole":   func(r io.Reader) io.Reader { return r },
		"onebyte": iotest.OneByteReader,
		"half":    iotest.HalfReader,
		"dataerr": iotest.DataErrReader,
	} {
		for _, keep := range []bool{false, true} {
			got, err := readAll(t, wrap(strings.NewReader(in.String())), 64, keep)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if strings.Join(got, "") != in.String() {
				t.Fatalf("%s: blocks do not add up to the input", name)
			}
			if len(got) < 8 { // ~2.5 KB in blocks of 64 bytes (one grown)
				t.Errorf("%s: %d blocks", name, len(got))
			}
			for i, b := range got {
				if i < len(got)-1 && (!strings.HasSuffix(b, "\n") || len(b) < 64/2-24) {
					t.Errorf("%s: block %d of %d is %q", name, i, len(got), b)
				}
			}
		}
	}
}

// TestReadLineBlocksError: a read error sends the whole lines read before
// it and returns the error; the unfinished line goes with them only when
// asked (keepPartial), even at a block's start.
func TestReadLineBlocksError(t *testing.T) {
	boom := errors.New("disk gone")
	for _, c := range []struct {
		in         string
		keep, drop string
	}{
		{"a\nbb\ncc", "a\nbb\ncc", "a\nbb\n"},
		{"a\nbb\n", "a\nbb\n", "a\nbb\n"},
		{"cut", "cut", ""},
		{"", "", ""},
		{strings.Repeat("0123456789\n", 20) + "tail", strings.Repeat("0123456789\n", 20) + "tail", strings.Repeat("0123456789\n", 20)},
	} {
		for _, keep := range []bool{true, false} {
			r := io.MultiReader(iotest.OneByteReader(strings.NewReader(c.in)), iotest.ErrReader(boom))
			got, err := readAll(t, r, 64, keep)
			want := c.drop
			if keep {
				want = c.keep
			}
			if !errors.Is(err, boom) || strings.Join(got, "") != want {
				t.Errorf("%q keep=%v: %q, %v; want %q", c.in, keep, got, err, want)
			}
			for _, b := range got {
				if b == "" {
					t.Errorf("%q keep=%v: an empty block was sent", c.in, keep)
				}
			}
		}
	}
}

// TestReadLineBlocksQuit: a consumer that returns early (quit closed, its
// blocks never given back) stops the reader instead of leaving it waiting
// for a free block forever.
func TestReadLineBlocksQuit(t *testing.T) {
	type blk struct{ data []byte }
	free := make(chan *blk, 1)
	free <- &blk{data: make([]byte, 0, 64)}
	quit := make(chan struct{})
	sent := 0
	endless := io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("line\n"), 1000)), iotest.ErrReader(errors.New("read past the test")))
	err := ReadLineBlocks(endless, free, quit, func(b *blk) *[]byte { return &b.data }, false, func(*blk) {
		sent++
		close(quit) // the consumer is gone and keeps the block
	})
	if err != nil || sent != 1 {
		t.Errorf("%d blocks sent, %v", sent, err)
	}
}

// TestReadLineBlocksCapsLines: over a fresh lineCap, ReadLineBlocks
// reads the input underneath and caps the lines itself, with lineCap's
// result (capOracle): every line longer than the cap empty, its newline
// kept, and counted in the lineCap's dropped; whatever the reads return,
// and blocks smaller or larger than the cap. The lineCap's own buffer is
// never made: its bytes are not copied once more.
func TestReadLineBlocksCapsLines(t *testing.T) {
	for name, wrap := range map[string]func(io.Reader) io.Reader{
		"whole":   func(r io.Reader) io.Reader { return r },
		"onebyte": iotest.OneByteReader,
		"half":    iotest.HalfReader,
		"dataerr": iotest.DataErrReader,
	} {
		for _, in := range capInputs() {
			for _, max := range []int{1, 8, 16} {
				for _, room := range []int{4, 16, 64} {
					lc := newLineCap(wrap(strings.NewReader(in)), max)
					got, err := readAll(t, lc, room, true)
					want, dropped := capOracle([]byte(in), max)
					if err != nil || strings.Join(got, "") != string(want) || lc.dropped != dropped {
						t.Fatalf("%s, max %d, room %d, %q: got %q (%d dropped, %v), want %q (%d)", name, max, room, in, got, lc.dropped, err, want, dropped)
					}
					if lc.buf != nil {
						t.Fatalf("%s, max %d, room %d, %q: the lineCap's buffer was made", name, max, room, in)
					}
				}
			}
		}
	}
}

// TestReadLineBlocksCapReadError: a read error inside an over-long line
// drops the line even when the unfinished line is kept (keepPartial); a
// short unfinished line is kept as without a cap.
func TestReadLineBlocksCapReadError(t *testing.T) {
	boom := errors.New("disk gone")
	for _, c := range []struct {
		in, want string
		dropped  uint64
	}{
		{"a\n" + strings.Repeat("z", 20), "a\n", 1},
		{"a\nbb", "a\nbb", 0},
		{strings.Repeat("z", 20) + "\nb", "\nb", 1},
	} {
		lc := newLineCap(io.MultiReader(iotest.HalfReader(strings.NewReader(c.in)), iotest.ErrReader(boom)), 8)
		got, err := readAll(t, lc, 16, true)
		if !errors.Is(err, boom) || strings.Join(got, "") != c.want || lc.dropped != c.dropped {
			t.Errorf("%q: %q (%d dropped), %v; want %q (%d)", c.in, got, lc.dropped, err, c.want, c.dropped)
		}
	}
}

// TestReadLineBlocksCapBounded: a 2 GiB line (past int32 offsets) in a
// stream with the real cap costs blocks of at most twice the cap, is one
// empty line counted dropped, and the lines around it come through.
func TestReadLineBlocksCapBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 2 GiB")
	}
	const size = 2<<30 + 1
	src := io.MultiReader(strings.NewReader("first\n"), io.LimitReader(zeroes{}, size), strings.NewReader("\nlast"))
	lc := newLineCap(src, MaxLine)
	type blk struct{ data []byte }
	free := make(chan *blk, 2)
	for range 2 {
		free <- &blk{data: make([]byte, 0, 128<<10)}
	}
	var got strings.Builder
	largest := 0
	err := ReadLineBlocks(lc, free, nil, func(b *blk) *[]byte { return &b.data }, true, func(b *blk) {
		got.Write(b.data)
		largest = max(largest, cap(b.data))
		free <- b
	})
	if err != nil || got.String() != "first\n\nlast" || lc.dropped != 1 {
		t.Fatalf("%q, %d dropped, %v", got.String(), lc.dropped, err)
	}
	if largest > 2*MaxLine {
		t.Fatalf("a block grew to %d bytes", largest)
	}
}

// FuzzReadLineBlocksCap: any input, cap, block room and read sizes give
// lineCap's result (capOracle) and count, reading every byte once.
//
//	go test -run '^$' -fuzz '^FuzzReadLineBlocksCap$' -fuzztime 30s ./sources
func FuzzReadLineBlocksCap(f *testing.F) {
	f.Add([]byte("a\nbb\nccc\n"), uint8(2), uint8(4), []byte{1, 2, 3})
	f.Add([]byte("0123456789\nx"), uint8(8), uint8(16), []byte{5})
	f.Add([]byte("\n\n\nzzzzzzzzzzzzzzzzzzzzzzzz"), uint8(1), uint8(3), []byte{0, 7})
	f.Fuzz(func(t *testing.T, in []byte, max, room uint8, reads []byte) {
		if max == 0 || room == 0 || !slices.ContainsFunc(reads, func(n byte) bool { return n > 0 }) {
			return // a reader that never returns a byte reads forever
		}
		lc := newLineCap(&chopReader{b: in, sizes: reads}, int(max))
		got, err := readAll(t, lc, int(room), true)
		want, dropped := capOracle(in, int(max))
		if err != nil || strings.Join(got, "") != string(want) || lc.dropped != dropped {
			t.Fatalf("max %d, room %d, reads %v, %q: got %q (%d dropped, %v), want %q (%d)", max, room, reads, in, got, lc.dropped, err, want, dropped)
		}
	})
}

// chopReader returns b in reads of the given sizes, in turn (0 reads
// nothing, as a reader may).
type chopReader struct {
	b     []byte
	sizes []byte
	i     int
}

func (c *chopReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := min(int(c.sizes[c.i%len(c.sizes)]), len(p), len(c.b))
	c.i++
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}
