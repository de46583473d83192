package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditd"
)

// TestScanSparseSameAsWhole: `scan` of ECS NDJSON decoding only what the
// rules read of the documents no query matches writes the same alerts and
// the same summary as decoding every document whole, for the built-in
// rules, for a rule whose query reads other fields and for nested queries.
func TestScanSparseSameAsWhole(t *testing.T) {
	// The capture's ECS documents as Elastic Defend ships them, copied
	// over ten days of event time (so tuples recur and new ones appear),
	// spelled three ways (nested, dotted keys, mixed), with malformed lines.
	f, err := os.Open("../testdata/capture/raw.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []ecs.Doc
	_, err = auditd.ScanRecorded(f, sources.ScanOptions{HostID: "h1", Story: true, Workers: 1, Emit: func(ev sources.Event) {
		ev.Doc.Set("event.module", "endpoint")
		docs = append(docs, ev.Doc)
	}})
	if err != nil || len(docs) < 50 {
		t.Fatalf("capture: %v, %d documents", err, len(docs))
	}
	var in bytes.Buffer
	for round := range 30 {
		for i, d := range docs {
			c := d.Clone()
			ts := fmt.Sprintf("2026-11-%02dT%02d:%02d:00.000Z", 1+round/3, round%3*8, i%60)
			c["@timestamp"] = ts
			c.Set("event.ingested", ts)
			if p := c.Str("file.path"); p != "" && round%4 == 0 {
				c.Set("file.path", fmt.Sprintf("%s.%d", p, round))
			}
			if round%5 == 1 {
				c.Set("process.executable", c.Str("process.executable")+"-v2")
			}
			b, err := ecs.AppendJSON(nil, map[string]any(c))
			if err != nil {
				t.Fatal(err)
			}
			switch i % 3 {
			case 1: // dotted keys at the top
				if name := c.Str("process.name"); name != "" {
					b = append([]byte(`{"process.name":`+fmt.Sprintf("%q", name)+`,`), b[1:]...)
				}
			case 2:
				b = bytes.Replace(b, []byte(`"host":{`), []byte(`"host.os.type":"linux","host":{`), 1)
			}
			in.Write(b)
			in.WriteByte('\n')
		}
		in.WriteString("{\"broken\":\n\n")
	}
	path := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(path, in.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	rule := sparseTestRule(t)
	nested := sparseTestRuleOf(t, nestedQuery, `"file.path"`)
	for _, rules := range [][]string{{"seed"}, {"seed", rule}, {nested}} {
		wantAlerts, wantSummary := scanAlerts(t, path, false, rules)
		gotAlerts, gotSummary := scanAlerts(t, path, true, rules)
		if gotSummary != wantSummary {
			t.Errorf("rules %v: summary\n sparse %s\n whole  %s", rules, gotSummary, wantSummary)
		}
		if len(wantAlerts) < 3 || !strings.Contains(wantSummary, " 30 malformed") {
			t.Errorf("rules %v: the input exercises too little: %d alerts, %s", rules, len(wantAlerts), wantSummary)
		}
		t.Logf("rules %v: %d alerts; %s", rules, len(wantAlerts), strings.TrimSpace(wantSummary))
		if strings.Join(gotAlerts, "\n") != strings.Join(wantAlerts, "\n") {
			t.Errorf("rules %v: %d alerts sparse, %d whole, or they differ", rules, len(gotAlerts), len(wantAlerts))
		}
	}
}

// scanAlerts runs `scan --ephemeral` of path with rules, decoding sparsely
// or not, and returns the alerts (without the run's wall-clock fields) and
// the summary (without its timing).
func scanAlerts(t *testing.T, path string, sparse bool, rules []string) (alerts []string, summary string) {
	t.Helper()
	old := scanSparse
	scanSparse = sparse
	defer func() { scanSparse = old }()
	var out, errOut bytes.Buffer
	cfg := Config{Rules: rules, Ephemeral: true, HostID: "fallback", Stdout: &out, Stderr: &errOut}
	if err := Scan(cfg, []string{path}); err != nil {
		t.Fatalf("scan: %v (%s)", err, errOut.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("alert %q: %v", line, err)
		}
		// The wall clock of the run, not of the events.
		for _, k := range []string{"@timestamp", "kibana.alert.intended_timestamp", "kibana.alert.last_detected", "kibana.alert.start"} {
			delete(m, k)
		}
		b, _ := json.Marshal(m)
		alerts = append(alerts, string(b))
	}
	return alerts, scanTiming.ReplaceAllString(errOut.String(), "")
}

var scanTiming = regexp.MustCompile(`[0-9.]+ s, [0-9]+ lines/s`)

// TestScanSparseAuditdSameAsWhole: `scan` of auditd logs building only
// the fields the rules read of the events no query matches (sources.Sparse,
// auditd.Options.Sparse) writes the same alerts and summary as building
// every document whole: the capture and the coverage log, copied over
// days with new paths or executables in some copies, for the seed rule,
// for every built-in rule that is not a companion (latest for seed), with a rule reading fields
// the sparse documents do not hold, and with nested queries (nestedQuery).
func TestScanSparseAuditdSameAsWhole(t *testing.T) {
	var in bytes.Buffer
	stamp := regexp.MustCompile(`msg=audit\(([0-9]+)\.([0-9]+):([0-9]+)\)`)
	for _, name := range []string{"capture/raw.log", "coverage/raw.log"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for c := range 8 {
			copied := stamp.ReplaceAllFunc(data, func(m []byte) []byte {
				p := stamp.FindSubmatch(m)
				sec, _ := strconv.ParseInt(string(p[1]), 10, 64)
				serial, _ := strconv.ParseInt(string(p[3]), 10, 64)
				return fmt.Appendf(nil, "msg=audit(%d.%s:%d)", sec+int64(c)*7*3600, p[2], serial+int64(c)*100000)
			})
			switch c % 3 {
			case 1:
				copied = bytes.ReplaceAll(copied, []byte(`name="/tmp/`), fmt.Appendf(nil, `name="/tmp/c%d-`, c))
			case 2: // new executables: new terms of the seed rule
				copied = bytes.ReplaceAll(copied, []byte(`exe="/usr/`), fmt.Appendf(nil, `exe="/opt/c%d/`, c))
			}
			in.Write(copied)
		}
	}
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, in.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	every := []string{"latest", "coverage-dirs", "coverage-internal-sftp", "coverage-overwrite", "coverage-rename", "coverage-rsync"}
	nested := sparseTestRuleOf(t, nestedQuery, `"file.path"`)
	for _, rules := range [][]string{{"seed"}, every, {"seed", sparseTestRule(t)}, {nested}} {
		wantAlerts, wantSummary := scanAlerts(t, path, false, rules)
		gotAlerts, gotSummary := scanAlerts(t, path, true, rules)
		if gotSummary != wantSummary {
			t.Errorf("rules %v: summary\n sparse %s\n whole  %s", rules, gotSummary, wantSummary)
		}
		if len(wantAlerts) < 6 {
			t.Errorf("rules %v: the input exercises too little: %d alerts, %s", rules, len(wantAlerts), wantSummary)
		}
		t.Logf("rules %v: %d alerts; %s", rules, len(wantAlerts), strings.TrimSpace(wantSummary))
		if strings.Join(gotAlerts, "\n") != strings.Join(wantAlerts, "\n") {
			t.Errorf("rules %v: %d alerts sparse, %d whole, or they differ", rules, len(gotAlerts), len(wantAlerts))
		}
	}
}

// sparseTestRule writes a rule whose query reads fields the seed rule does
// not, and returns its path.
func sparseTestRule(t *testing.T) string {
	t.Helper()
	return sparseTestRuleOf(t, `process.parent.pid > 1000 and user.id:* and not process.args:"-D"`, `"host.id", "user.id"`)
}

// nestedQuery is a query of nested clauses (path:{ ... }): each needs one
// object at its path to satisfy the inner query, so it reads objects, not
// the values at dotted paths a sparse document holds.
const nestedQuery = `file:{ extension: bin } or event:{ category: file and action: rename } or process:{ name: scp and pid > 0 }`

// sparseTestRuleOf writes a rule of query, with new-terms fields terms
// (TOML strings), and returns its path.
func sparseTestRuleOf(t *testing.T, query, terms string) string {
	t.Helper()
	rule := filepath.Join(t.TempDir(), "rule.toml")
	toml := strings.ReplaceAll(`[metadata]
creation_date = "2026/01/01"
[rule]
name = "Sparse test rule"
rule_id = "sparse-test-rule"
description = "Reads fields the seed rule does not."
risk_score = 21
severity = "low"
type = "new_terms"
language = "kuery"
index = ["logs-*"]
query = QQQ
`+query+`
QQQ
[rule.new_terms]
field = "new_terms_fields"
value = [`+terms+`]
[[rule.new_terms.history_window_start]]
field = "history_window_start"
value = "now-2d"
`, "QQQ", "'''")
	if err := os.WriteFile(rule, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return rule
}
