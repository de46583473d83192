package alertdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/sharedtest/alerts"
)

// cloneDoc is a deep copy of a document through its JSON, so a test may
// change members that alerts share read-only (the rule's fields).
func cloneDoc(tb testing.TB, d ecs.Doc) ecs.Doc {
	tb.Helper()
	js, err := json.Marshal(map[string]any(d))
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// variedAlerts are real alerts of the seed rule (both captures) and
// copies whose members differ from their template in every way a delta
// must carry: the rule's own shared members changed (name, guide, threat,
// parameters), members removed and added, arrays longer and shorter,
// a value's type changed, numbers that extend the template's digits,
// escapes and invalid UTF-8, empty objects and arrays.
func variedAlerts(tb testing.TB) []detect.Alert {
	tb.Helper()
	var out []detect.Alert
	for _, name := range []string{"raw.log", "enriched.log"} {
		out = append(out, captureAlerts(tb, name, []string{"file.path", "host.id"})...)
	}
	base := out[len(out)-1].Doc
	edits := []func(d ecs.Doc){
		func(d ecs.Doc) { d.Set("kibana.alert.rule.name", "Unusual Remote File Creation (edited)") },
		func(d ecs.Doc) {
			g, _ := d.Get("kibana.alert.rule.note").(string)
			d.Set("kibana.alert.rule.note", strings.Replace(g, "e", "E", 7)+"\n<b>&</b> \u2028")
		},
		func(d ecs.Doc) { delete(d, "threat") },
		func(d ecs.Doc) { d["threat"] = "not an array any more" },
		func(d ecs.Doc) {
			th, _ := d["threat"].([]any)
			d["threat"] = append(th, map[string]any{"framework": "MITRE ATT&CK", "tactic": map[string]any{"id": "TA0010"}})
		},
		func(d ecs.Doc) {
			if th, _ := d["threat"].([]any); len(th) > 0 {
				d["threat"] = th[:len(th)-1]
			}
		},
		func(d ecs.Doc) { d.Set("kibana.alert.rule.parameters", map[string]any{}) },
		func(d ecs.Doc) { d.Set("kibana.alert.rule.risk_score", 4700.25) },
		func(d ecs.Doc) {
			if p, ok := d.Get("process.pid").(float64); ok {
				d.Set("process.pid", p*10+7) // the template's digits, then more
			}
		},
		func(d ecs.Doc) { d.Set("file.path", "/tmp/\xff\xfe\"quoted\"\\\n.bin") },
		func(d ecs.Doc) { d["zzz_new"] = map[string]any{"a": []any{}, "b": nil, "c": []any{1.0, "x", true}} },
		func(d ecs.Doc) { d["aaa_first"] = "before every template key" },
		func(d ecs.Doc) { d["kibana.alert.rule.parameters"] = nil },
		func(d ecs.Doc) {
			anc, _ := d.Get("kibana.alert.ancestors").([]any)
			d.Set("kibana.alert.ancestors", append(anc, anc...))
		},
		func(d ecs.Doc) { d.Set("event.original", "") },
		func(d ecs.Doc) {
			for k := range d {
				if k != "kibana" {
					delete(d, k)
				}
			}
		},
	}
	for i, edit := range edits {
		d := cloneDoc(tb, base)
		edit(d)
		d["kibana.alert.uuid"] = fmt.Sprintf("edited-%d", i)
		out = append(out, detect.Alert{Doc: d})
	}
	// Documents as the engine hands them, with Go types JSON changes.
	return append(append(out, alerts.TableAlerts()...), oddAlerts()...)
}

// TestRowRoundTrip: every alert's row gives back exactly the JSON it was
// made from, byte for byte, and the document decoding that JSON gives,
// also when its shared members differ from its template's.
func TestRowRoundTrip(t *testing.T) {
	for i, a := range variedAlerts(t) {
		want, err := json.Marshal(map[string]any(a.Doc))
		if err != nil {
			t.Fatal(err)
		}
		r := NewRow(a)
		if r.tmpl == nil {
			t.Errorf("alert %d (%s) has no template", i, r.UUID())
		}
		got, err := r.JSON()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("alert %d (%s): JSON does not round-trip (%v): %d bytes, want %d", i, r.UUID(), err, len(got), len(want))
			continue
		}
		var wantDoc map[string]any
		if err := json.Unmarshal(want, &wantDoc); err != nil {
			t.Fatal(err)
		}
		if d := r.Doc(); !reflect.DeepEqual(map[string]any(d), wantDoc) {
			t.Errorf("alert %d (%s): the decoded document differs", i, r.UUID())
		}
	}
}

// TestDeltaCopiesTemplate: an alert that differs from its template in a
// few members is held as a short delta, however long the shared members
// (the 258-byte match limit floored deflate at ~300 bytes for 24 KB).
func TestDeltaCopiesTemplate(t *testing.T) {
	as := captureAlerts(t, "enriched.log", []string{"file.path", "host.id"})
	tj, _ := json.Marshal(map[string]any(as[0].Doc))
	root := parseTemplate(tj)
	if root == nil {
		t.Fatal("a real alert's JSON does not parse as a template")
	}
	d := cloneDoc(t, as[0].Doc)
	d["kibana.alert.uuid"] = "another-uuid"
	js, _ := json.Marshal(map[string]any(d))
	delta, like := makeDelta(nil, js, tj, root)
	if len(delta) > 100 || len(like) > 1 {
		t.Errorf("one changed member: a delta of %d bytes (%d template values named) for %d bytes of JSON", len(delta), len(like), len(js))
	}
	if got, err := applyDelta(nil, delta, tj); err != nil || !bytes.Equal(got, js) {
		t.Fatalf("delta does not apply: %v", err)
	}
	// The audit record replaced by another is named for the dictionary.
	d.Set("event.original", strings.Repeat("type=SYSCALL msg=audit(1.2:3) ", 3))
	js, _ = json.Marshal(map[string]any(d))
	_, like = makeDelta(nil, js, tj, root)
	named := false
	for _, s := range like {
		named = named || strings.HasPrefix(string(tj[s.start:s.end]), `"type=SYSCALL`)
	}
	if !named {
		t.Errorf("replaced record not named: %v", like)
	}
}

// TestTemplatesBounded: templates of distinct executables stop at
// maxExeTemplates; later alerts share their rule's template and still
// round-trip.
func TestTemplatesBounded(t *testing.T) {
	base := alerts.Make(alerts.Table[1])
	var last *Row
	for i := range maxExeTemplates + 10 {
		d := cloneDoc(t, base.Doc)
		d["kibana.alert.rule.rule_id"] = "bounded-rule"
		d.Set("process.executable", fmt.Sprintf("/usr/bin/prog-%d", i))
		d["kibana.alert.uuid"] = fmt.Sprintf("bounded-%d", i)
		last = NewRow(detect.Alert{Doc: d})
		if js, err := last.JSON(); err != nil || !bytes.Contains(js, []byte(fmt.Sprintf("prog-%d", i))) {
			t.Fatalf("alert %d does not round-trip: %v", i, err)
		}
	}
	templates.Lock()
	n, exes := len(templates.byKey), templates.exes
	templates.Unlock()
	if exes > maxExeTemplates || n > maxExeTemplates+16 {
		t.Errorf("%d templates, %d of executables", n, exes)
	}
	if last.tmpl != templates.byKey[templateKey{rule: "bounded-rule"}] && exes >= maxExeTemplates {
		t.Error("an alert past the bound did not share its rule's template")
	}
}

// FuzzDelta: for any two JSON documents, the delta of one against the
// other gives it back exactly; a damaged delta is an error, never a panic
// or a read outside the template.
func FuzzDelta(f *testing.F) {
	f.Add(`{"a":1,"b":[1,2,{"c":"x"}],"d":{"e":true}}`, `{"a":12,"b":[1,{"c":"y"}],"d":{"e":true,"f":null},"g":"\u003c"}`, []byte{3, 1, 2})
	f.Add(`[1,2,3]`, `{"a":[1,2,3]}`, []byte{0})
	f.Add(`{"k":"`+strings.Repeat("v", 300)+`"}`, `{"k":"`+strings.Repeat("v", 299)+`w"}`, []byte{1, 'x', 9, 4})
	f.Fuzz(func(t *testing.T, tmpl, doc string, junk []byte) {
		var tv, dv any
		if json.Unmarshal([]byte(tmpl), &tv) != nil || json.Unmarshal([]byte(doc), &dv) != nil {
			return
		}
		tj, _ := json.Marshal(tv)
		js, _ := json.Marshal(dv)
		delta, like := makeDelta(nil, js, tj, parseTemplate(tj))
		if got, err := applyDelta(nil, delta, tj); err != nil || !bytes.Equal(got, js) {
			t.Fatalf("delta of %s against %s gives %s (%v)", js, tj, got, err)
		}
		// Read a piece at a time, as a scan that stops early does.
		var c deltaCursor
		c.reset(delta, tj)
		var got []byte
		for k := 0; ; k++ {
			n := 1
			if len(junk) > 0 {
				n = int(junk[k%len(junk)]) + 1
			}
			var done bool
			var err error
			if got, done, err = c.appendTo(got, n); err != nil {
				t.Fatal(err)
			}
			if done {
				break
			}
		}
		if !bytes.Equal(got, js) {
			t.Fatalf("read a piece at a time, the delta gives %s, want %s", got, js)
		}
		var want []byte
		for _, s := range like {
			want = append(want, tj[s.start:s.end]...)
		}
		hdr := appendSpans(nil, like)
		if dict, rest, err := appendLike(nil, string(append(hdr, junk...)), tj); err != nil || rest != string(junk) || !bytes.Equal(dict, want) {
			t.Fatalf("spans %v do not read back: %v", like, err)
		}
		_, _ = applyDelta(nil, junk, tj)
		c.reset(junk, tj)
		_, _, _ = c.appendTo(nil, len(js)+len(junk))
		_, _, _ = appendLike(nil, string(junk), tj)
	})
}

// TestHostileTemplateBounded: the first alert of a rule and program may be
// hostile and its template lives as long as the process: a document of
// 200k tiny values keeps at most maxTemplateNodes of structure, one over
// maxTemplateJSON keeps no JSON, and the rows of both keys round-trip.
func TestHostileTemplateBounded(t *testing.T) {
	count := func(n *jnode) int {
		var walk func(*jnode) int
		walk = func(n *jnode) int {
			c := 1
			for _, m := range n.mems {
				c += walk(m.val)
			}
			return c
		}
		if n == nil {
			return 0
		}
		return walk(n)
	}
	many := make([]any, 200_000)
	for i := range many {
		many[i] = map[string]any{"n": float64(i % 7)}
	}
	for _, tc := range []struct {
		name  string
		items []any
	}{{"many values", many[:20_000]}, {"over the JSON bound", many}} {
		rule := "hostile-" + tc.name
		var rows []*Row
		for k := range 3 {
			d := ecs.Doc{"kibana.alert.rule.rule_id": rule, "kibana.alert.uuid": fmt.Sprintf("%s-%d", rule, k), "items": tc.items,
				"process": map[string]any{"executable": "/tmp/x"}, "k": float64(k)}
			rows = append(rows, NewRow(detect.Alert{Doc: d}))
			want, _ := json.Marshal(map[string]any(d))
			if got, err := rows[k].JSON(); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: row %d does not round-trip: %v", tc.name, k, err)
			}
		}
		tm := rows[0].tmpl
		n, big := count(tm.root), len(tm.js) > maxTemplateJSON
		t.Logf("%s: template of %d bytes of JSON, %d nodes; a later row holds %d bytes", tc.name, len(tm.js), n, len(rows[2].blob))
		if n > maxTemplateNodes || big {
			t.Errorf("%s: the template keeps %d nodes and %d bytes of JSON", tc.name, n, len(tm.js))
		}
	}
}
