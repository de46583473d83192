package detect

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
)

// termStep is the event spacing of the term-growth benchmark: 1M distinct
// (executable, host, path) tuples over 9 days, the history the scale issue
// (12) measured with --new-terms-fields …,file.path.
const termStep = 9 * 24 * time.Hour / 1_000_000

// BenchmarkTermGrowth is the time per matching event when the engine's
// term history already holds N tuples, spread over the 9 days before the
// first event: one event every termStep of event time, each of a tuple
// already known (the steady state: no alert is built), while the engine's
// pruning forgets the old tuples as event time passes them. A flat cost
// per event across N is the goal; B/tuple is the heap the N tuples hold.
func BenchmarkTermGrowth(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("tuples=%d", n), func(b *testing.B) { benchTermGrowth(b, n) })
	}
}

func benchTermGrowth(b *testing.B, n int) {
	fields := []string{"process.executable", "host.id", "file.path"}
	e, err := NewEngine([]RuleSpec{{Rule: testRule(), Query: nameMatcher{[]string{"scp", "sftp-server"}}}}, nil, nil,
		Options{NewTermsFields: fields, Now: func() time.Time { return base }})
	if err != nil {
		b.Fatal(err)
	}
	rs := e.rules[0]
	start := base.Add(-time.Duration(n) * termStep)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// The history is filled through the tracker: through Process, the
	// pruning under test would make filling quadratic.
	tup := make([]string, 3)
	for i := range n {
		tup[0] = fmt.Sprintf("/usr/lib/openssh/sftp-server-%d", i%50)
		tup[1] = "9f2a8c41d2e04b7c9d1e0f3a5b6c7d8e"
		tup[2] = fmt.Sprintf("/home/user%d/uploads/%d/report-%d.pdf", i%97, i%1000, i)
		rs.tracker.Observe(rs.rule.RuleID, tup, start.Add(time.Duration(i)*termStep))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := rs.tracker.Terms(rs.rule.RuleID); got != n {
		b.Fatalf("history holds %d tuples, want %d", got, n)
	}
	perTuple := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)

	evs := make([]ecs.Doc, 4096)
	for i := range evs {
		evs[i] = ecs.Doc{
			"event":   map[string]any{"category": []any{"file"}, "action": "creation", "kind": "event"},
			"host":    map[string]any{"id": "9f2a8c41d2e04b7c9d1e0f3a5b6c7d8e", "name": "web-1"},
			"process": map[string]any{"name": "sftp-server", "executable": fmt.Sprintf("/usr/lib/openssh/sftp-server-%d", i%50), "pid": 4242.0},
			"user":    map[string]any{"name": "alice"},
			"file":    map[string]any{"path": fmt.Sprintf("/srv/incoming/%d/batch-%d.csv", i%100, i), "name": "batch.csv"},
		}
	}
	startMs := base.UnixMilli()
	stepMs := termStep.Milliseconds()
	for _, ev := range evs { // known before the measured loop
		ev["@timestamp"] = startMs
		e.Process(ev, Flags{})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ev := evs[i%len(evs)]
		ev["@timestamp"] = startMs + int64(i)*stepMs
		e.Process(ev, Flags{})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	b.ReportMetric(perTuple, "B/tuple")
}
