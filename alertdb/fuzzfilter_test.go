package alertdb

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/internal/sharedtest/alerts"
	"github.com/xferhunt/xferhunt/sources/ecsjson"
)

// hostileAlertSeeds are lines of a view file a hostile colleague could
// hand over: fields that collide in type with the rule template's members
// (number vs string, array vs object, null), duplicate keys, escapes that
// decode to control bytes or lone surrogates, invalid UTF-8, long values.
var hostileAlertSeeds = []string{
	`{"kibana.alert.uuid":"h1","kibana.alert.rule.rule_id":"r","process":{"name":42,"pid":"x"},"file":{"path":["a","b"]}}`,
	`{"kibana.alert.uuid":"h2","kibana.alert.rule.rule_id":"r","process":"sshd","file":null,"user":{"name":{"x":1}}}`,
	`{"kibana.alert.uuid":"h3","kibana.alert.rule.rule_id":"r","process":{"name":"scp"},"process":{"name":"sshd"},"process.name":"ftp"}`,
	`{"kibana.alert.uuid":"h4","kibana.alert.rule.rule_id":"r","process":{"name":"\u0000\u001b[31mred\ud800"},"file":{"path":"/srv/\xff\xfe"}}`,
	`{"kibana.alert.uuid":"h5","kibana.alert.rule.rule_id":"r","event":{"original":"` + strings.Repeat(`type=SYSCALL \"x\" `, 20) + `"}}`,
	`{"kibana.alert.uuid":"h6","kibana.alert.rule.rule_id":"r","threat":{"tactic":{"id":"TA0008"}},"labels":[{"a":1},2,"3",null,true]}`,
	`{"kibana.alert.uuid":"h7","kibana.alert.rule.rule_id":"r","process":{"pid":1e400,"args":[[["deep"]]]},"source":{"port":-0.0}}`,
	`{"kibana.alert.uuid":"h8","kibana.alert.rule.rule_id":"` + fuzzRuleID + `","kibana.alert.rule.description":"` + strings.Repeat("z", 200) + `","process":{"name":"scp"}}`,
}

// fuzzRuleID is the rule of alerts.Many, whose template the hostile rows share.
const fuzzRuleID = "6a2e4a6b-2ef6-4b3b-9d0c-1f6b5a4e6f2d"

var fuzzQuerySeeds = []string{
	`process.name : sshd`, `process.name : *`, `not process.name : *`, `scp`, `*red*`,
	`file.path : *`, `process.pid > 3`, `process : { name : sshd }`, `labels : *`,
	`*SYSCALL*`, `user.name : *`, `process.name : 42`, `file.path : a`,
	`kibana.alert.rule.description : *z*`, `not *z*`, `process.* : ftp`, "\x1b",
	`source.ip : 192.0.2.0/24`, `@timestamp > "2026-11-26T01:01:30Z"`, `process.name.caseless : SCP`, `*.caseless : *SSH*`,
}

// FuzzFilterLikeDecoded: for a hostile alert line next to ordinary alerts
// of the same rule (so it is coded as a delta against their template) and
// any query, the leafwise pass and the planned index pass keep exactly the
// rows that decoding each document and running the predicate keeps, and
// the row's JSON gives back the document that was read.
func FuzzFilterLikeDecoded(f *testing.F) {
	for i, s := range hostileAlertSeeds {
		f.Add([]byte(s), fuzzQuerySeeds[i%len(fuzzQuerySeeds)])
	}
	for _, q := range fuzzQuerySeeds {
		f.Add([]byte(hostileAlertSeeds[0]), q)
	}
	// Long values (read from the row's JSON, not the index) holding what
	// json.Marshal escapes (<, >, &, U+2028) or replaces (invalid UTF-8).
	esc := `{"kibana.alert.uuid":"e1","kibana.alert.rule.rule_id":"` + fuzzRuleID + `","event":{"original":"` +
		strings.Repeat(`<script>&amp;\u2028 \u0026 \ufffd `+"\xff ", 8) + "\u2028\u2029\xfe<>&\\\"\\\\" + `"},"file":{"path":"/srv/<a>&b\u2028` + "\xff" + `"}}`
	for _, q := range []string{`event.original : *<script>*`, `*&amp;*`, "*\u2028*", `event.original : *\\*`, `file.path : /srv/<a>&b*`,
		`*\ufffd*`, `"<script>"`, `not *<script>*`, `event.original : "` + "\u2028" + `"`} {
		f.Add([]byte(esc), q)
	}
	base := alerts.Many(4)
	f.Fuzz(func(t *testing.T, line []byte, query string) {
		if len(line) > 1<<16 || len(query) > 512 {
			return
		}
		d, ok := ecsjson.Decode(line)
		if !ok {
			return
		}
		q, err := kql.Parse(query)
		if err != nil {
			return
		}
		// The TUI compiles filters with the Defend field types (dates,
		// ips, numbers, .caseless): those testers too.
		mapped, _ := kql.ParseMapped(query)
		want0, err := json.Marshal(d)
		if err != nil {
			return
		}
		as := append(slices.Clone(base), detect.Alert{Doc: d})
		// A second copy of the hostile shape under the template's rule.
		d2, _ := ecsjson.Decode(line)
		d2["kibana.alert.rule.rule_id"] = fuzzRuleID
		d2["kibana.alert.uuid"] = "second"
		as = append(as, detect.Alert{Doc: d2})
		rows := buildRows(as)
		got0, err := rows[len(base)].JSON()
		if err != nil {
			t.Fatalf("row JSON: %v", err)
		}
		if !sameJSON(got0, want0) {
			t.Fatalf("row JSON differs from the document read:\n got %s\nwant %s", got0, want0)
		}
		filterLikeDecoded(t, rows, query, q)
		if mapped != nil {
			filterLikeDecoded(t, rows, query, mapped)
		}
	})
}

// sameJSON compares two JSON texts as values (key order aside).
func sameJSON(a, b []byte) bool {
	var x, y any
	da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&x) != nil || db.Decode(&y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

// filterLikeDecoded fails t unless the leafwise pass, and the planned
// index pass when the query has a plan, keep the rows decoding keeps.
func filterLikeDecoded(t testing.TB, rows []*Row, qs string, q *kql.Query) {
	t.Helper()
	want := computeView(rows, q.Match, nil, SortTime)
	if got := Filter(rows, qs, q, SortTime); !slices.Equal(got, want) {
		t.Errorf("%.80q: leafwise kept %v, decoding kept %v", qs, got, want)
	}
	if pl := planQuery(qs); pl != nil {
		if got := computeView(rows, q.Match, pl, SortTime); !slices.Equal(got, want) {
			t.Errorf("%.80q: index kept %v, decoding kept %v", qs, got, want)
		}
	}
}
