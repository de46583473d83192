package alertdb

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/internal/sharedtest/alerts"
	"github.com/xferhunt/xferhunt/sources/ecsjson"
)

// TestHostileShapesKeepNoIndex: view lines shaped against the row index —
// 9,000 objects deep (374 MB of path strings and 1.5 s a row before the
// bound), 5,000 distinct keys, names past a full field table — keep no
// index, cost little, give back their document and filter exactly as
// decoding does.
func TestHostileShapesKeepNoIndex(t *testing.T) {
	deepKey := strings.Repeat("abcdefgh.", 9000)
	deep := `{"kibana.alert.uuid":"deep","kibana.alert.rule.rule_id":"shape-rule","x":` + strings.Repeat(`{"abcdefgh":`, 9000) + `1` + strings.Repeat(`}`, 9000) + `}`
	var wide strings.Builder
	wide.WriteString(`{"kibana.alert.uuid":"wide","kibana.alert.rule.rule_id":"shape-rule"`)
	for i := range 5000 {
		fmt.Fprintf(&wide, `,"wide%d":%d`, i, i)
	}
	wide.WriteString("}")
	var lines []string
	lines = append(lines, deep, wide.String())

	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	var as []detect.Alert
	for _, l := range lines {
		d, ok := ecsjson.Decode([]byte(l))
		if !ok {
			t.Fatalf("line does not decode: %.60s", l)
		}
		as = append(as, detect.Alert{Doc: d})
	}
	rows := buildRows(as)
	runtime.ReadMemStats(&ms1)
	if a := ms1.TotalAlloc - ms0.TotalAlloc; a > 64<<20 {
		t.Errorf("decoding and storing the hostile lines allocated %d MB", a>>20)
	}
	for i, r := range rows {
		if r.tmpl != nil {
			t.Errorf("row %d is indexed", i)
		}
	}

	// A full field table: a row naming new fields keeps no index, one
	// naming only known ones keeps its own.
	known := alerts.Make(alerts.Spec{ID: "known-names", Sev: "low", Proc: "scp", User: "u", IP: "192.0.2.1", Path: "/srv/y"})
	buildRows([]detect.Alert{known}) // its names are in the table
	leafFields.mu.Lock()
	fieldLimit = len(leafFields.names)
	leafFields.mu.Unlock()
	defer func() { fieldLimit = 0 }()
	fresh := alerts.Make(alerts.Spec{ID: "fresh-names", Sev: "low", Proc: "scp", User: "u", IP: "192.0.2.1", Path: "/srv/x"})
	fresh.Doc["never.seen.before.name"] = "v"
	more := buildRows([]detect.Alert{fresh, known})
	if more[0].tmpl != nil || more[1].tmpl == nil {
		t.Errorf("full field table: new names indexed %v, known names indexed %v", more[0].tmpl != nil, more[1].tmpl != nil)
	}
	fieldLimit = 0
	as = append(as, fresh, known)
	rows = append(rows, more...)
	rows = append(rows, buildRows(alerts.Many(5))...)
	as = append(as, alerts.Many(5)...)

	for i, r := range rows {
		want, _ := json.Marshal(as[i].Doc)
		got, err := r.JSON()
		if err != nil || !sameJSON(got, want) {
			t.Errorf("row %d JSON differs (%v)", i, err)
		}
	}
	for _, qs := range []string{
		"x." + deepKey[:len(deepKey)-1] + " : 1", `x : *`, `not x : *`, `1`, `wide4999 : 4999`, `wide* : 17`,
		`never.seen.before.name : v`, `not never.seen.before.name : *`, `process.name : scp`, `*` + "abcdefgh" + `*`,
	} {
		q, err := kql.Parse(qs)
		if err != nil {
			t.Fatalf("%.60s: %v", qs, err)
		}
		filterLikeDecoded(t, rows, qs, q)
	}
}
