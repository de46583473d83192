package ecsjson

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/sharedtest"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditd"
)

func compact(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("sample %s absent", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSniffRealSamples(t *testing.T) {
	cases := map[string]sources.Format{
		sharedtest.Dir + "/samples/elastic-defend-ecs/endpoint-package-schema-examples/file_modified_linux.json": sources.ECSNDJSON,
		sharedtest.Dir + "/samples/auditbeat-ecs/beats-meta/file_integrity_data.json":                            sources.AuditbeatNDJSON,
		sharedtest.Dir + "/samples/auditbeat-ecs/beats-meta/auditd_execve.json":                                  sources.AuditbeatNDJSON,
	}
	for path, want := range cases {
		line := compact(t, path)
		if got := Sniff(append(line, '\n')); got != want {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
		// A head cut mid-document is still recognised.
		if got := Sniff(line[:len(line)/2]); got == sources.Unknown {
			t.Errorf("%s: truncated head not recognised", path)
		}
	}
	if got := Sniff([]byte("type=SYSCALL msg=audit(1.0:1): x=1\n")); got != sources.Unknown {
		t.Errorf("auditd text sniffed as %v", got)
	}
	if got := Sniff([]byte("\n\n")); got != sources.Unknown {
		t.Errorf("blank input sniffed as %v", got)
	}
}

func TestDocumentsPassAsTheyAre(t *testing.T) {
	line := compact(t, sharedtest.Dir+"/samples/elastic-defend-ecs/endpoint-package-schema-examples/file_modified_linux.json")
	hit := `{"_index":".ds-logs-endpoint.events.file-default","_id":"x","_source":` + string(line) + `}`
	var evs []sources.Event
	d := NewDecoder(Options{HostID: "fallback", Emit: func(e sources.Event) { evs = append(evs, e) }})
	d.Line(line)
	d.Line([]byte(hit))
	d.Line([]byte("{not json"))
	if st := d.Stats(); st.Events != 2 || st.Malformed != 1 {
		t.Fatalf("stats %+v", st)
	}
	for _, e := range evs {
		if e.Doc.Str("@timestamp") != "2020-03-03T19:08:32.74626000Z" || e.Doc.Get("_source") != nil {
			t.Errorf("document changed: %v", e.Doc.Str("@timestamp"))
		}
		if !strings.HasPrefix(e.Doc.Str("message"), "The file before_driver.sys") {
			t.Errorf("message %q", e.Doc.Str("message"))
		}
	}
}

// TestMixedStreamEveryDocument: a stream that opens with an Auditbeat
// document and goes on with ECS ones (rotated or concatenated exports) is
// read document by document: nothing after the first is dropped, whichever
// scanner the sniff picked. An alert document exported by xferhunt (its event
// says event.module auditd) is an ECS document, not Auditbeat.
func TestMixedStreamEveryDocument(t *testing.T) {
	beat := `{"@timestamp":"2026-01-01T00:00:00Z","event":{"module":"file_integrity","action":["created"],"type":["creation"],"category":["file"]},"file":{"path":"/tmp/from-auditbeat"},"host":{"name":"h"}}`
	ecsDoc := `{"@timestamp":"2026-01-01T00:00:01Z","event":{"action":"creation","category":["file"]},"process":{"name":"scp"},"file":{"path":"/tmp/from-ecs"}}`
	alertDoc := `{"@timestamp":"2026-01-01T00:00:02Z","kibana.alert.uuid":"u1","kibana.alert.rule.name":"r","event":{"module":"auditd","action":"creation","category":["file"]},"process":{"name":"scp"},"file":{"path":"/tmp/from-alert"}}`
	in := beat + "\n" + ecsDoc + "\n" + alertDoc + "\n"
	if f, err := formats().Sniff([]byte(in)); err != nil || f != sources.AuditbeatNDJSON {
		t.Fatalf("sniff = %v, %v; the case needs a stream named Auditbeat by its first document", f, err)
	}
	path := filepath.Join(t.TempDir(), "mixed.ndjson")
	if err := os.WriteFile(path, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	input, err := formats().OpenInput(path)
	if err != nil {
		t.Fatal(err)
	}
	defer input.Close()
	var paths []string
	st, err := input.Scan(sources.ScanOptions{HostID: "h1", Emit: func(ev sources.Event) { paths = append(paths, ev.Doc.Str("file.path")) }})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/tmp/from-auditbeat", "/tmp/from-ecs", "/tmp/from-alert"}
	if strings.Join(paths, " ") != strings.Join(want, " ") || st.Events != 3 {
		t.Errorf("events %v (%+v), want %v", paths, st, want)
	}
}

// The events xferhunt builds from auditd records (event.module "auditd",
// no auditd.* fields), written as NDJSON, read back as the same ECS
// events: before, their module made them Auditbeat documents, which the
// mapping dropped as not file events (0 events from the whole capture).
func TestOwnEventsReadBack(t *testing.T) {
	f, err := os.Open("../../testdata/capture/raw.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	var paths []string
	_, err = auditd.ScanRecorded(f, sources.ScanOptions{HostID: "h", Workers: 1, Emit: func(ev sources.Event) {
		if ev.Doc.Str("event.module") != "auditd" {
			t.Fatalf("an event without event.module auditd: %v", ev.Doc)
		}
		b, err := ecs.AppendJSON(nil, ev.Doc)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(append(b, '\n'))
		paths = append(paths, ev.Doc.Str("file.path"))
	}})
	if err != nil || len(paths) < 10 {
		t.Fatalf("capture: %v, %d events", err, len(paths))
	}
	if got := Sniff(buf.Bytes()); got != sources.ECSNDJSON {
		t.Errorf("sniffed as %v, want ECS NDJSON", got)
	}
	var back []string
	st, err := Scan(bytes.NewReader(buf.Bytes()), sources.ScanOptions{HostID: "h", Emit: func(ev sources.Event) {
		back = append(back, ev.Doc.Str("file.path"))
	}})
	if err != nil || st.Malformed != 0 {
		t.Fatalf("read back: %v, %+v", err, st)
	}
	if strings.Join(back, "\n") != strings.Join(paths, "\n") {
		t.Fatalf("read back %d events, want %d:\n%q\nwant\n%q", len(back), len(paths), back, paths)
	}
}
