package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile is what a host can put in a name: OSC title change, BEL, CSI as
// C1 (U+009B), and a right-to-left override.
const hostile = "evil\x1b]0;owned\x07\u009b31m\u202etxt"

// rawTerminalControl returns the first byte sequence in out that a
// terminal would obey, or "": C0 controls but newline and tab, DEL, C1
// and bidi controls, checked rune by rune independently of the escaper.
func rawTerminalControl(out []byte) string {
	for len(out) > 0 {
		r, n := utf8.DecodeRune(out)
		switch {
		case r < 0x20 && r != '\n' && r != '\t', r == 0x7f, r >= 0x80 && r <= 0x9f,
			r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return string(out[:n])
		}
		out = out[n:]
	}
	return ""
}

// TestPrintedBytesEscaped: what xferhunt prints outside JSON — `rules`,
// error lines quoting a path — and the JSON of scan carry no raw terminal
// control (issue 9 item 20: rule names, queries, paths and U+009B/U+202E
// in JSON reached the terminal raw).
func TestPrintedBytesEscaped(t *testing.T) {
	dir := t.TempDir()
	rule := filepath.Join(dir, "rule-"+hostile+".toml")
	// TOML forbids raw controls but its \u escapes make them: a rule that
	// loads with them in its name, id and query.
	toml := "[rule]\nname = \"evil\\u001b]0;owned\\u0007\\u009b31m\\u202etxt\"\nrule_id = \"r-\u202e1\"\ntype = \"query\"\nseverity = \"high\"\nrisk_score = 73\nquery = \"process.name:\\\"scp\\u001b[2J\\u009b\\u202e\\\"\"\n"
	if err := os.WriteFile(rule, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := `{"@timestamp":"2026-11-26T03:13:13.000Z","event":{"category":["file"],"action":"creation"},"host":{"id":"h1","os":{"type":"linux"}},"process":{"name":"scp","executable":"/usr/bin/scp"},"file":{"path":` + jsonString(t, "/tmp/"+hostile) + `}}` + "\n"
	ndjson := filepath.Join(dir, "events.ndjson")
	if err := os.WriteFile(ndjson, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"rules":           {"rules", "--rule", rule},
		"rule not loaded": {"rules", "--rule", rule + ".missing"},
		"missing path":    {"scan", "--ephemeral", filepath.Join(dir, hostile+".log")},
		"unknown command": {hostile},
		"scan json":       {"scan", "--ephemeral", ndjson},
	} {
		r := xferhunt(t, nil, args...)
		for stream, out := range map[string][]byte{"stdout": r.stdout, "stderr": []byte(r.stderr)} {
			if c := rawTerminalControl(out); c != "" {
				t.Errorf("%s: %s carries %q raw: %q", name, stream, c, out)
			}
		}
		all := string(r.stdout) + r.stderr
		if !strings.Contains(all, `\u202e`) || !strings.Contains(all, `\u009b`) {
			t.Errorf("%s: the controls are not shown as escapes: %q", name, all)
		}
		if name == "rules" && (r.code != 0 || !strings.Contains(string(r.stdout), `evil\x1b]0;owned\x07\u009b31m\u202etxt`)) {
			t.Errorf("rules: exit %d, the rule's name not listed escaped: %q %q", r.code, r.stdout, r.stderr)
		}
		if name != "rules" && name != "scan json" && strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s: stderr is not one line: %q", name, r.stderr)
		}
	}
	// The escaped JSON still decodes to the exact path.
	r := xferhunt(t, nil, "scan", "--ephemeral", ndjson)
	as := alerts(t, r.stdout)
	if len(as) != 1 || as[0].str("file.path") != "/tmp/"+hostile {
		t.Fatalf("alerts %v", as)
	}
	if !bytes.Contains(r.stdout, []byte(`\u001b]0;owned\u0007\u009b31m\u202etxt`)) {
		t.Fatalf("scan JSON: %s", r.stdout)
	}
}

// jsonString is s as a JSON string: encoding/json escapes C0 controls
// (JSON requires it) and leaves C1 and U+202E raw, as a host's export would.
func jsonString(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
