package fleet

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/pipeline"
)

// realAlerts are the alerts `xferhunt scan` prints for the repository's
// real captures with every built-in rule: the seed, upload-exec and the
// coverage group (overwrite, rename, internal-sftp, rsync, directories,
// shell pipes), file.path as a new term so that every upload alerts.
func realAlerts(t *testing.T) []ecs.Doc {
	t.Helper()
	var docs []ecs.Doc
	for _, log := range []string{"capture/raw.log", "capture/enriched.log", "story/raw.log", "coverage/raw.log"} {
		p := filepath.Join("..", "testdata", log)
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		var out bytes.Buffer
		cfg := pipeline.Config{Rules: []string{"seed", "upload-exec", "coverage"}, Ephemeral: true,
			NewTermsFields: []string{"process.executable", "file.path"}, HostID: "fleet-test", Stdout: &out, Stderr: io.Discard}
		if err := pipeline.Scan(cfg, []string{p}); err != nil {
			t.Fatalf("scan %s: %v", log, err)
		}
		dec := json.NewDecoder(&out)
		for dec.More() {
			var d map[string]any
			if err := dec.Decode(&d); err != nil {
				t.Fatal(err)
			}
			docs = append(docs, d)
		}
	}
	rules := map[string]bool{}
	for _, d := range docs {
		rules[ecs.Doc(d).Str("kibana.alert.rule.name")] = true
	}
	if len(docs) < 10 || len(rules) < 4 {
		t.Fatalf("%d alerts of %d rules from the captures: %v", len(docs), len(rules), rules)
	}
	return docs
}

// mapped returns the template's type for a dotted field, "" when absent.
func mapped(props map[string]any, field string) string {
	parts := strings.Split(field, ".")
	for i, p := range parts {
		m, ok := props[p].(map[string]any)
		if !ok {
			return ""
		}
		if i == len(parts)-1 {
			t, _ := m["type"].(string)
			return t
		}
		props, _ = m["properties"].(map[string]any)
	}
	return ""
}

// TestTemplateCoversRealAlerts: every field of every real alert is in the
// committed template, with a type Elasticsearch indexes its values as
// (a date field gets dates, a long integers, an ip addresses); the
// committed file is what the generator makes from these alerts now.
func TestTemplateCoversRealAlerts(t *testing.T) {
	docs := realAlerts(t)
	want := Template(Fields(docs))
	if os.Getenv("XFERHUNT_UPDATE_FLEET") == "1" {
		if err := os.WriteFile("index-template.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("index-template.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("index-template.json is stale: XFERHUNT_UPDATE_FLEET=1 go test ./fleet writes it again")
	}
	var tmpl struct {
		IndexPatterns []string `json:"index_patterns"`
		Template      struct {
			Mappings struct {
				Properties map[string]any `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(got, &tmpl); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range docs {
		walk(map[string]any(d), "", func(field string, v any) {
			n++
			typ := mapped(tmpl.Template.Mappings.Properties, field)
			if typ == "" {
				t.Errorf("%s (rule %s) is not in the template", field, d.Str("kibana.alert.rule.name"))
			} else if !Accepts(typ, v) {
				t.Errorf("%s is mapped %s, which does not take %#v", field, typ, v)
			}
		})
	}
	for _, f := range []struct{ field, typ string }{
		{"@timestamp", Date}, {"kibana.alert.original_time", Date}, {"source.ip", IP},
		{"process.pid", Long}, {"kibana.alert.uuid", Keyword}, {"xferhunt.historical", Boolean},
	} {
		if got := mapped(tmpl.Template.Mappings.Properties, f.field); got != f.typ {
			t.Errorf("%s mapped %q, want %s", f.field, got, f.typ)
		}
	}
	t.Logf("%d alerts, %d values, %d fields", len(docs), n, len(Fields(docs)))
	if ok, _ := path.Match(tmpl.IndexPatterns[0], DataStream); !ok {
		t.Errorf("the data stream %s is not matched by the template's %v", DataStream, tmpl.IndexPatterns)
	}
}

// yamlScalar reads key.path from the simple block YAML of filebeat.yml
// (mappings by indentation, "- " list items standing for their first
// element): enough to check what the test needs, not a YAML parser.
func yamlScalar(t *testing.T, text, keyPath string) string {
	t.Helper()
	want := strings.Split(keyPath, ".")
	var stack []int // indentation of the keys matched so far
	matched := 0
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if strings.HasPrefix(trimmed, "- ") {
			indent += 2
			trimmed = strings.TrimPrefix(trimmed, "- ")
		}
		for matched > 0 && indent <= stack[matched-1] {
			matched--
			stack = stack[:matched]
		}
		k, v, ok := strings.Cut(trimmed, ":")
		if !ok || matched == len(want) {
			continue
		}
		dotted := matched == 0 && strings.Contains(k, ".") && (keyPath == k || strings.HasPrefix(keyPath, k+"."))
		if k == want[matched] || dotted {
			if strings.Contains(k, ".") && matched == 0 {
				n := len(strings.Split(k, "."))
				if strings.Join(want[:n], ".") != k {
					continue
				}
				matched += n
				for range n {
					stack = append(stack, indent)
				}
			} else {
				matched++
				stack = append(stack, indent)
			}
			if matched == len(want) {
				return strings.Trim(strings.TrimSpace(v), `"`)
			}
		}
	}
	t.Fatalf("%s not in filebeat.yml", keyPath)
	return ""
}

// TestFilebeatConfig: the input reads NDJSON whole documents at the root,
// keyed by the alert uuid, into the data stream the template matches.
func TestFilebeatConfig(t *testing.T) {
	b, err := os.ReadFile("filebeat.yml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for key, want := range map[string]string{
		"filebeat.inputs.type":                       "filestream",
		"filebeat.inputs.parsers.ndjson.target":      "",
		"filebeat.inputs.parsers.ndjson.document_id": documentIDKey,
		"filebeat.inputs.parsers.ndjson.expand_keys": "true",
		"output.elasticsearch.index":                 DataStream,
		"setup.template.enabled":                     "false",
	} {
		if got := yamlScalar(t, text, key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	if !strings.Contains(text, TemplateName) {
		t.Errorf("filebeat.yml does not say how to load the template %s", TemplateName)
	}
	// The headless output is one document per line: no alert may hold a
	// raw newline, or Filebeat would cut it in two.
	var out bytes.Buffer
	cfg := pipeline.Config{Rules: []string{"seed"}, Ephemeral: true, NewTermsFields: []string{"file.path"}, HostID: "h", Stdout: &out, Stderr: io.Discard}
	if err := pipeline.Scan(cfg, []string{"../testdata/capture/raw.log"}); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var d map[string]any
		if err := json.Unmarshal([]byte(line), &d); err != nil || ecs.Doc(d).Str(documentIDKey) == "" {
			t.Errorf("line %d is not one alert document with %s: %v", i+1, documentIDKey, err)
		}
	}
}
