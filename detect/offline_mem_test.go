package detect

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/detect/newterms"
	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/state"
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
	perTuple := heapPerEvent(e, n, event)
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

// heapPerEvent processes event(0) … event(n−1) and returns by how much
// they grew the live heap, per event.
func heapPerEvent(e *Engine, n int, event func(int) ecs.Doc) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		e.Process(event(i), Flags{})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
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

// heldDocBudget is the heap an order-free scan may hold per tuple whose
// source document it keeps for an alert (the document, its tuple, the
// cluster): MaxOfflineDocs of them are held until Drain. Measured ~600 B
// with the document packed (offdoc.go) for the ~390-byte ECS events
// below; ~3,100 B when the decoded document was held (issue 12: 20,000
// of them were ~60 MB of a 1M-tuple scan's peak).
const heldDocBudget = 1000

// TestOfflineHeldDocMemory holds MaxOfflineDocs source documents (one new
// tuple an event, max_signals × 2 of them in each of 100 intervals) and
// pins their memory per document; Drain must then raise alerts whose
// events are the ones that came in, field for field.
func TestOfflineHeldDocMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("holds 20,000 documents")
	}
	r := testRule()
	e := newEngine(t, r, nil, nil, Options{Offline: true, NewTermsFields: []string{"process.executable", "host.id", "file.path"}})
	const n = MaxOfflineDocs
	per := n / 100 // documents per 5-minute interval: 2 × max_signals
	start := base.UnixMilli()
	event := func(i int) ecs.Doc {
		// mkterms' events (scripts/mkterms), as the JSON source decodes them.
		return ecs.Doc{
			"@timestamp": time.UnixMilli(start + int64(i/per)*5*60_000 + int64(i%per)).UTC().Format("2006-01-02T15:04:05.000Z"),
			"event": map[string]any{"category": []any{"file"}, "action": "creation", "kind": "event",
				"id": "ev-" + strconv.Itoa(i), "type": []any{"creation"}},
			"host":    map[string]any{"id": fmt.Sprintf("host-%04d", i%16), "name": fmt.Sprintf("web-%d", i%16), "os": map[string]any{"type": "linux"}},
			"process": map[string]any{"name": "sftp-server", "executable": fmt.Sprintf("/usr/lib/openssh/sftp-server-%d", i%50), "pid": float64(1000 + i)},
			"user":    map[string]any{"name": fmt.Sprintf("user%d", i%97)},
			"file":    map[string]any{"path": fmt.Sprintf("/home/user%d/uploads/%d/report-%d.pdf", i%97, i%1000, i), "name": fmt.Sprintf("report-%d.pdf", i)},
		}
	}
	perDoc := heapPerEvent(e, n, event)
	off := e.rules[0].off
	if off.total != n || off.dropped != 0 {
		t.Fatalf("%d documents held, %d let go; want %d and 0", off.total, off.dropped, n)
	}
	t.Logf("%.0f B per held document and its tuple", perDoc)
	if perDoc > heldDocBudget {
		t.Errorf("%.0f B per held document, budget %d", perDoc, heldDocBudget)
	}
	alerts := e.Drain()
	// max_signals in each interval, and the last one's deferred 100 in
	// the next.
	if want := n/2 + int(r.MaxSignals); len(alerts) != want {
		t.Fatalf("%d alerts, want %d", len(alerts), want)
	}
	for _, a := range alerts {
		i, err := strconv.Atoi(strings.TrimPrefix(a.Doc.Str("event.id"), "ev-"))
		if err != nil {
			t.Fatalf("alert without its event's id: %v", a.Doc.Get("event"))
		}
		want := event(i)
		if g, w := a.Doc.Str("kibana.alert.original_time"), want.Str("@timestamp"); g != w {
			t.Fatalf("alert of event %d: original time %q, want %q", i, g, w)
		}
		for _, f := range []string{"event.id", "host.name", "process.executable", "file.path", "file.name", "user.name"} {
			if g, w := a.Doc.Str(f), want.Str(f); g != w {
				t.Fatalf("alert of event %d: %s = %q, want %q", i, f, g, w)
			}
		}
		if a.Doc.Get("process.pid") != float64(1000+i) {
			t.Fatalf("alert of event %d: process.pid = %#v", i, a.Doc.Get("process.pid"))
		}
	}
}

// TestDrainToBatches: DrainTo hands on the alerts Drain returns, in the
// same order, a batch at a time (drainBatch, plus up to max_signals the
// last offer released), so a scan holds a batch of alert documents at the
// end of its input, not all of them.
func TestDrainToBatches(t *testing.T) {
	run := func() *Engine {
		e := newEngine(t, testRule(), nil, nil, Options{Offline: true, NewTermsFields: []string{"file.path"}})
		for i := range 3000 {
			e.Process(ecs.Doc{
				"@timestamp": base.Add(time.Duration(i) * 2 * time.Second).UnixMilli(),
				"event":      map[string]any{"category": []any{"file"}, "id": "ev-" + strconv.Itoa(i)},
				"host":       map[string]any{"id": "h"},
				"process":    map[string]any{"name": "scp", "executable": "/usr/bin/scp"},
				"file":       map[string]any{"path": "/srv/" + strconv.Itoa(i%2500)},
			}, Flags{})
		}
		return e
	}
	var want []string
	for _, a := range run().Drain() {
		want = append(want, a.Doc.Str("kibana.alert.uuid"))
	}
	var got []string
	batches, most := 0, drainBatch+int(testRule().MaxSignals)
	run().DrainTo(func(as []Alert) {
		batches++
		if len(as) == 0 || len(as) > most {
			t.Errorf("a batch of %d alerts", len(as))
		}
		for _, a := range as {
			got = append(got, a.Doc.Str("kibana.alert.uuid"))
		}
	})
	if len(want) < 2*drainBatch || !slices.Equal(got, want) {
		t.Fatalf("DrainTo gave %d alerts, Drain %d (or not the same)", len(got), len(want))
	}
	if batches < len(want)/most {
		t.Fatalf("%d batches for %d alerts", batches, len(want))
	}
}

// writeCounter counts a history store's writes: batches (SaveTerms) and
// whole replacements (ReplaceTerms).
type writeCounter struct {
	*state.Store
	saves, replaces int
}

func (w *writeCounter) SaveTerms(ruleID string, put []newterms.Term, del []uint64) error {
	w.saves++
	return w.Store.SaveTerms(ruleID, put, del)
}

func (w *writeCounter) ReplaceTerms(ruleID string, n int, term func(int) (uint64, []int64)) error {
	w.replaces++
	return w.Store.ReplaceTerms(ruleID, n, term)
}

// offlineNewTuples returns an Offline engine on a counted memory store
// that has processed n events, each of a new file.path a second apart.
func offlineNewTuples(t *testing.T, n int) (*Engine, *writeCounter, *rules.Rule) {
	t.Helper()
	st := &writeCounter{Store: state.OpenMemory()}
	r := testRule()
	e := newEngine(t, r, st, nil, Options{Offline: true, NewTermsFields: []string{"file.path"}})
	for i := range n {
		e.Process(ecs.Doc{
			"@timestamp": base.Add(time.Duration(i) * time.Second).UnixMilli(),
			"event":      map[string]any{"category": []any{"file"}, "id": "ev-" + strconv.Itoa(i)},
			"host":       map[string]any{"id": "h"},
			"process":    map[string]any{"name": "scp", "executable": "/usr/bin/scp"},
			"file":       map[string]any{"path": "/srv/" + strconv.Itoa(i)},
		}, Flags{})
	}
	return e, st, r
}

// TestOfflineHistoryWrittenAtOnce: the history a scan records at the end
// of its input (20,000 new tuples, five times the tracker's flush batch)
// reaches the store in one replacement, which a crash cannot split
// (state TestReplaceTermsKilled) — not in batches, which a kill between
// them left as a mix of the old history and part of the new — and the
// store then holds every tuple.
func TestOfflineHistoryWrittenAtOnce(t *testing.T) {
	const n = 20_000
	e, st, r := offlineNewTuples(t, n)
	e.Drain()
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if st.saves != 0 || st.replaces != 1 {
		t.Fatalf("the scan's history was written in %d batches and %d replacements, want one replacement", st.saves, st.replaces)
	}
	stored := 0
	if err := st.LoadTerms(r.RuleID, func(uint64, []int64) { stored++ }); err != nil || stored != n {
		t.Fatalf("the store holds %d tuples (%v), want %d", stored, err, n)
	}
}

// TestOfflineHistoryAfterAlerts: the history a scan records at the end of
// its input reaches the store only at the caller's Flush, once DrainTo
// has handed on every alert (scan writes them out, then Close flushes):
// written first, a kill before the alerts were out left a history that
// already held their tuples, so a re-run with the same --state raised
// them never again. Nothing is written while the alerts are being handed
// on, nor after DrainTo returns; Flush then writes all of it.
func TestOfflineHistoryAfterAlerts(t *testing.T) {
	const n = 6000
	e, st, r := offlineNewTuples(t, n)
	alerts := 0
	e.DrainTo(func(as []Alert) {
		alerts += len(as)
		if st.saves+st.replaces != 0 {
			t.Fatalf("after %d alerts handed on, the history was already written (%d batches, %d replacements)", alerts, st.saves, st.replaces)
		}
	})
	if alerts == 0 {
		t.Fatal("no alert: the test does not test the order")
	}
	if st.saves+st.replaces != 0 {
		t.Fatalf("DrainTo wrote the history (%d batches, %d replacements) before the caller's Flush", st.saves, st.replaces)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	stored := 0
	if err := st.LoadTerms(r.RuleID, func(uint64, []int64) { stored++ }); err != nil || stored != n {
		t.Fatalf("after Flush the store holds %d tuples (%v), want %d", stored, err, n)
	}
	if st.saves != 0 || st.replaces != 1 {
		t.Fatalf("written in %d batches and %d replacements, want one replacement", st.saves, st.replaces)
	}
}
