package auditd

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/xferhunt/xferhunt/sources"
)

// TestScanEveryChunkEdge: the pipelined Scan's first chunk ends at every
// line of the capture in turn (a filler of folded lines — blank, malformed
// with a NUL, CRLF, records of kinds the grouper does not read, clock
// moves — is cut to the length that puts the chunk edge there), so every
// event's records, interleaved serials among them, straddle a chunk edge
// once; each scan must give what feeding the lines one by one gives.
func TestScanEveryChunkEdge(t *testing.T) {
	capture, err := os.ReadFile(filepath.Join("..", "..", "testdata", "capture", "raw.log"))
	if err != nil {
		t.Skipf("no capture: %v", err)
	}
	capture = capture[:bytes.LastIndexByte(capture[:min(len(capture), 48<<10)], '\n')+1]
	fillLines := []string{
		"type=BPF msg=audit(1795662790.000:1): prog-id=1 op=LOAD\n",
		"\n",
		"garbage \x00 line\r\n",
		"type=UNKNOWN[1999] msg=audit(1795662790.500:2): x=y\r\n",
		"type=BPF msg=audit(1795662799.000:3): prog-id=2 op=UNLOAD\n",
	}
	filler := func(n int) []byte {
		var b bytes.Buffer
		for i := 0; b.Len() < n-80; i++ {
			b.WriteString(fillLines[i%len(fillLines)])
		}
		pad := n - b.Len() - 1
		b.WriteString("pad" + strings.Repeat("=", max(pad-3, 0)) + "\n")
		return b.Bytes()[:n]
	}
	starts := []int{0}
	for i, c := range capture {
		if c == '\n' && i+1 < len(capture) {
			starts = append(starts, i+1)
		}
	}
	for _, at := range starts {
		for _, shift := range []int{0, 1} {
			f := chunkSize - at - shift // chunk edge at capture[at] (shift 0) or one byte into it
			if f < 100 {
				continue
			}
			in := append(filler(f), capture...)
			in = append(in, "type=EOE msg=audit(1795663200.000:99999999):"...) // no newline
			var want []sources.Event
			p := NewParser(Options{HostID: "h", Emit: func(ev sources.Event) { want = append(want, ev) }})
			for _, l := range bytes.Split(in, []byte("\n")) {
				p.Line(l)
			}
			p.Flush()
			wantSt := p.Stats()
			if wantSt.Events == 0 {
				t.Fatalf("reference found no events: %+v", wantSt)
			}
			for _, half := range []bool{false, true} {
				var r = bytes.NewReader(in)
				var rd interface{ Read([]byte) (int, error) } = r
				if half {
					rd = iotest.HalfReader(r)
				}
				var got []sources.Event
				st, err := Scan(rd, Options{HostID: "h", Workers: 2, Emit: func(ev sources.Event) { got = append(got, ev) }})
				if err != nil || st != wantSt {
					t.Fatalf("edge at capture byte %d-%d (half reads %v): %v, stats %+v, want %+v", at, shift, half, err, st, wantSt)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("edge at capture byte %d-%d (half reads %v): %d events differ from line by line (%d)", at, shift, half, len(got), len(want))
				}
			}
		}
	}
}
