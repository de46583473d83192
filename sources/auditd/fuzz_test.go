package auditd

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/sources"
)

// FuzzScan checks the pipelined reader against the line-by-line one on
// arbitrary text: chunking, borrowed lines, node= prefixes and event
// grouping must give exactly the same events and counts as Parser.Line
// (FuzzLine covers Line alone). Seeds: testdata/fuzz/FuzzScan (real
// capture lines, a central log of two nodes, a reused session id, CRLF,
// a name in invalid UTF-8); and sparse documents (Options.Sparse) hold
// what the whole ones hold.
//
//	go test -run '^$' -fuzz '^FuzzScan$' -fuzztime 10s ./sources/auditd
func FuzzScan(f *testing.F) {
	f.Add([]byte(specExample + "\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var want []sources.Event
		p := NewParser(Options{HostID: "h", HostName: "n", Emit: func(ev sources.Event) { want = append(want, ev) }})
		if len(in) > 0 {
			for _, l := range bytes.Split(bytes.TrimSuffix(in, []byte("\n")), []byte("\n")) {
				p.Line(l)
			}
		}
		p.Flush()
		wantSt := p.Stats()
		for _, workers := range []int{1, 2} {
			var got []sources.Event
			st, err := Scan(bytes.NewReader(in), Options{HostID: "h", HostName: "n", Workers: workers,
				Emit: func(ev sources.Event) { got = append(got, ev) }})
			if err != nil || st != wantSt {
				t.Fatalf("workers=%d: %v, stats %+v, want %+v", workers, err, st, wantSt)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("workers=%d: %d events differ from line by line (%d)", workers, len(got), len(want))
			}
			// Sparse documents (scan's, for events no query matches)
			// hold what the whole ones hold for every field they know.
			var sparse []sources.Event
			refuse := &sources.Sparse{Fields: sparseKnown, Whole: func(ecs.Doc) bool { return false }}
			if _, err := Scan(bytes.NewReader(in), Options{HostID: "h", HostName: "n", Workers: workers, Sparse: refuse,
				Emit: func(ev sources.Event) { sparse = append(sparse, ev) }}); err != nil || len(sparse) != len(want) {
				t.Fatalf("workers=%d, sparse: %v, %d events, want %d", workers, err, len(sparse), len(want))
			}
			for i := range want {
				if e := sparseLikeWhole(sparse[i].Doc, want[i].Doc); e != "" || sparse[i].Key != want[i].Key {
					t.Fatalf("workers=%d, event %d (key %s, want %s): %s", workers, i, sparse[i].Key, want[i].Key, e)
				}
			}
		}
	})
}
