package alertdb

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/sharedtest/alerts"
	"github.com/xferhunt/xferhunt/triage"
)

// oddAlerts are documents that stress the row index: values it must not
// index (long, invalid UTF-8, types JSON would change), dotted keys next
// to objects, engine-side Go types, a second rule, fields the rule's
// template has and this alert lacks.
func oddAlerts() []detect.Alert {
	long := alerts.Make(alerts.Spec{ID: "odd-long", At: "2026-11-26T01:00:00Z", Sev: "high", Proc: "scp", User: "mallory", IP: "192.0.2.9", Path: "/srv/" + strings.Repeat("deep/", 60) + "x.bin", Historical: false})
	long.Doc["event"].(map[string]any)["original"] = strings.Repeat("type=SYSCALL ", 80)
	long.Doc["kibana.alert.rule.note"] = strings.Repeat("an investigation guide, as real rules have ", 150)

	bad := alerts.Make(alerts.Spec{ID: "odd-utf8", At: "2026-11-26T01:01:00Z", Sev: "low", Proc: "sshd", User: "eve", IP: "192.0.2.10", Path: "/tmp/\xff\xfe.bin", Historical: false})

	typed := alerts.Make(alerts.Spec{ID: "odd-typed", At: "2026-11-26T01:02:00Z", Sev: "medium", Proc: "vsftpd", User: "trent", IP: "192.0.2.11", Path: "/srv/ftp/t.bin", Historical: false})
	typed.Doc["process"].(map[string]any)["pid"] = 31337 // int, not float64
	typed.Doc["process"].(map[string]any)["args"] = []string{"vsftpd", "/etc/vsftpd.conf"}
	typed.Doc["source"].(map[string]any)["port"] = json.Number("2121")
	typed.Doc["process.title"] = "vsftpd: dotted"
	typed.Doc["labels"] = map[string]any{"team": nil, "env": []any{}, "tier": "gold"}
	typed.Doc["xferhunt.file.mtime"] = time.Date(2026, 11, 26, 1, 2, 3, 0, time.UTC)

	other := alerts.Make(alerts.Spec{ID: "odd-rule", At: "2026-11-26T01:03:00Z", Sev: "critical", Proc: "sftp-server", User: "peggy", IP: "192.0.2.12", Path: "/var/www/x.php", Historical: false})
	other.Doc["kibana.alert.rule.rule_id"] = "another-rule"
	other.Doc["kibana.alert.rule.name"] = "Another Rule"

	sparse := alerts.Make(alerts.Spec{ID: "odd-sparse", At: "2026-11-26T01:04:00Z", Sev: "low", Proc: "scp", User: "victor", IP: "192.0.2.13", Path: "/srv/s.bin", Historical: false})
	delete(sparse.Doc, "threat")
	delete(sparse.Doc, "host")
	sparse.Doc["kibana.alert.risk_score"] = 99.5

	return append([]detect.Alert{long, bad, typed, other, sparse}, longTexts()...)
}

// longTexts are alerts of one rule whose long rule texts (over maxInline,
// so not in the index) are the first alert's, another text, or absent:
// the template's long values stand only for rows that have the same.
func longTexts() []detect.Alert {
	a := strings.Repeat("variant-a rule text ", 12)
	b := strings.Repeat("variant-b rule text ", 12)
	var out []detect.Alert
	for i, desc := range []any{a, a, b, nil, []any{b, a}, []any{a, b}} {
		al := alerts.Make(alerts.Spec{ID: fmt.Sprintf("long-text-%d", i), At: "2026-11-26T01:05:00Z", Sev: "low", Proc: "scp", User: "walter", IP: "192.0.2.14", Path: "/srv/w.bin", Historical: false})
		al.Doc["kibana.alert.rule.rule_id"] = "long-texts-rule"
		if desc != nil {
			al.Doc["kibana.alert.rule.description"] = desc
		}
		out = append(out, al)
	}
	return out
}

// TestIndexedFilterMatchesDecoded: for every query, the pass over the row
// index keeps exactly the rows a pass over decoded documents keeps.
func TestIndexedFilterMatchesDecoded(t *testing.T) {
	alerts := append(append(alerts.TableAlerts(), alerts.Many(200)...), oddAlerts()...)
	rows := buildRows(alerts)
	rows[3] = rows[3].withStatus(triage.StatusClosed)
	queries := []struct {
		q       string
		planned bool // the row index answers it (no plan means decode)
	}{
		{`process.name : sshd`, true},
		{`process.name : (sshd or scp) and not user.name : bob`, true},
		{`file.path : /srv/*`, true},
		{`file.path : *deep*`, true},
		{`event.original : *SYSCALL*`, true},
		{`kibana.alert.workflow_status : closed`, true},
		{`kibana.alert.rule.name : "Unusual Remote File Creation"`, true},
		{`kibana.alert.rule.rule_id : another-rule`, true},
		{`threat.tactic.id : TA0008`, true},
		{`not threat.tactic.id : TA0008`, true},
		{`host.name : *`, true},
		{`not host.name : *`, true},
		{`process.pid : 31337`, true},
		{`process.pid >= 4242`, true},
		{`source.port : 2121`, true},
		{`process.args : "/etc/vsftpd.conf"`, true},
		{`process.title : "vsftpd: dotted"`, true},
		{`labels.team : *`, true},
		{`labels.tier : gold`, true},
		{`xferhunt.file.mtime : *`, true},
		{`kibana.alert.risk_score > 50`, true},
		{`xferhunt.historical : true`, true},
		{`file.name : *.bin and user.effective.name : user1*`, true},
		{`no.such.field : x`, true},
		{`not no.such.field : x`, true},
		{`@timestamp >= "2026-11-26T02:00:00Z"`, true},
		{`sshd`, true}, // free text: every field
		{`not mallory`, true},
		{`*deep*`, true},
		{`"` + strings.Repeat("type=SYSCALL ", 80) + `"`, true},
		{`event.original : "` + strings.Repeat("type=SYSCALL ", 80) + `"`, true},
		{`not event.original : "type=SYSCALL "`, true},
		{`event.original : *`, true},
		{`kibana.alert.reason : * and not file.path : /srv/*`, true},
		{`process.* : vsftpd`, true},                        // field wildcard: every field
		{`*.name : root`, true},                             // ditto
		{`process.parent : *`, true},                        // an object: every leaf below it, nested
		{`not process.parent : *`, true},                    // ditto
		{`process : { name : sshd and pid : 31337 }`, true}, // nested over a plain object
		{`process.parent : { name : sshd and pid : 4100 }`, true},
		{`not threat : *`, true}, // an object in an array, absent from one row
		{`host : * and not threat : *`, true},
		{`kibana.alert.rule.description : *variant-b*`, true}, // a long text unlike the template's
		{`not kibana.alert.rule.description : *variant-a*`, true},
		{`kibana.alert.rule.description : * and not *variant-b*`, true},
		{`*variant-a*`, true},
		{`threat : { tactic.id : TA0008 }`, false}, // nested over an array of objects
		{`xferhunt.ancestry : { name : sshd and pid : 4100 }`, false},
	}
	for _, tc := range queries {
		q, err := kql.Parse(tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		pl := planQuery(tc.q)
		if (pl != nil) != tc.planned {
			t.Errorf("%s: planned=%v, want %v", tc.q, pl != nil, tc.planned)
		}
		want := computeView(rows, q.Match, nil, SortTime)
		got := computeView(rows, q.Match, pl, SortTime)
		if !slices.Equal(got, want) {
			t.Errorf("%s: index kept %d rows, decoding kept %d", tc.q, len(got), len(want))
		}
		// Handed the query itself, the pass evaluates it leaf by leaf.
		if got := Filter(rows, tc.q, q, SortTime); !slices.Equal(got, want) {
			t.Errorf("%s: leafwise kept %d rows, decoding kept %d", tc.q, len(got), len(want))
		}
	}
}

// TestIndexAvoidsDecoding: ordinary rows answer a plain field query from
// the index; a value the index does not hold is read from the JSON, with
// the text the JSON round trip gives it.
func TestIndexAvoidsDecoding(t *testing.T) {
	rows := buildRows(append(alerts.TableAlerts(), oddAlerts()...))
	mini := ecs.Doc{}
	pl := planQuery(`file.path : * and user.name : *`)
	pathID := leafFields.id("file.path")
	for _, r := range rows {
		_, st := r.value(pathID)
		want := map[string]fieldState{"odd-long": fieldPartial, "odd-utf8": fieldCold}[r.uuid]
		if want == fieldMissing {
			want = fieldPresent
		}
		if st != want {
			t.Errorf("%s: file.path state %v, want %v", r.uuid, st, want)
		}
		if !pl.miniDoc(r, mini) {
			t.Fatalf("%s: no mini document", r.uuid)
		}
		if len(mini) != 2 || !slices.Equal(mini.Values("file.path"), r.doc().Values("file.path")) || mini.Str("user.name") == "" {
			t.Errorf("%s: mini document %v", r.uuid, mini)
		}
	}
	// The rule's metadata lives once in the template, not in each row.
	for _, r := range rows[1:len(alerts.Table)] {
		if strings.Contains(r.flat, "Unusual Remote File Creation") || strings.Contains(r.flat, "MITRE") {
			t.Errorf("%s: rule metadata stored per row", r.uuid)
		}
	}
}

// planQuery reads the query's shape from the KQL package: nested queries
// decode, free text reads every field, long or non-equality values read
// the inflated document.
func TestPlanQueryShape(t *testing.T) {
	buildRows(alerts.TableAlerts()) // threat: an array of objects
	if planQuery(`threat : { tactic.id : TA0008 }`) != nil {
		t.Error("a nested query over an array of objects got an index plan")
	}
	if p := planQuery(`process : { name : scp }`); p == nil || !p.nest {
		t.Errorf("a nested query over an object: plan %+v, want a nested mini document", p)
	}
	if planQuery(`process.name : (`) != nil {
		t.Error("a query that does not parse got a plan")
	}
	for q, short := range map[string]bool{
		`process.name : (scp or sshd)`:                   true,
		`file.path : /srv/*`:                             false,
		`a : "` + strings.Repeat("x", maxInline+1) + `"`: false,
	} {
		if p := planQuery(q); p == nil || p.exact != short {
			t.Errorf("%s: plan %+v, want short %v", q, p, short)
		}
	}
}

// TestExceptionPreviewCount: the preview count is the same as a
// decode of every alert, including multi-valued fields.
func TestExceptionPreviewCount(t *testing.T) {
	rows := buildRows(append(alerts.TableAlerts(), oddAlerts()...))
	for _, fv := range [][2]string{{"process.name", "sshd"}, {"process.args", "-D"}, {"xferhunt.ancestry.name", "systemd"}, {"process.pid", "31337"}} {
		var n atomic.Int64
		parallelMatch(rows, nil, func(_ int, d ecs.Doc) {
			if slices.Contains(d.Keywords(fv[0]), fv[1]) {
				n.Add(1)
			}
		})
		if got, want := CountKeyword(rows, fv[0], fv[1]), int(n.Load()); got != want || want == 0 {
			t.Errorf("%s:%s: index counted %d, decoding %d", fv[0], fv[1], got, want)
		}
	}
}

// TestObjectQueriesKeepRows: the object queries the index now answers keep
// the rows they should, not merely the same (possibly no) rows as decoding.
func TestObjectQueriesKeepRows(t *testing.T) {
	alerts := append(alerts.TableAlerts(), oddAlerts()...)
	rows := buildRows(alerts)
	for q, want := range map[string]int{
		`process.parent : *`:                              len(alerts),
		`process.parent : { name : sshd and pid : 4100 }`: len(alerts),
		`not threat : *`:                                  1, // odd-sparse
		`process : { name : vsftpd and pid : 31337 }`:     1, // odd-typed
	} {
		pl := planQuery(q)
		if pl == nil || !pl.nest {
			t.Errorf("%s: plan %+v, want a nested mini document", q, pl)
			continue
		}
		if got := len(computeView(rows, kql.MustParse(q).Match, pl, SortTime)); got != want {
			t.Errorf("%s kept %d rows, want %d", q, got, want)
		}
	}
}

// TestLeafwiseReadsLittle: handed a KQL query, the pass answers every
// indexed row itself (no decode) as decoding would, reads a row's JSON
// only for values the index lacks, and inflates it only as far as the
// last field it wants.
func TestLeafwiseReadsLittle(t *testing.T) {
	rows := buildRows(append(append(alerts.TableAlerts(), alerts.Many(50)...), oddAlerts()...))
	for _, tc := range []struct {
		q string
		// json: the rows whose JSON may be read, by uuid prefix
		json []string
	}{
		{`process.name : sshd`, nil},
		// equality: long values cannot be equal; cold ones are unknown
		{`sshd and not mallory`, []string{"odd-utf8", "odd-typed"}},
		{`kibana.alert.rule.description : *variant*`, []string{"long-text-"}},
		{`*SYSCALL*`, []string{""}}, // every event.original is long
		{`event.original : *SYSCALL*`, []string{""}},
		{`not process.title : *dotted*`, []string{"odd-typed"}},
	} {
		q := kql.MustParse(tc.q)
		lp := newLeafPlan(q)
		if lp == nil {
			t.Fatalf("%s: no leafwise plan", tc.q)
		}
		e := newLeafEval(lp)
		for _, r := range rows {
			got, ok := e.match(r)
			if !ok {
				t.Fatalf("%s: %s needs decoding", tc.q, r.uuid)
			}
			if want := q.Match(r.doc()); got != want {
				t.Errorf("%s: %s leafwise %v, decoded %v", tc.q, r.uuid, got, want)
			}
			if e.js.started && !slices.ContainsFunc(tc.json, func(p string) bool { return strings.HasPrefix(r.uuid, p) }) {
				t.Errorf("%s: %s read its JSON", tc.q, r.uuid)
			}
			if e.js.started && tc.q == `event.original : *SYSCALL*` && r.uuid == "odd-long" {
				js, _ := r.JSON()
				if len(e.js.buf) >= len(js) {
					t.Errorf("%s: inflated all %d bytes of %s", tc.q, len(js), r.uuid)
				}
			}
		}
		e.release()
	}
}
