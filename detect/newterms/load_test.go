package newterms_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/detect/newterms"
	"github.com/xferhunt/xferhunt/state"
)

// BenchmarkLoad1M is the second run's start with --state: open a state
// directory whose term history holds 1M tuples (two sightings each, as
// the order-free scan records a tuple seen over a span) and load them
// into a tracker (issue 12: ≤ 2 s). The history is written once, before
// the timer, in batches as the tracker flushes them.
func BenchmarkLoad1M(b *testing.B) {
	const n = 1_000_000
	dir := filepath.Join(b.TempDir(), "st")
	st, err := state.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	batch := make([]newterms.Term, 0, 100_000)
	for i := range n {
		h := uint64(i+1) * 0x9e3779b97f4a7c15
		batch = append(batch, newterms.Term{Hash: h, Times: []int64{base + int64(i)*777, base + int64(i)*777 + 5000}})
		if len(batch) == cap(batch) {
			if err := st.SaveTerms("r", batch, nil); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		st, err := state.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		tr := newterms.NewTracker(st, 240*time.Hour)
		if got := tr.Terms("r"); got != n || tr.Err() != nil {
			b.Fatalf("loaded %d tuples (err %v), want %d", got, tr.Err(), n)
		}
		st.Close()
	}
}
