package ecsjson_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/pipeline"
)

// defendCreation is an Elastic Defend file creation by sftp-server, the
// event "Unusual Remote File Creation" exists for.
const defendCreation = `{
  "@timestamp": "2026-03-01T10:00:00.000Z",
  "agent": {"type": "endpoint", "version": "8.15.0"},
  "data_stream": {"type": "logs", "dataset": "endpoint.events.file", "namespace": "default"},
  "event": {"action": "creation", "category": ["file"], "type": ["creation"], "kind": "event", "module": "endpoint", "dataset": "endpoint.events.file", "id": "NgCkLU1dtYAoxMIC++++++HT"},
  "file": {"path": "/home/alice/drop.bin", "name": "drop.bin", "extension": "bin"},
  "host": {"id": "2c2ef0a7a5b84c0f9a3c1e7d0e6f4b11", "name": "web1", "os": {"type": "linux"}},
  "process": {"name": "sftp-server", "executable": "/usr/lib/openssh/sftp-server", "pid": 4242, "entity_id": "abc"},
  "user": {"id": "1000", "name": "alice"}
}`

func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// scanAlerts runs `xferhunt scan --ephemeral` over one file holding in.
func scanAlerts(t *testing.T, in string) []ecs.Doc {
	t.Helper()
	path := filepath.Join(t.TempDir(), "export.json")
	if err := os.WriteFile(path, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	cfg := pipeline.Config{Rules: []string{"seed"}, Ephemeral: true, HostID: "fallback-host", Stdout: &out, Stderr: &errOut}
	if err := pipeline.Scan(cfg, []string{path}); err != nil {
		t.Fatalf("scan: %v (%s)", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), " 0 malformed") {
		t.Errorf("summary: %s", errOut.String())
	}
	var alerts []ecs.Doc
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("alert line: %v", err)
		}
		alerts = append(alerts, ecs.Doc(m))
	}
	return alerts
}

func TestDefendCreationAlertsInEveryWrapper(t *testing.T) {
	line := compactJSON(t, defendCreation)
	wrappers := map[string]string{
		"ndjson":          line + "\n",
		"pretty":          defendCreation + "\n",
		"array":           "[\n" + defendCreation + "\n]\n",
		"pipeline events": "{\n  \"events\": [\n" + defendCreation + "\n  ]\n}\n",
		"search response": "{\n  \"took\": 5,\n  \"hits\": {\n    \"total\": {\"value\": 1},\n    \"hits\": [\n      {\"_index\": \".ds-logs-endpoint.events.file-default-2026.03.01-000001\", \"_id\": \"Xy1\", \"_source\": " + defendCreation + "}\n    ]\n  }\n}\n",
		"compact search":  `{"took":5,"hits":{"hits":[{"_index":"i","_id":"Xy1","_source":` + line + `}]}}`,
		"es_archiver":     "{\n  \"type\": \"doc\",\n  \"value\": {\n    \"id\": \"Xy1\",\n    \"index\": \"logs-endpoint.events.file-default\",\n    \"source\": " + defendCreation + "\n  }\n}\n",
		"bare hit":        "{\n  \"_index\": \"i\",\n  \"_id\": \"Xy1\",\n  \"_source\": " + defendCreation + "\n}\n",
	}
	want := []any{"/usr/lib/openssh/sftp-server", "2c2ef0a7a5b84c0f9a3c1e7d0e6f4b11"}
	var uuid any
	for name, in := range wrappers {
		t.Run(name, func(t *testing.T) {
			alerts := scanAlerts(t, in)
			if len(alerts) != 1 {
				t.Fatalf("%d alerts", len(alerts))
			}
			a := alerts[0]
			if got := a.Get("kibana.alert.new_terms"); !reflect.DeepEqual(got, want) {
				t.Errorf("new_terms %v, want %v", got, want)
			}
			// The event keeps its own id, so every wrapper names the same alert.
			if uuid == nil {
				uuid = a.Get("kibana.alert.uuid")
			} else if a.Get("kibana.alert.uuid") != uuid {
				t.Errorf("alert uuid %v differs from another wrapper's %v", a.Get("kibana.alert.uuid"), uuid)
			}
			if a.Str("file.path") != "/home/alice/drop.bin" {
				t.Errorf("alert file.path %q", a.Str("file.path"))
			}
		})
	}
}

// A hit whose event has no event.id is known by its _id: the alert's
// ancestor is that document.
func TestSearchHitIDBecomesAncestor(t *testing.T) {
	var m map[string]any
	if err := json.Unmarshal([]byte(defendCreation), &m); err != nil {
		t.Fatal(err)
	}
	ecs.Doc(m).Delete("event.id")
	src, _ := json.MarshalIndent(m, "      ", "  ")
	in := "{\n  \"hits\": {\n    \"hits\": [\n      {\"_index\": \"i\", \"_id\": \"hit-42\", \"_source\": " + string(src) + "}\n    ]\n  }\n}\n"
	alerts := scanAlerts(t, in)
	if len(alerts) != 1 {
		t.Fatalf("%d alerts", len(alerts))
	}
	anc, _ := alerts[0].Get("kibana.alert.ancestors").([]any)
	if len(anc) != 1 || ecs.Doc(anc[0].(map[string]any)).Str("id") != "hit-42" {
		t.Errorf("ancestors %v", alerts[0].Get("kibana.alert.ancestors"))
	}
}
