package alertdb

import (
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/sharedtest/alerts"
)

// TestRuleTemplatesBounded: a view file whose every alert names its own rule
// (with a long investigation guide, as a hostile export can) must not
// hold a template per rule: 2000 such alerts held 328 MB of heap (2000
// templates, 254 MB of JSON and long values) before the bound, 45 MB after.
func TestRuleTemplatesBounded(t *testing.T) {
	defer freshTemplates()()
	note := strings.Repeat("A", 64<<10)
	rows, grew, n, size := rowsHeap(2000, func(i int) detect.Alert {
		a := alerts.Make(alerts.Spec{ID: fmt.Sprintf("many-rules-%d", i), Sev: "low", Proc: "scp", User: "u", IP: "192.0.2.1", Path: "/srv/x"})
		a.Doc["kibana.alert.rule.rule_id"] = fmt.Sprintf("many-rules-%d", i)
		a.Doc["kibana.alert.rule.note"] = strings.Clone(note) // each line decodes its own copy
		return a
	})
	t.Logf("heap +%d MB for %d rows of distinct rules; %d templates, %d MB of JSON and long values", grew>>20, len(rows), n, size>>20)
	if n > maxTemplates || size > maxTemplateBytes {
		t.Errorf("%d templates holding %d bytes, bounds %d and %d", n, size, maxTemplates, maxTemplateBytes)
	}
	if grew > 96<<20 {
		t.Errorf("2000 alerts of distinct rules grew the heap by %d MB", grew>>20)
	}
	runtime.KeepAlive(rows)
}

// TestTemplateStructureBounded: a view file whose every alert names its
// own rule and holds 4,000 tiny values must not hold more than the
// template bound: the structure and index maps cost ~300 bytes a value
// against ~10 of JSON, and counting only the JSON 400 such lines (16 MB)
// held 480 MB of templates for the process (1.1 GB for 1,100), 60 MB
// after.
func TestTemplateStructureBounded(t *testing.T) {
	defer freshTemplates()()
	obj := map[string]any{}
	for i := range 4000 {
		obj[fmt.Sprintf("tiny%04d", i)] = float64(i % 10)
	}
	rows, grew, n, size := rowsHeap(400, func(i int) detect.Alert {
		return detect.Alert{Doc: ecs.Doc{"kibana.alert.uuid": fmt.Sprintf("tiny-%d", i), "kibana.alert.rule.rule_id": fmt.Sprintf("tiny-rule-%d", i), "zztiny": obj}}
	})
	t.Logf("heap +%d MB for %d rows of 4,000 values; %d templates, %d MB counted", grew>>20, len(rows), n, size>>20)
	if grew > 128<<20 {
		t.Errorf("400 alerts of distinct rules and 4,000 values grew the heap by %d MB", grew>>20)
	}
	got, err := rows[len(rows)-1].JSON()
	if want, _ := json.Marshal(rows[len(rows)-1].doc()); err != nil || !sameJSON(got, want) {
		t.Errorf("a row past the bound gives back %.80s (%v)", got, err)
	}
	runtime.KeepAlive(rows)
}

// TestPastTemplateBoundFiltersLikeDecoded: rows of rules past the bound
// (no template of their own) keep under every query what decoding keeps,
// and give back their document.
func TestPastTemplateBoundFiltersLikeDecoded(t *testing.T) {
	defer freshTemplates()()
	templates.Lock()
	templates.limit = 0 // every rule is past it
	templates.Unlock()
	var as []detect.Alert
	for i, a := range append(alerts.Many(20), oddAlerts()...) {
		a.Doc["kibana.alert.rule.rule_id"] = fmt.Sprintf("past-bound-%d", i%3)
		as = append(as, a)
	}
	rows := buildRows(as)
	for i, r := range rows {
		if r.tmpl != noTemplate {
			t.Fatalf("row %d has a template of its own past the bound", i)
		}
		plain, err := json.Marshal(as[i].Doc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.JSON()
		if err != nil || !sameJSON(got, plain) {
			t.Fatalf("row %d JSON differs (%v)", i, err)
		}
	}
	queries := append(slices.Clone(fuzzQuerySeeds),
		`kibana.alert.rule.note : *investigation*`, `*variant-a*`, `event.original : *SYSCALL*`,
		`kibana.alert.rule.description : *variant-b*`, `not kibana.alert.rule.description : *variant-a*`,
		`process.parent : *`, `process : { name : sshd and pid : 31337 }`, `labels.team : *`, `*deep*`)
	for _, qs := range queries {
		q, err := kql.Parse(qs)
		if err != nil {
			t.Fatalf("%s: %v", qs, err)
		}
		filterLikeDecoded(t, rows, qs, q)
	}
}

// rowsHeap makes n rows of the alerts alert(i) gives, stored as a Store
// holds them, and returns them with the heap they grew by and the
// template table's count and counted bytes after.
func rowsHeap(n int, alert func(i int) detect.Alert) (rows []*Row, grew int64, tmpls, size int) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rows = make([]*Row, 0, n)
	for i := range n {
		r := NewRow(alert(i))
		r.arrival = nil // as a Store drops it
		rows = append(rows, r)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	templates.Lock()
	defer templates.Unlock()
	return rows, int64(after.HeapAlloc) - int64(before.HeapAlloc), len(templates.byKey), templates.size
}

// freshTemplates empties the template table for a test and returns what
// puts the old one back, so other tests' bounds see only their own.
func freshTemplates() (restore func()) {
	templates.Lock()
	defer templates.Unlock()
	byKey, exes, size, limit := templates.byKey, templates.exes, templates.size, templates.limit
	templates.byKey, templates.exes, templates.size = map[templateKey]*template{}, 0, 0
	return func() {
		templates.Lock()
		defer templates.Unlock()
		templates.byKey, templates.exes, templates.size, templates.limit = byKey, exes, size, limit
	}
}
