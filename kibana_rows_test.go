package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The tests in this file are the table of issue 11: each feeds the
// xferhunt binary (scan --ephemeral, seed rule: new_terms on
// process.executable and host.id, history window 10 days, max_signals 100
// per 5-minute interval) a few ECS documents and expects the alerts
// Kibana's new_terms executor raises on the same documents, as worked out
// from its algorithm (elastic-semantics.md §3) in each test's comment.

// defendDoc is an Elastic Defend file creation event the seed rule matches.
// ts is @timestamp (omitted when nil); exe is process.executable; host is
// host.id as the JSON should hold it (omitted when the string "<missing>").
func defendDoc(ts any, exe string, host any) map[string]any {
	d := map[string]any{
		"event":   map[string]any{"category": []any{"file"}, "action": "creation", "kind": "event"},
		"host":    map[string]any{"os": map[string]any{"type": "linux"}, "name": "web1"},
		"process": map[string]any{"name": path.Base(exe), "executable": exe},
		"file":    map[string]any{"path": "/home/alice/upload.bin"},
	}
	if ts != nil {
		d["@timestamp"] = ts
	}
	if host != "<missing>" {
		d["host"].(map[string]any)["id"] = host
	}
	return d
}

// scanDocs runs `xferhunt scan --ephemeral` over docs as NDJSON on stdin.
func scanDocs(t *testing.T, docs []map[string]any, args ...string) ([]alert, string) {
	t.Helper()
	var b strings.Builder
	for _, d := range docs {
		line, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	full := append([]string{"scan", "--ephemeral", "--host-id", "this-host"}, args...)
	full = append(full, "-")
	r := xferhunt(t, []byte(b.String()), full...)
	if r.code != 0 {
		t.Fatalf("scan exit %d: %s", r.code, r.stderr)
	}
	return alerts(t, r.stdout), r.stderr
}

// originals lists the alerts' kibana.alert.original_time.
func originals(as []alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.str("kibana.alert.original_time"))
	}
	return out
}

// Row 1. Kibana: a document without a usable timestamp is in no run's time
// range, so it neither alerts nor moves anything; T at day 1 has T at day 0
// in its 10-day history: 1 alert. xferhunt judges the untimed event at the
// time of the events before it (T was seen then: no alert), counts it, and
// keeps its clock, so day 0 is not pruned. "2026-01-01T00:10" is a time
// Elasticsearch's strict_date_optional_time accepts (no seconds).
func TestKibanaRow1UntimedEventKeepsHistory(t *testing.T) {
	for name, odd := range map[string]any{
		"missing":     nil,
		"unparsable":  "yesterday at noon",
		"no seconds":  "2026-01-01T00:10",
		"epoch text":  "1767226200000",
		"epoch float": 1767226200000.0,
		"offset":      "2026-01-01T01:10+01:00",
	} {
		t.Run(name, func(t *testing.T) {
			docs := []map[string]any{
				defendDoc("2026-01-01T00:00:00Z", "/usr/lib/openssh/sftp-server", "h1"),
				defendDoc(odd, "/usr/lib/openssh/sftp-server", "h1"),
				defendDoc("2026-01-02T00:00:00Z", "/usr/lib/openssh/sftp-server", "h1"),
			}
			as, stderr := scanDocs(t, docs)
			if len(as) != 1 || as[0].str("kibana.alert.original_time") != "2026-01-01T00:00:00.000Z" {
				t.Fatalf("alerts at %v, want one at day 0; stderr: %s", originals(as), stderr)
			}
			untimed := strings.Contains(stderr, "1 events had no usable time")
			if wantUntimed := name == "missing" || name == "unparsable"; untimed != wantUntimed {
				t.Errorf("untimed reported %v, want %v: %s", untimed, wantUntimed, stderr)
			}
		})
	}
}

// Row 2. Kibana: T on 01-01 alerts; the 2030 event alerts in its own run
// (nothing in its history window); T on 01-02 has 01-01 in its history: 2.
// xferhunt before: the 2030 date became "now" and pruned all history, so T
// on 01-02 alerted again (3).
func TestKibanaRow2FutureDateDoesNotPrune(t *testing.T) {
	docs := []map[string]any{
		defendDoc("2026-01-01T00:00:00Z", "/usr/lib/openssh/sftp-server", "h1"),
		defendDoc("2030-01-01T00:00:00Z", "/usr/bin/scp", "h1"),
		defendDoc("2026-01-02T00:00:00Z", "/usr/lib/openssh/sftp-server", "h1"),
	}
	as, stderr := scanDocs(t, docs)
	got := fmt.Sprint(originals(as))
	if want := "[2026-01-01T00:00:00.000Z 2030-01-01T00:00:00.000Z]"; got != want {
		t.Fatalf("alerts at %s, want %s; stderr: %s", got, want, stderr)
	}
}

// Row 4. Kibana's composite aggregation has no missing_bucket: a document
// whose host.id is missing, null, [] or [null] gives no bucket and no
// alert; "" is a value (one alert). xferhunt before filled every missing
// host.id with this host's id (4 alerts). --host-id is for auditd text only.
func TestKibanaRow4MissingNewTermsFieldNoBucket(t *testing.T) {
	var docs []map[string]any
	for i, h := range []any{"<missing>", "", nil, []any{}, []any{nil}} {
		docs = append(docs, defendDoc(fmt.Sprintf("2026-01-01T00:00:0%dZ", i), "/usr/bin/scp", h))
	}
	as, stderr := scanDocs(t, docs)
	if len(as) != 1 || as[0].str("host.id") != "" || as[0].str("kibana.alert.original_time") != "2026-01-01T00:00:01.000Z" {
		t.Fatalf("alerts at %v, want one, for host.id \"\"; stderr: %s", originals(as), stderr)
	}
	for _, a := range as {
		if strings.Contains(a.str("kibana.alert.new_terms"), "this-host") {
			t.Errorf("--host-id filled an ECS document: %s", a.str("kibana.alert.new_terms"))
		}
	}
}

// Row 5. Kibana: a run over 150 new terms creates 100 (max_signals) and
// the next run, whose look-back overlaps, finds the other 50 still new and
// creates them: 150. xferhunt before: 100, the 50 entered history held
// back for good. Now they are offered to the next interval (here: the
// run after the input ends).
func TestKibanaRow5MaxSignalsOverflowOfferedAgain(t *testing.T) {
	var docs []map[string]any
	for i := range 150 {
		docs = append(docs, defendDoc(fmt.Sprintf("2026-01-01T00:01:%02d.%03dZ", i/10, i%10), fmt.Sprintf("/opt/x/scp%03d/scp", i), "h1"))
	}
	as, stderr := scanDocs(t, docs)
	seen := map[string]bool{}
	for _, a := range as {
		seen[a.str("process.executable")] = true
	}
	if len(as) != 150 || len(seen) != 150 {
		t.Fatalf("%d alerts over %d terms, want 150; stderr: %s", len(as), len(seen), stderr)
	}
	if !strings.Contains(stderr, "50 alerts over max_signals were offered again") || !strings.Contains(stderr, " 0 held back") {
		t.Errorf("summary does not tell: %s", stderr)
	}
}

// writeFile writes content to name in a fresh directory and returns the path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// exceptionList is a Kibana exception-list export line for a list object.
func exceptionList(listID, typ string) string {
	return fmt.Sprintf(`{"list_id":%q,"name":%q,"description":"","type":%q,"namespace_type":"single","os_types":[],"tags":[]}`, listID, listID, typ)
}

// exceptionItem is an export line for an item of listID with one entry.
func exceptionItem(listID, itemID, entry string, extra string) string {
	return fmt.Sprintf(`{"item_id":%q,"list_id":%q,"name":%q,"description":"","namespace_type":"single","os_types":[],"tags":[],"type":"simple","comments":[],"entries":[%s]%s}`, itemID, listID, itemID, entry, extra)
}

// ruleTOML is a new_terms rule on process.executable and host.id (10 days)
// with the given query and extra [rule] keys.
func ruleTOML(query, extra string) string {
	return `[rule]
name = "Row rule"
rule_id = "row-rule-1"
type = "new_terms"
language = "kuery"
severity = "low"
risk_score = 21
timestamp_override = "event.ingested"
query = '''` + query + `'''
` + extra + `
[rule.new_terms]
field = "new_terms_fields"
value = ["process.executable", "host.id"]

[[rule.new_terms.history_window_start]]
field = "history_window_start"
value = "now-10d"
`
}

// Row 7. Kibana applies to a rule only the exception lists attached to
// it: an export holding the rule's list and Elastic Defend's trusted
// applications excepts with the first only (trusted apps are applied by
// the endpoint). xferhunt before applied every item to every rule. A rule
// whose exceptions_list names another list gets neither.
func TestKibanaRow7OnlyAttachedListsApply(t *testing.T) {
	exc := writeFile(t, "export.ndjson", strings.Join([]string{
		exceptionList("rule-exc", "detection"),
		exceptionItem("rule-exc", "b-path", `{"field":"file.path","operator":"included","type":"match","value":"/home/alice/b.bin"}`, ""),
		exceptionList("endpoint_trusted_apps", "endpoint_trusted_apps"),
		exceptionItem("endpoint_trusted_apps", "scp-trusted", `{"field":"process.executable","operator":"included","type":"match","value":"/usr/bin/scp"}`, ""),
	}, "\n")+"\n")
	a := defendDoc("2026-01-01T00:00:00Z", "/usr/bin/scp", "h1")
	b := defendDoc("2026-01-01T00:01:00Z", "/usr/lib/openssh/sftp-server", "h1")
	b["file"].(map[string]any)["path"] = "/home/alice/b.bin"
	docs := []map[string]any{a, b}

	as, stderr := scanDocs(t, docs, "--exceptions", exc)
	if len(as) != 1 || as[0].str("process.executable") != "/usr/bin/scp" {
		t.Fatalf("seed rule: %d alerts, want the scp one only (trusted apps do not apply); stderr: %s", len(as), stderr)
	}
	if !strings.Contains(stderr, `list "endpoint_trusted_apps" (type "endpoint_trusted_apps") is attached to no loaded rule`) {
		t.Errorf("no warning about the unapplied list: %s", stderr)
	}
	q := `event.category:file and event.action:creation`
	other := writeFile(t, "other.toml", ruleTOML(q, `exceptions_list = [{id = "x1", list_id = "another-list", namespace_type = "single", type = "detection"}]`))
	as, stderr = scanDocs(t, docs, "--exceptions", exc, "--rule", other)
	if len(as) != 2 {
		t.Fatalf("rule attached to another list: %d alerts, want 2; stderr: %s", len(as), stderr)
	}
	own := writeFile(t, "own.toml", ruleTOML(q, `exceptions_list = [{id = "x2", list_id = "endpoint_trusted_apps", namespace_type = "agnostic", type = "endpoint"}]`))
	as, stderr = scanDocs(t, docs, "--exceptions", exc, "--rule", own)
	if len(as) != 1 || as[0].str("process.executable") != "/usr/lib/openssh/sftp-server" {
		t.Fatalf("rule attached to trusted apps: %d alerts, want the sftp-server one; stderr: %s", len(as), stderr)
	}
}

// Row 8. Exception entries on mapped fields compare as Elasticsearch does:
// file.path.caseless has a lowercase normaliser (value and data lowered),
// source.ip is an ip field (a CIDR block matches its addresses),
// process.pid a long. xferhunt before compared raw keywords: no match.
func TestKibanaRow8ExceptionsOnMappedFields(t *testing.T) {
	for name, entry := range map[string]string{
		"caseless":          `{"field":"file.path.caseless","operator":"included","type":"match","value":"/HOME/ALICE/UPLOAD.BIN"}`,
		"caseless wildcard": `{"field":"file.path.caseless","operator":"included","type":"wildcard","value":"/HOME/*/UPLOAD.BI?"}`,
		"ip cidr":           `{"field":"source.ip","operator":"included","type":"match","value":"10.0.0.0/8"}`,
		"ip one of":         `{"field":"source.ip","operator":"included","type":"match_any","value":["192.168.0.0/16","10.1.2.0/24"]}`,
		"long":              `{"field":"process.pid","operator":"included","type":"match","value":"4242"}`,
		"exists on object":  `{"field":"process.parent","operator":"included","type":"exists"}`,
	} {
		t.Run(name, func(t *testing.T) {
			exc := writeFile(t, "export.ndjson", exceptionList("l1", "detection")+"\n"+exceptionItem("l1", "i1", entry, "")+"\n")
			d := defendDoc("2026-01-01T00:00:00Z", "/usr/bin/scp", "h1")
			d["source"] = map[string]any{"ip": "10.1.2.3"}
			d["process"].(map[string]any)["pid"] = 4242.0
			d["process"].(map[string]any)["parent"] = map[string]any{"name": "sshd"}
			as, stderr := scanDocs(t, []map[string]any{d}, "--exceptions", exc)
			if len(as) != 0 || !strings.Contains(stderr, " 1 excepted") {
				t.Fatalf("%d alerts, want the event excepted; stderr: %s", len(as), stderr)
			}
		})
	}
}

// Row 9. A rule's KQL compares each field by its mapped type: process.pid
// is a long (99 < 100 numerically, though "99" >= "100" as keywords),
// source.ip an ip (CIDR), process.name.caseless a lowercased keyword.
// xferhunt before used keyword semantics for every field.
func TestKibanaRow9RuleQueryMappedTypes(t *testing.T) {
	d := defendDoc("2026-01-01T00:00:00Z", "/usr/bin/scp", "h1")
	d["process"].(map[string]any)["pid"] = 99.0
	d["source"] = map[string]any{"ip": "10.9.8.7"}
	for q, want := range map[string]int{
		`process.pid >= 100`:                     0,
		`process.pid < 100`:                      1,
		`source.ip:10.0.0.0/8`:                   1,
		`source.ip:"192.168.0.0/16"`:             0,
		`process.name.caseless:SCP`:              1,
		`process.name.caseless:S*`:               1,
		`process.pid:99 and source.ip:10.9.8.7`:  1,
		`not process.name.caseless:(SCP or FTP)`: 0,
	} {
		rule := writeFile(t, "r.toml", ruleTOML(q, ""))
		as, stderr := scanDocs(t, []map[string]any{d}, "--rule", rule)
		if len(as) != want {
			t.Errorf("%s: %d alerts, want %d; stderr: %s", q, len(as), want, stderr)
		}
	}
}

// ingestedDoc is defendDoc with event.ingested set (the rule's
// timestamp_override), @timestamp a day earlier.
func ingestedDoc(ingested, exe string) map[string]any {
	d := defendDoc("2026-01-01T00:00:00Z", exe, "h1")
	d["event"].(map[string]any)["ingested"] = ingested
	return d
}

// Row 3. Kibana judges by time, not arrival: the same term ingested on
// 01-21, 01-06 and 01-15 (in that file order) is new once, on 01-06 (01-15
// and 01-21 have a sighting less than 10 days before). xferhunt before
// followed arrival: 01-21 alerted, then 01-06 (15 days earlier) again.
func TestKibanaRow3FileOrderIsNotTimeOrder(t *testing.T) {
	exe := "/usr/lib/openssh/sftp-server"
	docs := []map[string]any{
		ingestedDoc("2026-01-21T00:00:00Z", exe),
		ingestedDoc("2026-01-06T00:00:00Z", exe),
		ingestedDoc("2026-01-15T00:00:00Z", exe),
	}
	as, stderr := scanDocs(t, docs)
	if len(as) != 1 || as[0].str("event.ingested") != "2026-01-06T00:00:00Z" {
		var got []string
		for _, a := range as {
			got = append(got, a.str("event.ingested"))
		}
		t.Fatalf("alerts for events ingested %v, want one, 2026-01-06; stderr: %s", got, stderr)
	}
}

// Row 6. Kibana drops expired exception items at each run and applies the
// rest to history too: an item expiring 01-02 excepts T's event of 01-01
// in the run of 01-01, but the run of 01-03 recomputes history without it,
// so 01-01 is history and T on 01-03 is not new: 0 alerts. xferhunt before
// kept the 01-01 event out of history for good (1 alert). An item that
// never expires keeps it out: T on 01-03 alerts.
func TestKibanaRow6ExpiredExceptionRejoinsHistory(t *testing.T) {
	entry := `{"field":"file.path","operator":"included","type":"match","value":"/home/alice/excepted.bin"}`
	a := defendDoc("2026-01-01T00:00:00Z", "/usr/bin/scp", "h1")
	a["file"].(map[string]any)["path"] = "/home/alice/excepted.bin"
	b := defendDoc("2026-01-03T00:00:00Z", "/usr/bin/scp", "h1")
	for name, c := range map[string]struct {
		extra string
		want  int
	}{
		"expires 01-02": {`,"expire_time":"2026-01-02T00:00:00.000Z"`, 0},
		"never expires": {"", 1},
	} {
		exc := writeFile(t, "export.ndjson", exceptionList("l1", "detection")+"\n"+exceptionItem("l1", "i1", entry, c.extra)+"\n")
		// Both file orders: the judgement does not follow arrival.
		for _, docs := range [][]map[string]any{{a, b}, {b, a}} {
			as, stderr := scanDocs(t, docs, "--exceptions", exc)
			if len(as) != c.want || !strings.Contains(stderr, " 1 excepted") {
				t.Errorf("%s: %d alerts, want %d; stderr: %s", name, len(as), c.want, stderr)
			}
		}
	}
}

// auditEvents splits an auditd log into its events (the lines of one
// audit(TIME:SERIAL), in order of first appearance).
func auditEvents(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`audit\(([0-9.]+:[0-9]+)\)`)
	idx := map[string]int{}
	var evs [][]string
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		k := "line:" + l
		if m := re.FindStringSubmatch(l); m != nil {
			k = m[1]
		}
		i, ok := idx[k]
		if !ok {
			i = len(evs)
			idx[k] = i
			evs = append(evs, nil)
		}
		evs[i] = append(evs[i], l)
	}
	return evs
}

// alertSet is the alerts as comparable lines: id, terms, source time.
func alertSet(as []alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.str("kibana.alert.uuid")+" "+a.str("kibana.alert.new_terms")+" "+a.str("kibana.alert.original_time"))
	}
	sort.Strings(out)
	return out
}

// TestScanOrderFree is acceptance 3's second half: the real capture, its
// events reversed and shuffled, gives the same alerts (ids, terms, source
// times) — with the 2-second window too, where the same terms alert several
// times and the earliest document of each episode must be found.
func TestScanOrderFree(t *testing.T) {
	evs := auditEvents(t, "testdata/capture/raw.log")
	write := func(order []int) string {
		var b strings.Builder
		for _, i := range order {
			for _, l := range evs[i] {
				b.WriteString(l + "\n")
			}
		}
		return writeFile(t, "raw.log", b.String())
	}
	in := make([]int, len(evs))
	for i := range in {
		in[i] = i
	}
	rev := slices.Clone(in)
	slices.Reverse(rev)
	shuf := slices.Clone(in)
	rand.New(rand.NewPCG(11, 11)).Shuffle(len(shuf), func(i, j int) { shuf[i], shuf[j] = shuf[j], shuf[i] })
	for _, window := range []string{"10d", "2s"} {
		var want []string
		for name, order := range map[string][]int{"in order": in, "reversed": rev, "shuffled": shuf} {
			r := xferhunt(t, nil, "scan", "--ephemeral", "--history-window", window, write(order))
			if r.code != 0 {
				t.Fatalf("%s: exit %d: %s", name, r.code, r.stderr)
			}
			got := alertSet(alerts(t, r.stdout))
			if len(got) == 0 {
				t.Fatalf("%s, window %s: no alerts", name, window)
			}
			if want == nil {
				want = got
			} else if !slices.Equal(got, want) {
				t.Errorf("window %s, %s: alerts\n%s\nwant\n%s", window, name, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	}
}

// TestAlertDocumentKibanaFields is acceptance 3's first half: an alert of
// the real capture compared field by field with the Kibana new_terms alert
// document build_alert (and the rule registry's common fields) would write
// for the same event and rule (elastic-semantics.md §3.7): every field
// Kibana writes is there, with Kibana's value where it is determined by the
// rule and the event.
func TestAlertDocumentKibanaFields(t *testing.T) {
	r := xferhunt(t, nil, "scan", "--ephemeral", "--rule", "latest", "testdata/capture/raw.log")
	as := alerts(t, r.stdout)
	if r.code != 0 || len(as) == 0 {
		t.Fatalf("exit %d, %d alerts: %s", r.code, len(as), r.stderr)
	}
	a := as[0]
	iso := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	// Kibana's value where the rule and the event decide it ("" = present).
	kibana := map[string]string{
		"kibana.alert.rule.type":                 "new_terms",
		"kibana.alert.rule.rule_type_id":         "siem.newTermsRule",
		"kibana.alert.rule.category":             "New Terms Rule",
		"kibana.alert.rule.consumer":             "siem",
		"kibana.alert.rule.producer":             "siem",
		"kibana.alert.rule.from":                 "now-9m",
		"kibana.alert.rule.to":                   "now",
		"kibana.alert.rule.interval":             "5m",
		"kibana.alert.rule.max_signals":          "100",
		"kibana.alert.rule.timestamp_override":   "event.ingested",
		"kibana.alert.rule.rule_id":              "ed3fedc3-dd10-45a5-a485-34a8b48cea46",
		"kibana.alert.rule.name":                 "Unusual Remote File Creation",
		"kibana.alert.rule.immutable":            "true",
		"kibana.alert.rule.enabled":              "true",
		"kibana.alert.rule.revision":             "0",
		"kibana.alert.rule.execution.type":       "scheduled",
		"kibana.alert.rule.false_positives":      "",
		"kibana.alert.rule.exceptions_list":      "[]",
		"kibana.alert.rule.related_integrations": "[]",
		"kibana.alert.rule.required_fields":      "[]",
		"kibana.alert.rule.risk_score_mapping":   "[]",
		"kibana.alert.rule.severity_mapping":     "[]",
		"kibana.alert.rule.rule_source":          `{"is_customized":false,"type":"external"}`,
		"kibana.alert.rule.actions":              "[]",
		"kibana.alert.rule.author":               `["Elastic"]`,
		"kibana.alert.rule.license":              "Elastic License v2",
		"kibana.alert.rule.description":          "",
		"kibana.alert.rule.note":                 "",
		"kibana.alert.rule.setup":                "",
		"kibana.alert.rule.references":           "",
		"kibana.alert.rule.tags":                 "",
		"kibana.alert.rule.threat":               "",
		"kibana.alert.rule.version":              "",
		"kibana.alert.rule.indices":              `["logs-endpoint.events.file*","auditbeat-*"]`,
		"kibana.alert.rule.created_at":           "",
		"kibana.alert.rule.updated_at":           "",
		"kibana.alert.rule.created_by":           "",
		"kibana.alert.rule.updated_by":           "",
		"kibana.alert.severity":                  "",
		"kibana.alert.risk_score":                "",
		"kibana.alert.status":                    "active",
		"kibana.alert.workflow_status":           "open",
		"kibana.alert.workflow_tags":             "[]",
		"kibana.alert.workflow_assignee_ids":     "[]",
		"kibana.alert.depth":                     "1",
		"kibana.alert.reason":                    "",
		"kibana.alert.new_terms":                 `["` + a.str("process.executable") + `","` + a.str("host.id") + `"]`,
		"kibana.space_ids":                       `["default"]`,
		"kibana.version":                         "",
		"event.kind":                             "signal",
		"threat":                                 a.str("kibana.alert.rule.threat"),
	}
	for k, want := range kibana {
		if _, ok := a[k]; !ok && a.str(k) == "" {
			t.Errorf("%s missing", k)
			continue
		}
		if s := a.str(k); want != "" && s != want {
			t.Errorf("%s = %s, want %s", k, s, want)
		}
	}
	for _, k := range []string{"@timestamp", "kibana.alert.original_time", "kibana.alert.start", "kibana.alert.last_detected", "kibana.alert.intended_timestamp"} {
		if !iso.MatchString(a.str(k)) {
			t.Errorf("%s = %q, want ISO-8601 UTC with milliseconds", k, a.str(k))
		}
	}
	for _, k := range []string{"kibana.alert.uuid", "kibana.alert.rule.uuid", "kibana.alert.rule.execution.uuid"} {
		if s := a.str(k); k != "kibana.alert.uuid" && !uuidRE.MatchString(s) || s == "" {
			t.Errorf("%s = %q, want a UUID", k, s)
		}
	}
	if a.str("kibana.alert.rule.uuid") == a.str("kibana.alert.rule.rule_id") {
		t.Errorf("rule uuid equals rule_id: Kibana's is the saved object's id")
	}
	anc, _ := a["kibana.alert.ancestors"].([]any)
	if len(anc) != 1 || toString(anc[0].(map[string]any)["type"]) != "event" || toString(anc[0].(map[string]any)["depth"]) != "0" {
		t.Errorf("ancestors %v", a["kibana.alert.ancestors"])
	}
	params, _ := a["kibana.alert.rule.parameters"].(map[string]any)
	for _, k := range []string{"type", "query", "language", "index", "filters", "from", "to", "max_signals", "severity", "severity_mapping",
		"risk_score", "risk_score_mapping", "threat", "rule_id", "version", "description", "author", "license", "note", "setup",
		"references", "false_positives", "exceptions_list", "immutable", "rule_source", "related_integrations", "required_fields",
		"timestamp_override", "new_terms_fields", "history_window_start"} {
		if _, ok := params[k]; !ok {
			t.Errorf("kibana.alert.rule.parameters.%s missing", k)
		}
	}
	if _, ok := params["interval"]; ok {
		t.Errorf("interval inside parameters: Kibana keeps it with the schedule")
	}
	if got := toString(params["new_terms_fields"]); got != `["process.executable","host.id"]` {
		t.Errorf("parameters.new_terms_fields = %s", got)
	}
}
