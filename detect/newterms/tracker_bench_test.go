package newterms

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkObserve measures the hot path on known tuples (the common case).
func BenchmarkObserve(b *testing.B) {
	tr := NewTracker(nil, 240*time.Hour)
	tuples := make([][]string, 1000)
	for i := range tuples {
		tuples[i] = []string{fmt.Sprintf("/usr/bin/tool-%d", i), "host-1"}
		tr.Observe("r", tuples[i], t0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.Observe("r", tuples[i%len(tuples)], t0.Add(time.Duration(i)*time.Millisecond))
	}
}
