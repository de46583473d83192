package auditbeat

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/sharedtest"
	"github.com/xferhunt/xferhunt/sources"
)

var samples = sharedtest.Dir + "/samples/auditbeat-ecs"

// sampleLines returns every document of a sample file as one compact
// NDJSON line (the samples are pretty-printed, some wrapped in "events").
func sampleLines(t *testing.T, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samples, name))
	if os.IsNotExist(err) {
		t.Skipf("sample %s absent", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	docs := []any{top}
	if evs, ok := top["events"].([]any); ok && len(top) == 1 {
		docs = evs
	}
	var out [][]byte
	for _, d := range docs {
		line, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, line)
	}
	return out
}

func decodeAll(lines [][]byte) ([]sources.Event, sources.Stats) {
	var evs []sources.Event
	d := NewDecoder(Options{HostID: "h1", Emit: func(e sources.Event) { evs = append(evs, e) }})
	for _, l := range lines {
		d.Line(l)
	}
	return evs, d.Stats()
}

func TestNonFileSamplesYieldNoEvents(t *testing.T) {
	for _, name := range []string{
		"beats-meta/auditd_accept.json", "beats-meta/auditd_data.json", "beats-meta/auditd_execve.json",
		"elastic-integrations-auditd-coalesced/test-coalesced-syscall-execve-events.json",
		"elastic-integrations-auditd_manager/sample_event.json",
		"elastic-integrations-auditd_manager/test-chown-events.json",
		"elastic-integrations-auditd_manager/userlogin-events.json",
	} {
		lines := sampleLines(t, name)
		evs, st := decodeAll(lines)
		if st.Records != uint64(len(lines)) || st.Malformed != 0 {
			t.Errorf("%s: stats %+v for %d docs", name, st, len(lines))
		}
		if len(evs) != 0 {
			t.Errorf("%s: %d events from documents that create no file (first action %q)", name, len(evs), evs[0].Doc.Str("event.action"))
		}
	}
}

func TestFileIntegrityCreatedMapsToCreation(t *testing.T) {
	lines := sampleLines(t, "beats-meta/file_integrity_data.json")
	evs, _ := decodeAll(lines)
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	d := evs[0].Doc
	want := map[string]string{
		"event.action":   "creation",
		"event.type":     "creation",
		"file.path":      "/private/var/folders/8x/rnyk6yxn6w97lddn3bs02gf00000gn/T/audit-file864778064/file.data",
		"file.name":      "file.data",
		"file.extension": "data",
		"host.name":      "host.example.com",
		"host.os.type":   "linux",
	}
	for k, v := range want {
		if got := d.Str(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	// The document has no host.id: it stays missing (no new-terms bucket,
	// as in Kibana), whatever --host-id says.
	if got := d.Get("host.id"); got != nil {
		t.Errorf("host.id = %v, want missing", got)
	}
	if got := d.Values("xferhunt.original.action"); !reflect.DeepEqual(got, []any{"created", "updated"}) {
		t.Errorf("original action %v", got)
	}
	if !strings.Contains(d.Str("event.original"), `"file_integrity"`) {
		t.Errorf("event.original does not keep the document: %q", d.Str("event.original"))
	}
}

// openedFile turns the real auditd_manager chown document into what
// Auditbeat writes for openat(O_CREAT) of a new relative name: same
// shape, syscall and PATH items changed.
func openedFile(t *testing.T, mutate func(m map[string]any)) []byte {
	t.Helper()
	line := sampleLines(t, "elastic-integrations-auditd_manager/test-chown-events.json")[0]
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatal(err)
	}
	d := ecs.Doc(m)
	d.Set("event.action", "opened-file")
	d.Set("event.type", []any{"info"})
	d.Set("auditd.data.syscall", "openat")
	d.Set("auditd.data.a2", "241")
	d.Set("auditd.paths", []any{
		map[string]any{"item": "0", "name": "/home/vagrant", "objtype": "PARENT", "inode": "2"},
		map[string]any{"item": "1", "name": "drop.tar.gz", "objtype": "CREATE", "inode": "921900", "mode": "0100644", "ouid": "1000", "ogid": "1000"},
	})
	if mutate != nil {
		mutate(m)
	}
	out, _ := json.Marshal(m)
	return out
}

func TestOpenedFileWithCreateItemBecomesCreation(t *testing.T) {
	evs, _ := decodeAll([][]byte{openedFile(t, nil)})
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	d := evs[0].Doc
	for k, v := range map[string]string{
		"event.action":       "creation",
		"event.type":         "creation",
		"event.category":     "file",
		"file.path":          "/home/vagrant/drop.tar.gz",
		"file.directory":     "/home/vagrant",
		"file.extension":     "gz",
		"file.inode":         "921900",
		"process.name":       "chown",
		"process.executable": "/usr/bin/chown",
	} {
		if got := d.Str(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if got := d.Values("xferhunt.original.action"); !reflect.DeepEqual(got, []any{"opened-file"}) {
		t.Errorf("original action %v", got)
	}
	// The raw records the integration kept stay the event's original.
	if orig := d.Values("event.original"); len(orig) != 4 || !strings.HasPrefix(orig[0].(string), "type=SYSCALL") {
		t.Errorf("event.original = %v", orig)
	}
	if evs[0].Key != "h1:1611091464.740:263" {
		t.Errorf("key %q", evs[0].Key)
	}
}

func TestAuditdMappingCases(t *testing.T) {
	cases := []struct {
		name, action, path, orig string
		mutate                   func(m map[string]any)
	}{
		{name: "failed open is no event", mutate: func(m map[string]any) { ecs.Doc(m).Set("auditd.result", "fail") }},
		{name: "O_TRUNC on existing file is an overwrite", action: "overwrite", path: "/etc/passwd", mutate: func(m map[string]any) {
			ecs.Doc(m).Set("auditd.data.a2", "241") // O_WRONLY|O_CREAT|O_TRUNC
			ecs.Doc(m).Set("auditd.paths", []any{map[string]any{"name": "/etc/passwd", "nametype": "NORMAL"}})
		}},
		{name: "open without create or trunc is nothing", mutate: func(m map[string]any) {
			ecs.Doc(m).Set("auditd.data.a2", "0")
			ecs.Doc(m).Set("auditd.paths", []any{map[string]any{"name": "/etc/passwd", "nametype": "NORMAL"}})
		}},
		{name: "rename", action: "rename", path: "/tmp/b", orig: "/tmp/a", mutate: func(m map[string]any) {
			ecs.Doc(m).Set("auditd.data.syscall", "renameat2")
			ecs.Doc(m).Set("auditd.paths", []any{
				map[string]any{"name": "/tmp/", "nametype": "PARENT"}, map[string]any{"name": "/tmp/", "nametype": "PARENT"},
				map[string]any{"name": "a", "nametype": "DELETE"}, map[string]any{"name": "/tmp/b", "nametype": "CREATE"},
			})
			ecs.Doc(m).Set("process.working_directory", "/tmp")
		}},
		{name: "unlink", action: "deletion", path: "/tmp/gone", mutate: func(m map[string]any) {
			ecs.Doc(m).Set("auditd.data.syscall", "unlinkat")
			ecs.Doc(m).Set("auditd.paths", []any{map[string]any{"name": "/tmp", "nametype": "PARENT"}, map[string]any{"name": "/tmp/gone", "nametype": "DELETE"}})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs, _ := decodeAll([][]byte{openedFile(t, c.mutate)})
			if c.action == "" {
				if len(evs) != 0 {
					t.Fatalf("got %s event", evs[0].Doc.Str("event.action"))
				}
				return
			}
			if len(evs) != 1 {
				t.Fatalf("%d events", len(evs))
			}
			d := evs[0].Doc
			if d.Str("event.action") != c.action || d.Str("file.path") != c.path || d.Str("file.Ext.original.path") != c.orig {
				t.Errorf("got action %q path %q orig %q", d.Str("event.action"), d.Str("file.path"), d.Str("file.Ext.original.path"))
			}
		})
	}
}

func TestMalformedLinesCounted(t *testing.T) {
	evs, st := decodeAll([][]byte{[]byte(`{"auditd":`), []byte(""), []byte("  "), bytes.Repeat([]byte("x"), 10)})
	if len(evs) != 0 || st.Malformed != 2 || st.Lines != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestScanRegistered(t *testing.T) {
	line := append([]byte("\xef\xbb\xbf"), openedFile(t, nil)...)
	var n int
	st, err := Scan(bytes.NewReader(append(append(line, '\n'), line...)), sources.ScanOptions{HostID: "h", Emit: func(sources.Event) { n++ }})
	if err != nil || n != 2 || st.Events != 2 {
		t.Fatalf("scan: %v, %d events, %+v", err, n, st)
	}
}
