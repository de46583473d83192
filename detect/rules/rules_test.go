package rules

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/internal/sharedtest"
)

var sharedRules = sharedtest.Dir + "/rules"

func TestBuiltinSeed(t *testing.T) {
	r, err := Load("seed")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Source", r.Source, "seed"},
		{"Name", r.Name, "Unusual Remote File Creation"},
		{"RuleID", r.RuleID, "ed3fedc3-dd10-45a5-a485-34a8b48cea46"},
		{"Version", r.Version, 3},
		{"Type", r.Type, "new_terms"},
		{"Language", r.Language, "kuery"},
		{"Severity", r.Severity, "medium"},
		{"RiskScore", r.RiskScore, 47},
		{"From", r.From, "now-9m"},
		{"Interval", r.Interval, 5 * time.Minute},
		{"MaxSignals", r.MaxSignals, 100},
		{"TimestampOverride", r.TimestampOverride, "event.ingested"},
		{"NewTermsFields", r.NewTermsFields, []string{"process.executable", "host.id"}},
		{"HistoryWindowStart", r.HistoryWindowStart, "now-10d"},
		{"HistoryWindow", r.HistoryWindow, 240 * time.Hour},
		{"Index", r.Index, []string{"logs-endpoint.events.file*", "auditbeat-*"}},
		{"Maturity", r.Maturity, "production"},
		{"UpdatedDate", r.UpdatedDate, "2025/04/07"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	wantQuery := "event.category:file and host.os.type:linux and event.action:creation and\n" +
		"process.name:(scp or ftp or sftp or vsftpd or sftp-server or sync) and\n" +
		"not file.path:(/dev/ptmx or /run/* or /var/run/*)"
	if r.Query != wantQuery {
		t.Errorf("Query = %q, want %q", r.Query, wantQuery)
	}
	if !strings.Contains(r.Note, "Investigating Unusual Remote File Creation") {
		t.Errorf("Note lacks the investigation guide: %.80q", r.Note)
	}
	wantThreat := []Threat{{
		Framework: "MITRE ATT&CK",
		Tactic:    Reference{ID: "TA0008", Name: "Lateral Movement", Reference: "https://attack.mitre.org/tactics/TA0008/"},
		Technique: []Technique{
			{
				Reference:    Reference{ID: "T1021", Name: "Remote Services", Reference: "https://attack.mitre.org/techniques/T1021/"},
				Subtechnique: []Reference{{ID: "T1021.004", Name: "SSH", Reference: "https://attack.mitre.org/techniques/T1021/004/"}},
			},
			{Reference: Reference{ID: "T1570", Name: "Lateral Tool Transfer", Reference: "https://attack.mitre.org/techniques/T1570/"}},
		},
	}}
	if !reflect.DeepEqual(r.Threat, wantThreat) {
		t.Errorf("Threat = %+v\nwant %+v", r.Threat, wantThreat)
	}
}

func TestBuiltinLatest(t *testing.T) {
	r, err := Load("latest")
	if err != nil {
		t.Fatal(err)
	}
	if r.Source != "latest" || r.Severity != "low" || r.RiskScore != 21 {
		t.Errorf("got source %q severity %q risk %d, want latest/low/21", r.Source, r.Severity, r.RiskScore)
	}
	if r.HistoryWindowStart != "now-5d" || r.HistoryWindow != 120*time.Hour {
		t.Errorf("history window %q = %v, want now-5d = 120h", r.HistoryWindowStart, r.HistoryWindow)
	}
	if r.Version != 0 {
		t.Errorf("Version = %d, want 0 (not recorded in the file)", r.Version)
	}
	if !strings.Contains(r.Query, "AnsiballZ_*.py") || !strings.Contains(r.Query, "file.extension:(filepart or yaml or new or rpm or deb)") {
		t.Errorf("latest query lacks the 2025-09 exclusions:\n%s", r.Query)
	}
	if len(r.Threat) != 2 || r.Threat[1].Tactic.ID != "TA0011" {
		t.Errorf("Threat = %+v, want TA0008 and TA0011", r.Threat)
	}
	if got := Builtin(); !reflect.DeepEqual(got, []string{"seed", "latest", UploadExec,
		"coverage-overwrite", "coverage-rename", "coverage-internal-sftp", "coverage-rsync", "coverage-dirs", ShellPipe}) {
		t.Errorf("Builtin() = %v", got)
	}
}

// The companion rule loads by name, is marked for its Go evaluator and
// says what Kibana would need to run it.
func TestBuiltinUploadExec(t *testing.T) {
	r, err := Load(UploadExec)
	if err != nil {
		t.Fatal(err)
	}
	if r.Companion != UploadExec || r.Name != "Remote upload executed" || r.Severity != "high" || r.Type != "eql" {
		t.Errorf("upload-exec = companion %q name %q severity %q type %q", r.Companion, r.Name, r.Severity, r.Type)
	}
	if !strings.Contains(r.Query, "sequence by host.id") || len(r.Threat) != 2 {
		t.Errorf("query or threat missing: %q %+v", r.Query, r.Threat)
	}
	// A rule file of the same type is not a companion: xferhunt cannot run EQL.
	data, err := builtinFS.ReadFile("builtin/upload-exec.toml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(data, "copy.toml"); err == nil {
		t.Error("an EQL rule file loaded as if xferhunt ran EQL")
	}
}

// The embedded copies must stay identical to the product data they came from.
func TestBuiltinMatchesShared(t *testing.T) {
	for name, file := range map[string]string{
		"seed":   "unusual_remote_file_creation.v3.toml",
		"latest": "unusual_remote_file_creation.latest.toml",
	} {
		shared, err := os.ReadFile(filepath.Join(sharedRules, file))
		if err != nil {
			t.Skipf("shared rules not available: %v", err)
		}
		embedded, err := builtinFS.ReadFile(builtins[name].file)
		if err != nil {
			t.Fatal(err)
		}
		if string(shared) != string(embedded) {
			t.Errorf("builtin %s differs from %s", name, file)
		}
	}
}

func TestSharedRulesLoad(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sharedRules, "*.toml"))
	if len(files) == 0 {
		t.Skipf("no rule files in %s", sharedRules)
	}
	if len(files) != 6 {
		t.Errorf("found %d rule files in %s, want 6", len(files), sharedRules)
	}
	for _, f := range files {
		r, err := Load(f)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if r.Source != f || r.Name == "" || r.Query == "" || r.HistoryWindow <= 0 || len(r.NewTermsFields) == 0 {
			t.Errorf("%s: incomplete rule: %+v", filepath.Base(f), r)
		}
	}
	// The v3 file by path carries its version in the name.
	if r, err := Load(filepath.Join(sharedRules, "unusual_remote_file_creation.v3.toml")); err == nil && r.Version != 3 {
		t.Errorf("v3 file: Version = %d, want 3", r.Version)
	}
}

// minimal is a valid query rule with every optional key left out.
const minimal = `
[rule]
name = "Min"
rule_id = "r-1"
type = "query"
severity = "high"
risk_score = 73
query = "process.name:scp"
`

func TestDefaults(t *testing.T) {
	r, err := Parse([]byte(minimal), "min.toml")
	if err != nil {
		t.Fatal(err)
	}
	if r.From != "now-6m" || r.Interval != 5*time.Minute || r.MaxSignals != 100 {
		t.Errorf("defaults: from %q interval %v max_signals %d, want now-6m 5m 100", r.From, r.Interval, r.MaxSignals)
	}
	if r.Language != "" || r.Type != "query" || r.Severity != "high" || r.RiskScore != 73 || r.Version != 0 {
		t.Errorf("given values changed: %+v", r)
	}
	set := minimal + "interval = \"1m\"\nfrom = \"now-2m\"\nmax_signals = 7\nversion = 12\n"
	r, err = Parse([]byte(set), "set.toml")
	if err != nil {
		t.Fatal(err)
	}
	if r.From != "now-2m" || r.Interval != time.Minute || r.MaxSignals != 7 || r.Version != 12 {
		t.Errorf("explicit: from %q interval %v max_signals %d version %d", r.From, r.Interval, r.MaxSignals, r.Version)
	}
}

// newTerms builds a new_terms rule file with the given extra [rule] keys,
// fields and history window.
func newTerms(extra, fields, window string) string {
	return `[rule]
name = "NT"
rule_id = "nt-1"
type = "new_terms"
language = "kuery"
severity = "medium"
risk_score = 47
from = "now-9m"
query = "event.category:file"
` + extra + `
[rule.new_terms]
field = "new_terms_fields"
value = ` + fields + `

[[rule.new_terms.history_window_start]]
field = "history_window_start"
value = "` + window + `"
`
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, doc string
		want      []string // substrings of the error
		line      int
		unsup     bool
	}{
		{"syntax", "[rule]\nname = \"x\"\nrisk_score = = 3\n", []string{"rule bad.toml: line 3:"}, 3, false},
		{"type mismatch", "[rule]\nname = \"x\"\nrisk_score = \"high\"\n", []string{"rule bad.toml: line 3: key rule.risk_score: incompatible types"}, 3, false},
		{"no rule table", "[metadata]\nmaturity = \"production\"\n", []string{"no [rule] table"}, 0, false},
		{"eql", strings.Replace(minimal, `type = "query"`, "type = \"eql\"\nlanguage = \"eql\"", 1), []string{`unsupported language "eql"`}, 0, true},
		{"esql", strings.Replace(minimal, `type = "query"`, "type = \"esql\"\nlanguage = \"esql\"", 1), []string{`unsupported language "esql"`}, 0, true},
		{"lucene", strings.Replace(minimal, `type = "query"`, "type = \"query\"\nlanguage = \"lucene\"", 1), []string{`unsupported language "lucene"`}, 0, true},
		{"threshold", strings.Replace(minimal, `type = "query"`, "type = \"threshold\"\nlanguage = \"kuery\"", 1), []string{`unsupported rule type "threshold"`}, 0, true},
		{"no type", strings.Replace(minimal, `type = "query"`, "", 1), []string{"missing type"}, 0, false},
		{"empty query", strings.Replace(minimal, `query = "process.name:scp"`, `query = "  "`, 1), []string{"empty query"}, 0, false},
		{"severity", strings.Replace(minimal, `"high"`, `"severe"`, 1), []string{`severity "severe"`}, 0, false},
		{"risk", strings.Replace(minimal, "73", "101", 1), []string{"risk_score 101"}, 0, false},
		{"max_signals", minimal + "max_signals = 0\n", []string{"max_signals 0"}, 0, false},
		{"interval", minimal + "interval = \"soon\"\n", []string{"interval:", `"soon"`}, 0, false},
		{"from", minimal + "from = \"yesterday\"\n", []string{"from:", `"yesterday"`}, 0, false},
		{"nt no language", strings.Replace(newTerms("", `["host.id"]`, "now-10d"), `language = "kuery"`, "", 1), []string{"without language"}, 0, false},
		{"nt no fields", newTerms("", `[]`, "now-10d"), []string{"0 fields, want 1 to 3"}, 0, false},
		{"nt four fields", newTerms("", `["a","b","c","d"]`, "now-10d"), []string{"4 fields, want 1 to 3"}, 0, false},
		{"nt duplicate field", newTerms("", `["a","a"]`, "now-10d"), []string{`"a" listed twice`}, 0, false},
		{"nt window not before from", newTerms("", `["host.id"]`, "now-9m"), []string{"history window 9m must be longer than the from look-back 9m"}, 0, false},
		{"nt window shorter than from", newTerms("", `["host.id"]`, "now-5m"), []string{"must be longer"}, 0, false},
		{"nt future window", newTerms("", `["host.id"]`, "now+1M/M"), []string{"history_window_start:", "must reach back before now"}, 0, false},
		{"nt bad unit", newTerms("", `["host.id"]`, "now-1q"), []string{"history_window_start:", "expected a unit"}, 0, false},
		{"nt rounded window not before from", newTerms("", `["host.id"]`, "now-9m/m"), []string{"history window 9m must be longer than the from look-back 9m"}, 0, false},
		{"nt wrong field key", strings.Replace(newTerms("", `["host.id"]`, "now-10d"), `field = "new_terms_fields"`, `field = "fields"`, 1), []string{`want "new_terms_fields"`}, 0, false},
		{"nt missing window", strings.Split(newTerms("", `["host.id"]`, "now-10d"), "[[rule.new_terms.history_window_start]]")[0], []string{"missing history_window_start"}, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.doc), "bad.toml")
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			if !strings.HasPrefix(msg, "rule bad.toml") {
				t.Errorf("error %q does not name the file first", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %T is not a *LoadError", err)
			}
			if c.line > 0 && le.Line != c.line {
				t.Errorf("Line = %d, want %d", le.Line, c.line)
			}
			if got := errors.Is(err, ErrUnsupported); got != c.unsup {
				t.Errorf("errors.Is(err, ErrUnsupported) = %v, want %v", got, c.unsup)
			}
		})
	}
}

func TestNewTermsValid(t *testing.T) {
	r, err := Parse([]byte(newTerms("interval = \"10m\"", `["host.id","user.name","process.executable"]`, "now-36h")), "nt.toml")
	if err != nil {
		t.Fatal(err)
	}
	if r.HistoryWindow != 36*time.Hour || r.Interval != 10*time.Minute || len(r.NewTermsFields) != 3 {
		t.Errorf("got window %v interval %v fields %v", r.HistoryWindow, r.Interval, r.NewTermsFields)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if err == nil || !strings.Contains(err.Error(), "nope.toml") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want a not-exist error naming the file", err)
	}
}

func TestLoadFileFromDisk(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mine.v7.toml")
	if err := os.WriteFile(p, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if r.Source != p || r.Version != 7 {
		t.Errorf("Source %q Version %d, want %q 7", r.Source, r.Version, p)
	}
}

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"10d": 240 * time.Hour, "36h": 36 * time.Hour, "90m": 90 * time.Minute, "30s": 30 * time.Second,
		"2w": 14 * 24 * time.Hour, "now-10d": 240 * time.Hour, "now-9m": 9 * time.Minute, " now-5d ": 120 * time.Hour,
		"now": 0, "1h30m": 90 * time.Minute, "0d": 0, "12H": 12 * time.Hour,
	}
	for in, want := range good {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "10", "10x", "-5d", "now+5m", "now-1d/d", "now-", "1M", "2y", "now-3M", "ten days", "-1h"} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, d)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	cases := map[time.Duration]string{
		240 * time.Hour: "10d", 36 * time.Hour: "36h", 5 * time.Minute: "5m", 90 * time.Second: "90s",
		14 * 24 * time.Hour: "14d", 0: "0s", 1500 * time.Millisecond: "1.5s",
	}
	for in, want := range cases {
		if got := FormatDuration(in); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", in, got, want)
		}
		if in > 0 && in%time.Second == 0 {
			back, err := ParseDuration(FormatDuration(in))
			if err != nil || back != in {
				t.Errorf("round trip of %v: %v, %v", in, back, err)
			}
		}
	}
}

func TestOverrides(t *testing.T) {
	r, err := Load("seed")
	if err != nil {
		t.Fatal(err)
	}
	r.SetHistoryWindow(36 * time.Hour)
	if r.HistoryWindowStart != "now-36h" || r.HistoryWindow != 36*time.Hour {
		t.Errorf("after SetHistoryWindow: %q %v", r.HistoryWindowStart, r.HistoryWindow)
	}
	if err := r.Validate(); err != nil {
		t.Errorf("36h window: %v", err)
	}
	r.SetHistoryWindow(5 * time.Minute)
	if err := r.Validate(); err == nil {
		t.Error("a 5m window under a 9m look-back validated")
	}
	r.SetHistoryWindow(time.Hour)
	fields := []string{"host.id", "user.name"}
	r.SetNewTermsFields(fields)
	fields[0] = "mutated"
	if r.NewTermsFields[0] != "host.id" {
		t.Error("SetNewTermsFields kept the caller's slice")
	}
	if err := r.Validate(); err != nil {
		t.Error(err)
	}
}

func TestDescribe(t *testing.T) {
	r, err := Load("seed")
	if err != nil {
		t.Fatal(err)
	}
	got := Describe(r)
	for _, want := range []string{
		"Unusual Remote File Creation\n",
		"  rule_id:        ed3fedc3-dd10-45a5-a485-34a8b48cea46\n",
		"  version:        3\n",
		"  type:           new_terms (kuery)\n",
		"  severity/risk:  medium / 47\n",
		"  query:          event.category:file and host.os.type:linux and event.action:creation and\n",
		"                  not file.path:(/dev/ptmx or /run/* or /var/run/*)\n",
		"  new terms:      process.executable, host.id\n",
		"  history window: 10d (now-10d)\n",
		"  interval:       5m, from now-9m\n",
		"  max_signals:    100\n",
		"  source:         seed (built in)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Describe lacks %q:\n%s", want, got)
		}
	}
	latest, err := Load("latest")
	if err != nil {
		t.Fatal(err)
	}
	if d := Describe(latest); !strings.Contains(d, "  version:        unknown") {
		t.Errorf("latest listing should say the version is unknown:\n%s", d)
	}
	q, err := Parse([]byte(minimal), "min.toml")
	if err != nil {
		t.Fatal(err)
	}
	if d := Describe(q); strings.Contains(d, "new terms") || strings.Contains(d, "history window") {
		t.Errorf("query rule listing shows new_terms lines:\n%s", d)
	}
}

// TestLoadFileCapped: --rule /dev/zero read 23 GB before it was killed,
// a rule file of any size was read whole (issue 9 item 9). Both now fail
// at once with one line naming the file.
func TestLoadFileCapped(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.toml")
	if err := os.WriteFile(big, append([]byte(minimal), make([]byte, MaxFileSize)...), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for path, want := range map[string]string{"/dev/zero": "rule /dev/zero: is a device", big: "rule " + big + ": too large"} {
		_, err := Load(path)
		if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("Load(%s) = %v, want one line starting %q", path, err, want)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("refusing took %v", d)
	}
}

// TestDeepNestingRefused: 20,000 nested inline tables cost the decoder
// 15 GB (quadratic); anything deeper than maxNesting is refused before it.
func TestDeepNestingRefused(t *testing.T) {
	const n = 20000
	doc := minimal + "[rule.deep]\nx = " + strings.Repeat("{a=", n) + "1" + strings.Repeat("}", n) + "\n"
	start := time.Now()
	_, err := Parse([]byte(doc), "deep.toml")
	if err == nil || !strings.Contains(err.Error(), "nest 20000 levels deep") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("refusing took %v", d)
	}
}

func TestNestingDepth(t *testing.T) {
	cases := map[string]int{
		``:                            0,
		`a = [1, [2, {b = 3}]]`:       3,
		"[rule]\nq = '''((([[[{'''":   1,
		`q = "[[[\"[[[" # [[[[[`:      0,
		"q = \"\"\"\n{{{\\\"\"\"\"\"": 0,
		"q = 'a\\' \n x = [[1]]":      2,
		"# [[[[[[\nx = [1]":           1,
		`q = "unterminated [[[`:       0,
		`[[rule.threat]]`:             2,
	}
	for doc, want := range cases {
		if got := nestingDepth([]byte(doc)); got != want {
			t.Errorf("nestingDepth(%q) = %d, want %d", doc, got, want)
		}
	}
}
