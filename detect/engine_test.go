package detect

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/state"
)

// nameMatcher is a stand-in query: process.name is one of names.
type nameMatcher struct{ names []string }

func (m nameMatcher) Match(d ecs.Doc) bool {
	for _, v := range d.Keywords("process.name") {
		if slices.Contains(m.names, v) {
			return true
		}
	}
	return false
}

func (m nameMatcher) Explain(d ecs.Doc) []Clause {
	return []Clause{{Text: "process.name:(" + strings.Join(m.names, " or ") + ")", Matched: m.Match(d)}}
}

// pathExcepter excepts events whose file.path is in paths.
type pathExcepter struct{ paths []string }

func (p pathExcepter) Match(d ecs.Doc, _ time.Time) (string, bool) {
	if slices.Contains(p.paths, d.Str("file.path")) {
		return "exc-1", true
	}
	return "", false
}

var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testRule() *rules.Rule {
	return &rules.Rule{
		Source: "seed", Name: "Unusual Remote File Creation", RuleID: "ed3fedc3-dd10-45a5-a485-34a8b48cea46",
		Version: 3, Type: "new_terms", Language: "kuery",
		Query:    "event.category:file and process.name:(scp or sftp-server)",
		Index:    []string{"logs-endpoint.events.file*", "auditbeat-*"},
		Severity: "medium", RiskScore: 47, From: "now-9m", Interval: 5 * time.Minute, MaxSignals: 100,
		TimestampOverride: "event.ingested",
		NewTermsFields:    []string{"process.executable", "host.id"}, HistoryWindowStart: "now-10d", HistoryWindow: 240 * time.Hour,
		Tags:   []string{"OS: Linux"},
		Threat: []rules.Threat{{Framework: "MITRE ATT&CK", Tactic: rules.Reference{ID: "TA0008", Name: "Lateral Movement", Reference: "https://attack.mitre.org/tactics/TA0008/"}}},
	}
}

func fileEvent(at time.Time, exe, host string) ecs.Doc {
	return ecs.Doc{
		"@timestamp": at.Format(time.RFC3339Nano),
		"event":      map[string]any{"category": []any{"file"}, "action": "creation", "kind": "event", "original": "type=SYSCALL ..."},
		"host":       map[string]any{"id": host, "name": "web-" + host},
		"process":    map[string]any{"name": filepath.Base(exe), "executable": exe, "pid": 4242.0},
		"user":       map[string]any{"name": "root"},
		"file":       map[string]any{"path": "/tmp/x", "name": "x"},
	}
}

func newEngine(t *testing.T, r *rules.Rule, store HistoryStore, exc Excepter, opt Options) *Engine {
	t.Helper()
	if opt.Now == nil {
		opt.Now = func() time.Time { return base.Add(time.Hour) }
	}
	e, err := NewEngine([]RuleSpec{{Rule: r, Query: nameMatcher{[]string{"scp", "sftp-server"}}}}, store, exc, opt)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestNewTermsStream(t *testing.T) {
	e := newEngine(t, testRule(), nil, nil, Options{})
	steps := []struct {
		ev   ecs.Doc
		want int
	}{
		{fileEvent(base, "/usr/bin/scp", "h1"), 1},
		{fileEvent(base.Add(time.Minute), "/usr/bin/scp", "h1"), 0},
		{fileEvent(base.Add(2*time.Minute), "/usr/bin/scp", "h2"), 1},
		{fileEvent(base.Add(3*time.Minute), "/usr/bin/rsync", "h1"), 0}, // query does not match
		{fileEvent(base.Add(3*time.Minute), "/usr/lib/openssh/sftp-server", "h1"), 1},
		// Exactly W after the last sighting: still seen.
		{fileEvent(base.Add(time.Minute+240*time.Hour), "/usr/bin/scp", "h1"), 0},
		// W + 1ms after the last sighting: new again.
		{fileEvent(base.Add(2*time.Minute+480*time.Hour+time.Millisecond), "/usr/bin/scp", "h2"), 1},
	}
	for i, s := range steps {
		if got := len(e.Process(s.ev, Flags{})); got != s.want {
			t.Fatalf("step %d: %d alerts, want %d", i, got, s.want)
		}
	}
	st := e.Stats()
	if st.Events != 7 || st.Matches != 6 || st.Alerts != 4 || st.Rules[0].Alerts != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTuplesCombinationsAndMissing(t *testing.T) {
	e := newEngine(t, testRule(), nil, nil, Options{})
	ev := fileEvent(base, "/usr/bin/scp", "h1")
	ev.Set("host.id", []any{"a", "b", "a"})
	alerts := e.Process(ev, Flags{})
	if len(alerts) != 2 {
		t.Fatalf("%d alerts for 2 distinct host ids", len(alerts))
	}
	got := [][]string{alerts[0].NewTerms(), alerts[1].NewTerms()}
	want := [][]string{{"/usr/bin/scp", "a"}, {"/usr/bin/scp", "b"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("tuples %v, want %v", got, want)
	}
	if alerts[0].ID() == alerts[1].ID() {
		t.Fatal("two tuples of one event share an alert id")
	}

	missing := fileEvent(base.Add(time.Second), "/usr/bin/scp", "h9")
	missing.Delete("host.id")
	if n := len(e.Process(missing, Flags{})); n != 0 {
		t.Fatalf("event without host.id raised %d alerts", n)
	}
	if terms := e.Stats().Terms; terms != 2 {
		t.Fatalf("Terms = %d, want 2 (missing field must not enter history)", terms)
	}
}

func TestExcludedEventsDoNotEnterHistory(t *testing.T) {
	e := newEngine(t, testRule(), nil, pathExcepter{[]string{"/tmp/excepted"}}, Options{})
	ev := fileEvent(base, "/usr/bin/scp", "h1")
	ev.Set("file.path", "/tmp/excepted")
	if n := len(e.Process(ev, Flags{})); n != 0 {
		t.Fatalf("excepted event raised %d alerts", n)
	}
	if n := len(e.Process(fileEvent(base.Add(time.Second), "/usr/bin/rsync", "h1"), Flags{})); n != 0 {
		t.Fatal("non-matching event alerted")
	}
	// The same tuple, not excepted: new, because the excepted event never
	// became history.
	alerts := e.Process(fileEvent(base.Add(time.Minute), "/usr/bin/scp", "h1"), Flags{})
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(alerts))
	}
	if got := alerts[0].Doc.Str("xferhunt.explain.last_seen"); got != "never" {
		t.Fatalf("last_seen = %q", got)
	}
	st := e.Stats()
	if st.Excepted != 1 || st.Matches != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Exceptions can be replaced at runtime.
	e.SetExcepter(nil)
	ev2 := fileEvent(base.Add(2*time.Minute), "/usr/bin/scp", "h7")
	ev2.Set("file.path", "/tmp/excepted")
	if n := len(e.Process(ev2, Flags{})); n != 1 {
		t.Fatalf("after removing exceptions: %d alerts", n)
	}
}

func TestMaxSignalsHoldBack(t *testing.T) {
	r := testRule()
	r.MaxSignals = 2
	e := newEngine(t, r, nil, nil, Options{})
	bucket := base // 12:00:00 starts a 5-minute bucket
	alerts := 0
	for i := range 5 {
		alerts += len(e.Process(fileEvent(bucket.Add(time.Duration(i)*time.Second), "/usr/bin/scp", "h"+string(rune('a'+i))), Flags{}))
	}
	if alerts != 2 {
		t.Fatalf("%d alerts in one interval, want 2", alerts)
	}
	st := e.Stats()
	// Two wait for the next interval; the third is held back at once, as
	// the next interval cannot take more than max_signals either.
	if st.HeldBack != 1 || st.Deferred != 2 {
		t.Fatalf("held back %d, deferred %d; want 1, 2", st.HeldBack, st.Deferred)
	}
	// Next interval: the deferred alerts are offered first (Kibana's next
	// run re-detects them in its look-back) and take its budget of 2.
	// Held-back tuples entered history: seen again, no alert of their own.
	if n := len(e.Process(fileEvent(bucket.Add(6*time.Minute), "/usr/bin/scp", "he"), Flags{})); n != 0 {
		t.Fatalf("held-back tuple alerted later: %d", n)
	}
	got := e.Released()
	if len(got) != 2 || got[0].Doc.Str("host.id") != "hc" || got[1].Doc.Str("host.id") != "hd" {
		t.Fatalf("next interval released %d alerts, want hc and hd", len(got))
	}
	st = e.Stats()
	if st.HeldBack != 1 || st.Rules[0].HeldBack != 1 || st.Alerts != 4 {
		t.Fatalf("held back %d/%d, alerts %d; want 1, 4", st.HeldBack, st.Rules[0].HeldBack, st.Alerts)
	}
	// The interval is full now: a new tuple waits for the one after.
	if n := len(e.Process(fileEvent(bucket.Add(7*time.Minute), "/usr/bin/scp", "hz"), Flags{})); n != 0 {
		t.Fatalf("full interval: %d alerts", n)
	}
	if d := e.Drain(); len(d) != 1 || d[0].Doc.Str("host.id") != "hz" {
		t.Fatalf("drain: %d alerts, want hz", len(d))
	}
}

// TestForfeitCountsDeferred: a live run that stops while alerts wait for
// the next interval counts them held back (they are never shown), and a
// Drain after it finds nothing left to offer.
func TestForfeitCountsDeferred(t *testing.T) {
	r := testRule()
	r.MaxSignals = 2
	e := newEngine(t, r, nil, nil, Options{})
	for i := range 4 {
		e.Process(fileEvent(base.Add(time.Duration(i)*time.Second), "/usr/bin/scp", "h"+string(rune('a'+i))), Flags{})
	}
	if st := e.Stats(); st.Deferred != 2 || st.HeldBack != 0 {
		t.Fatalf("before: deferred %d, held back %d; want 2, 0", st.Deferred, st.HeldBack)
	}
	e.Forfeit()
	if st := e.Stats(); st.HeldBack != 2 || st.Alerts != 2 {
		t.Fatalf("after Forfeit: held back %d, alerts %d; want 2, 2", st.HeldBack, st.Alerts)
	}
	if d := e.Drain(); len(d) != 0 {
		t.Fatalf("Drain after Forfeit released %d alerts", len(d))
	}
}

func TestQueryRule(t *testing.T) {
	r := testRule()
	r.Type, r.NewTermsFields, r.HistoryWindow, r.MaxSignals = "query", nil, 0, 3
	e := newEngine(t, r, nil, nil, Options{})
	n := 0
	for i := range 5 {
		n += len(e.Process(fileEvent(base.Add(time.Duration(i)*time.Second), "/usr/bin/scp", "h1"), Flags{}))
	}
	if n != 3 || e.Stats().Deferred != 2 {
		t.Fatalf("query rule: %d alerts, %d deferred", n, e.Stats().Deferred)
	}
	a := e.Process(fileEvent(base.Add(5*time.Minute), "/usr/bin/scp", "h1"), Flags{})
	if r := e.Released(); len(a) != 1 || len(r) != 2 {
		t.Fatalf("next interval: %d alerts and %d released, want its own and the 2 deferred", len(a), len(r))
	}
	if got := a[0].Doc.Str("kibana.alert.rule.type"); got != "query" {
		t.Fatalf("type %q", got)
	}
	if got := a[0].Doc.Str("kibana.alert.rule.category"); got != "Custom Query Rule" {
		t.Fatalf("category %q", got)
	}
	if a[0].Doc.Get("kibana.alert.new_terms") != nil {
		t.Fatal("query alert has new_terms")
	}
}

func TestDuplicateDelivery(t *testing.T) {
	e := newEngine(t, testRule(), nil, nil, Options{})
	ev := fileEvent(base, "/usr/bin/scp", "h1")
	if n := len(e.Process(ev, Flags{Key: "k1"})); n != 1 {
		t.Fatal("first delivery did not alert")
	}
	if n := len(e.Process(ev, Flags{Key: "k1"})); n != 0 {
		t.Fatal("duplicate delivery alerted twice")
	}
}

func TestEventTimePrefersIngested(t *testing.T) {
	e := newEngine(t, testRule(), nil, nil, Options{})
	ev := fileEvent(base, "/usr/bin/scp", "h1")
	ev.Set("event.ingested", base.Add(20*24*time.Hour).Format(time.RFC3339))
	e.Process(ev, Flags{})
	// @timestamp is 20 days earlier, but history is keyed on ingest time:
	// an event ingested 1 day later sees the tuple.
	ev2 := fileEvent(base.Add(21*24*time.Hour), "/usr/bin/scp", "h1")
	if n := len(e.Process(ev2, Flags{})); n != 0 {
		t.Fatal("event.ingested not used as event time")
	}
}

func TestPersistAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	st, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, testRule(), st, nil, Options{})
	if n := len(e.Process(fileEvent(base, "/usr/bin/scp", "h1"), Flags{})); n != 1 {
		t.Fatal("no first alert")
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st, err = state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e = newEngine(t, testRule(), st, nil, Options{})
	if e.Stats().Terms != 1 {
		t.Fatalf("Terms after restart = %d", e.Stats().Terms)
	}
	a := e.Process(fileEvent(base.Add(time.Hour), "/usr/bin/scp", "h1"), Flags{})
	if len(a) != 0 {
		t.Fatal("history lost across restart")
	}
	a = e.Process(fileEvent(base.Add(time.Hour), "/usr/bin/scp", "h2"), Flags{})
	if len(a) != 1 {
		t.Fatal("new tuple after restart not new")
	}
	if got := e.Coverage(testRule().RuleID); !got.Equal(base) {
		t.Fatalf("Coverage = %v", got)
	}
}

func TestOverrides(t *testing.T) {
	r := testRule()
	e := newEngine(t, r, nil, nil, Options{HistoryWindow: time.Hour, NewTermsFields: []string{"host.id"}})
	if r.HistoryWindow != 240*time.Hour || len(r.NewTermsFields) != 2 {
		t.Fatal("overrides changed the caller's rule")
	}
	e.Process(fileEvent(base, "/usr/bin/scp", "h1"), Flags{})
	// Different executable, same host: not new with host.id alone.
	if n := len(e.Process(fileEvent(base.Add(time.Minute), "/usr/bin/sftp-server", "h1"), Flags{})); n != 0 {
		t.Fatal("new_terms_fields override ignored")
	}
	a := e.Process(fileEvent(base.Add(time.Minute+time.Hour+time.Millisecond), "/usr/bin/scp", "h1"), Flags{})
	if len(a) != 1 {
		t.Fatal("history_window override ignored")
	}
	p := a[0].Doc.Get("kibana.alert.rule.parameters").(map[string]any)
	if p["history_window_start"] != "now-1h" {
		t.Fatalf("history_window_start = %v", p["history_window_start"])
	}
	if got := a[0].Doc.Str("xferhunt.explain.history_window"); got != "1h0m0s" {
		t.Fatalf("explain window %q", got)
	}
}

func TestNewEngineRejects(t *testing.T) {
	m := nameMatcher{}
	bad := testRule()
	bad.NewTermsFields = nil
	unk := testRule()
	unk.Type = "eql"
	dup := testRule()
	cases := map[string][]RuleSpec{
		"nil rule":         {{Query: m}},
		"no fields":        {{Rule: bad, Query: m}},
		"unknown type":     {{Rule: unk, Query: m}},
		"duplicate ruleid": {{Rule: dup, Query: m}, {Rule: testRule(), Query: m}},
	}
	for name, specs := range cases {
		if _, err := NewEngine(specs, nil, nil, Options{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAlertDocument(t *testing.T) {
	alertTime := base.Add(time.Hour)
	run := func() Alert {
		e := newEngine(t, testRule(), nil, nil, Options{Now: func() time.Time { return alertTime }})
		e.Process(fileEvent(base.Add(-48*time.Hour), "/usr/bin/scp", "h1"), Flags{})
		ev := fileEvent(base, "/usr/bin/scp", "h1")
		ev["source.ip"] = "10.0.0.5" // a dotted key must land nested
		ev.Set("process.executable", "/usr/bin/scp")
		ev.Set("host.id", "h2")
		a := e.Process(ev, Flags{Historical: true, Loss: true})
		if len(a) != 1 {
			t.Fatalf("%d alerts", len(a))
		}
		return a[0]
	}
	a := run()
	d := a.Doc
	want := map[string]any{
		"@timestamp":                      "2026-03-01T13:00:00.000Z",
		"kibana.alert.original_time":      base.Format(kibanaTime),
		"kibana.alert.rule.name":          "Unusual Remote File Creation",
		"kibana.alert.rule.rule_id":       "ed3fedc3-dd10-45a5-a485-34a8b48cea46",
		"kibana.alert.rule.type":          "new_terms",
		"kibana.alert.rule.rule_type_id":  "siem.newTermsRule",
		"kibana.alert.rule.category":      "New Terms Rule",
		"kibana.alert.rule.interval":      "5m",
		"kibana.alert.rule.from":          "now-9m",
		"kibana.alert.severity":           "medium",
		"kibana.alert.workflow_status":    "open",
		"kibana.alert.status":             "active",
		"event.kind":                      "signal",
		"event.original":                  "type=SYSCALL ...",
		"source.ip":                       "10.0.0.5",
		"xferhunt.explain.last_seen":      "never",
		"xferhunt.explain.history_window": "240h0m0s",
		"kibana.alert.reason":             "file event with process scp, file x, source 10.0.0.5 by root on web-h1 created medium alert Unusual Remote File Creation.",
	}
	for k, v := range want {
		if got := d.Str(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if _, dotted := d["source.ip"]; dotted {
		t.Error("event field kept as a dotted key")
	}
	if d.Get("kibana.alert.risk_score") != 47 || d.Get("kibana.alert.depth") != 1 || d.Get("kibana.alert.rule.version") != 3 {
		t.Error("numeric alert fields wrong")
	}
	if !reflect.DeepEqual(a.NewTerms(), []string{"/usr/bin/scp", "h2"}) {
		t.Errorf("new_terms %v", a.NewTerms())
	}
	if !a.Historical() || !a.Loss() {
		t.Error("flags not carried")
	}
	if v := d.Values("threat.tactic.id"); len(v) != 1 || v[0] != "TA0008" {
		t.Errorf("top-level threat missing: %v", d["threat"])
	}
	p := d.Get("kibana.alert.rule.parameters").(map[string]any)
	if p["history_window_start"] != "now-10d" || p["language"] != "kuery" || !reflect.DeepEqual(p["new_terms_fields"], []any{"process.executable", "host.id"}) {
		t.Errorf("parameters %v", p)
	}
	cl := d.Get("xferhunt.explain.clauses").([]any)
	if len(cl) != 1 || cl[0].(map[string]any)["matched"] != true {
		t.Errorf("clauses %v", cl)
	}
	if len(a.ID()) != 64 {
		t.Errorf("uuid %q", a.ID())
	}
	// Deterministic: a re-run yields the same id and the same bytes.
	b := run()
	if b.ID() != a.ID() {
		t.Error("alert id not stable across runs")
	}
	ja, _ := json.Marshal(a.Doc)
	jb, _ := json.Marshal(b.Doc)
	if string(ja) != string(jb) {
		t.Error("alert JSON not stable")
	}
}

func TestLastSeen(t *testing.T) {
	e := newEngine(t, testRule(), nil, nil, Options{})
	e.Process(fileEvent(base, "/usr/bin/scp", "h1"), Flags{})
	a := e.Process(fileEvent(base.Add(241*time.Hour), "/usr/bin/scp", "h1"), Flags{})
	if len(a) != 1 {
		t.Fatal("not new after the window")
	}
	if got := a[0].Doc.Str("xferhunt.explain.last_seen"); got != base.Format(time.RFC3339Nano) {
		t.Fatalf("last_seen %q", got)
	}
}

func TestReason(t *testing.T) {
	cases := []struct {
		doc  ecs.Doc
		want string
	}{
		{ecs.Doc{}, "event created low alert R."},
		{ecs.Doc{"event": map[string]any{"category": "file"}, "host": map[string]any{"name": "h"}}, "file event on h created low alert R."},
		{ecs.Doc{"user": map[string]any{"name": "bob"}, "file": map[string]any{"name": "a"}}, "event with file a, by bob created low alert R."},
		{ecs.Doc{"process": map[string]any{"name": "scp", "parent": map[string]any{"name": "sshd"}}}, "event with process scp, parent process sshd, created low alert R."},
		{ecs.Doc{"source": map[string]any{"ip": "1.2.3.4", "port": "22"}}, "event with source 1.2.3.4:22, created low alert R."},
		{ecs.Doc{"event": map[string]any{"category": []any{"file", "process"}}, "user": map[string]any{"name": "-"}}, "file, process event created low alert R."},
	}
	for _, c := range cases {
		if got := reason(c.doc, "low", "R"); got != c.want {
			t.Errorf("reason(%v) = %q, want %q", c.doc, got, c.want)
		}
	}
}

func TestHistoryPrunedAsTimeAdvances(t *testing.T) {
	r := testRule()
	r.SetHistoryWindow(time.Hour)
	e := newEngine(t, r, nil, nil, Options{})
	for i := range 10 {
		e.Process(fileEvent(base.Add(time.Duration(i)*time.Second), "/usr/bin/scp", "h"+string(rune('a'+i))), Flags{})
	}
	if got := e.Stats().Terms; got != 10 {
		t.Fatalf("Terms = %d", got)
	}
	// One event far ahead does not move the clock (it may be an outlier);
	// once most recent events agree, time has moved and history ages out.
	e.Process(fileEvent(base.Add(3*time.Hour), "/usr/bin/scp", "late"), Flags{})
	if got := e.Stats().Terms; got != 11 {
		t.Fatalf("Terms after one outlier = %d, want 11", got)
	}
	for i := range 4 {
		e.Process(fileEvent(base.Add(3*time.Hour+time.Duration(i+1)*time.Minute), "/usr/bin/scp", "late"), Flags{})
	}
	if got := e.Stats().Terms; got != 1 {
		t.Fatalf("Terms after the window passed = %d, want 1", got)
	}
}

func TestOutOfOrderWithinWindow(t *testing.T) {
	e := newEngine(t, testRule(), nil, nil, Options{})
	if n := len(e.Process(fileEvent(base.Add(time.Minute), "/usr/bin/scp", "h1"), Flags{})); n != 1 {
		t.Fatal("first not new")
	}
	// A slightly older event of the same tuple arriving late: the tuple was
	// already reported for this episode, no second alert.
	if n := len(e.Process(fileEvent(base, "/usr/bin/scp", "h1"), Flags{})); n != 0 {
		t.Fatal("late duplicate episode alerted again")
	}
	// A later event is judged against both sightings.
	if n := len(e.Process(fileEvent(base.Add(2*time.Minute), "/usr/bin/scp", "h1"), Flags{})); n != 0 {
		t.Fatal("known tuple alerted")
	}
}

// TestStatsAndExceptionsFromAnotherGoroutine exercises the documented
// concurrency contract (meaningful under -race).
func TestStatsAndExceptionsFromAnotherGoroutine(t *testing.T) {
	e := newEngine(t, testRule(), nil, nil, Options{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			_ = e.Stats()
			if i%10 == 0 {
				e.SetExcepter(pathExcepter{[]string{"/nowhere"}})
			}
		}
	}()
	for i := range 500 {
		e.Process(fileEvent(base.Add(time.Duration(i)*time.Second), "/usr/bin/scp", "h"), Flags{})
	}
	<-done
	if got := e.Stats().Events; got != 500 {
		t.Fatalf("Events = %d", got)
	}
}

func TestBuiltinRulesLoad(t *testing.T) {
	for _, name := range rules.Builtin() {
		r, err := rules.Load(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.Companion != "" {
			continue // evaluated by Chain, see chain_test.go
		}
		e, err := NewEngine([]RuleSpec{{Rule: r, Query: nameMatcher{[]string{"scp"}}}}, nil, nil, Options{Now: func() time.Time { return base }})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ev := fileEvent(base, "/usr/bin/scp", "h1")
		a := e.Process(ev, Flags{})
		if len(a) != 1 {
			t.Fatalf("%s: %d alerts", name, len(a))
		}
		p := a[0].Doc.Get("kibana.alert.rule.parameters").(map[string]any)
		if p["history_window_start"] != r.HistoryWindowStart || a[0].Doc.Str("xferhunt.explain.history_window") != r.HistoryWindow.String() {
			t.Fatalf("%s: window %v / %q", name, p["history_window_start"], a[0].Doc.Str("xferhunt.explain.history_window"))
		}
	}
}
