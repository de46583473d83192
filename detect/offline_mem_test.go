package detect

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
)

// offlineTupleBudget is the heap an order-free scan may hold per distinct
// new-terms tuple until Drain (the map slot keyed by the tuple's hash, its
// cluster and the cluster's event key). Measured 99 B on the 3-field
// tuples below; 246 B when the tuple's text was the map key and a tuple
// had a slice of clusters, 470 B before that. The margin absorbs Go
// version and map-growth differences, not a return of the tuple's text.
const offlineTupleBudget = 130

// TestOfflineMemoryPerTuple pins the order-free scan's memory per tuple:
// 100k distinct (executable, host, path) tuples, one event each, inside
// one max_signals interval so that the source documents held for alerts
// (at most 2 × max_signals) do not count. Then Drain must raise the same
// alerts as ever (max_signals, the rest held back) and leave every tuple in
// the history.
func TestOfflineMemoryPerTuple(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 100k tuples")
	}
	const n = 100_000
	r := testRule()
	e := newEngine(t, r, nil, nil, Options{Offline: true, NewTermsFields: []string{"process.executable", "host.id", "file.path"}})
	start := base.UnixMilli()
	event := func(i int) ecs.Doc {
		return ecs.Doc{
			"@timestamp": start + int64(i),
			"event":      map[string]any{"category": []any{"file"}, "action": "creation", "id": "ev-" + strconv.Itoa(i)},
			"host":       map[string]any{"id": fmt.Sprintf("host-%04d", i%16)},
			"process":    map[string]any{"name": "sftp-server", "executable": fmt.Sprintf("/usr/lib/openssh/sftp-server-%d", i%50)},
			"file":       map[string]any{"path": fmt.Sprintf("/home/user%d/uploads/%d/report-%d.pdf", i%97, i%1000, i)},
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		e.Process(event(i), Flags{})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perTuple := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	t.Logf("offline state: %.0f B per tuple (%d tuples)", perTuple, n)
	if got := e.Stats().Terms; got != n {
		t.Fatalf("%d tuples tracked, want %d", got, n)
	}
	if perTuple > offlineTupleBudget {
		t.Errorf("offline state holds %.0f B per tuple, budget %d", perTuple, offlineTupleBudget)
	}
	alerts := e.Drain()
	st := e.Stats()
	if len(alerts) != 200 || st.HeldBack != n-200 {
		t.Fatalf("%d alerts, %d held back; want 200 and %d", len(alerts), st.HeldBack, n-200)
	}
	if got := alerts[0].Doc.Str("file.path"); got != "/home/user0/uploads/0/report-0.pdf" {
		t.Errorf("first alert on %q, want the earliest tuple", got)
	}
	if st.Terms != n || e.rules[0].tracker.Terms(r.RuleID) != n {
		t.Errorf("history holds %d tuples after Drain, want %d", st.Terms, n)
	}
	if s := e.rules[0].tracker.Sightings(r.RuleID, []string{"/usr/lib/openssh/sftp-server-7", "host-0007", "/home/user7/uploads/7/report-7.pdf"}); len(s) != 1 || !s[0].Equal(time.UnixMilli(start+7)) {
		t.Errorf("a tuple's sighting was not recorded")
	}
}

// BenchmarkOfflineNewTerms is the order-free scan's cost per event when
// every event is of a new tuple (issue 12's million distinct file paths):
// the offline record each keeps until Drain, in allocs and B per event.
// The documents are built before the timer; the engine holds at most
// 2 × max_signals of them per interval (one interval here).
func BenchmarkOfflineNewTerms(b *testing.B) {
	e, err := NewEngine([]RuleSpec{{Rule: testRule(), Query: nameMatcher{[]string{"scp", "sftp-server"}}}}, nil, nil,
		Options{Offline: true, NewTermsFields: []string{"process.executable", "host.id", "file.path"}, Now: func() time.Time { return base }})
	if err != nil {
		b.Fatal(err)
	}
	start := base.UnixMilli()
	evs := make([]ecs.Doc, 1<<16)
	for i := range evs {
		evs[i] = ecs.Doc{
			"event":   map[string]any{"category": []any{"file"}, "action": "creation", "id": "ev-" + strconv.Itoa(i)},
			"host":    map[string]any{"id": fmt.Sprintf("host-%04d", i%16)},
			"process": map[string]any{"name": "sftp-server", "executable": fmt.Sprintf("/usr/lib/openssh/sftp-server-%d", i%50)},
			"file":    map[string]any{"path": fmt.Sprintf("/home/user%d/uploads/%d/report-%d.pdf", i%97, i%1000, i)},
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev := evs[i%len(evs)]
		if i >= len(evs) { // a new tuple each time: a new file name
			ev["file"].(map[string]any)["path"] = "/srv/" + strconv.Itoa(i)
		}
		ev["@timestamp"] = start + int64(i%200_000)
		e.Process(ev, Flags{})
	}
}
