package pipeline

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/exceptions"
	"github.com/xferhunt/xferhunt/internal/liveness"
)

// TestExceptionsRoundTripThroughExport: an item saved through the TUI's
// backend (two entries, is one of and matches) applies at once, is
// exported as a Kibana exception-list file, and that file given to
// another run with --exceptions excepts the same events and shows there
// as loaded (read-only), while the new run's own list stays empty. Edit
// and delete apply at once too.
func TestExceptionsRoundTripThroughExport(t *testing.T) {
	s := testSetup(t, filepath.Join(t.TempDir(), "state"))
	defer s.Close()
	b := &backend{s: s}
	it := exceptions.NewItemFromField("x", "x")
	it.Name = "sftp uploads into /srv/drop"
	it.Entries = []exceptions.Entry{
		{Field: "process.name", Type: exceptions.TypeMatchAny, Operator: exceptions.OperatorIncluded, Value: []string{"sftp-server", "vsftpd"}},
		{Field: "file.path", Type: exceptions.TypeWildcard, Operator: exceptions.OperatorIncluded, Value: "/srv/drop/*"},
	}
	if err := b.SaveException(it); err != nil {
		t.Fatal(err)
	}
	alerts := func(s *setup, exe, path, key string) int {
		return len(s.engine.Process(creation(exe, path), detect.Flags{Key: key}))
	}
	if n := alerts(s, "/usr/lib/openssh/sftp-server", "/srv/drop/a", "k1"); n != 0 {
		t.Fatalf("excepted event raised %d alerts", n)
	}
	if n := alerts(s, "/usr/lib/openssh/sftp-server", "/home/x/a", "k2"); n != 1 {
		t.Fatalf("event outside the pattern raised %d alerts, want 1", n)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "exceptions.ndjson")
	if n, err := b.ExportExceptions(path); err != nil || n != 1 {
		t.Fatalf("export: %d, %v", n, err)
	}
	if _, err := b.ExportExceptions(path); err == nil {
		t.Fatal("export overwrote an existing file")
	}
	raw, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 3 {
		t.Fatalf("export lines:\n%s", raw)
	}
	// Kibana's import wants these keys on the list and the item.
	for i, keys := range [][]string{
		{`"list_id"`, `"name"`, `"description"`, `"type":"detection"`, `"namespace_type":"single"`},
		{`"item_id"`, `"list_id"`, `"name":"sftp uploads into /srv/drop"`, `"type":"simple"`, `"entries"`, `"os_types"`, `"comments"`, `"tags"`, `"namespace_type"`,
			`{"field":"process.name","operator":"included","type":"match_any","value":["sftp-server","vsftpd"]}`,
			`{"field":"file.path","operator":"included","type":"wildcard","value":"/srv/drop/*"}`},
		{`"exported_exception_list_count":1`, `"exported_exception_list_item_count":1`},
	} {
		for _, k := range keys {
			if !strings.Contains(lines[i], k) {
				t.Errorf("line %d lacks %s: %s", i+1, k, lines[i])
			}
		}
	}

	var errb bytes.Buffer
	s2, err := newSetup(&Config{Rules: []string{"seed"}, Ephemeral: true, Exceptions: path, Stderr: &errb})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if n := alerts(s2, "/usr/sbin/vsftpd", "/srv/drop/b", "k3"); n != 0 {
		t.Fatalf("re-imported exception: %d alerts", n)
	}
	if n := alerts(s2, "/usr/bin/scp", "/srv/drop/c", "k4"); n != 1 {
		t.Fatalf("re-imported exception over-matches: %d alerts", n)
	}
	b2 := &backend{s: s2}
	saved, loaded := b2.Exceptions()
	if len(saved) != 0 || len(loaded) != 1 || loaded[0].Name != it.Name || !b2.Ephemeral() || b.Ephemeral() {
		t.Fatalf("saved %d loaded %d ephemeral %v/%v", len(saved), len(loaded), b2.Ephemeral(), b.Ephemeral())
	}

	// Edit (same id): sftp-server only, at once; then delete.
	saved, _ = b.Exceptions()
	ed := saved[0]
	ed.Entries = []exceptions.Entry{{Field: "process.name", Type: exceptions.TypeMatch, Operator: exceptions.OperatorIncluded, Value: "sftp-server"}}
	if err := b.SaveException(ed); err != nil {
		t.Fatal(err)
	}
	if saved, _ := b.Exceptions(); len(saved) != 1 {
		t.Fatalf("edit added an item: %d", len(saved))
	}
	if n := alerts(s, "/usr/sbin/vsftpd", "/srv/drop/d", "k5"); n != 1 {
		t.Fatalf("edited exception still excepts vsftpd: %d alerts", n)
	}
	if err := b.DeleteException(ed.ID); err != nil {
		t.Fatal(err)
	}
	if n := alerts(s, "/usr/lib/openssh/sftp-server", "/srv/drop/e", "k6"); n != 0 {
		// sftp-server × host is no longer new: no alert either way.
		t.Fatalf("unexpected %d alerts", n)
	}
	if _, still := s.exc.Match(creation("/usr/lib/openssh/sftp-server", "/srv/drop/f"), time.Now()); still {
		t.Fatal("deleted exception still applies")
	}
	if saved, _ := b.Exceptions(); len(saved) != 0 {
		t.Fatalf("deleted exception still applies")
	}
}

// TestRecheckRefusedOffHost: a re-check of a recorded (demo) or backfilled
// alert is refused with a reason and reads nothing.
func TestRecheckRefusedOffHost(t *testing.T) {
	s := testSetup(t, filepath.Join(t.TempDir(), "state"))
	defer s.Close()
	s.here = testHere
	b := &backend{s: s}
	f := filepath.Join(t.TempDir(), "here")
	os.WriteFile(f, []byte("local file"), 0o600)
	a := liveAlert("u1", f)
	liveness.Set(a.Doc, liveness.Backfill, testHere)
	if _, err := b.RecheckFile(a); err == nil || !strings.Contains(err.Error(), "backfill") {
		t.Fatalf("backfilled: %v", err)
	}
	liveness.Set(a.Doc, liveness.Live, testHere)
	s.readOnly = true // a re-check reads only: --readonly allows it
	if _, err := b.RecheckFile(a); err != nil {
		t.Fatalf("re-check under --readonly: %v", err)
	}
	s.readOnly = false
	s.recorded = true
	if _, err := b.RecheckFile(a); err == nil {
		t.Fatal("recorded alert re-checked")
	}
	s.recorded = false
	upd, err := b.RecheckFile(a)
	if err != nil || upd.Doc.Str("xferhunt.file.facts") != "final" || a.Doc.Get("xferhunt.file") != nil {
		t.Fatalf("live re-check: %v %v (original changed: %v)", err, upd.Doc.Get("xferhunt.file"), a.Doc.Get("xferhunt.file"))
	}
}

// TestExceptionExportHasKibanasShape: the export of TUI exceptions has, on
// each line, every key a Kibana export sample (the exceptions package's
// kibana-export corpus entry) has on the same kind of line, but the ones
// Kibana's server makes itself on import (ids, versions, timestamps).
func TestExceptionExportHasKibanasShape(t *testing.T) {
	raw, err := os.ReadFile("../detect/exceptions/testdata/fuzz/FuzzLoad/kibana-export")
	if err != nil {
		t.Skipf("no Kibana sample: %v", err)
	}
	_, lit, _ := strings.Cut(string(raw), "[]byte(")
	sample, err := strconv.Unquote(strings.TrimSuffix(strings.TrimSpace(lit), ")"))
	if err != nil {
		t.Fatal(err)
	}
	server := map[string]bool{"_version": true, "created_at": true, "created_by": true, "id": true, "tie_breaker_id": true, "updated_at": true, "updated_by": true, "meta": true, "version": true}
	kind := func(m map[string]any) string {
		switch {
		case m["item_id"] != nil:
			return "item"
		case m["exported_exception_list_count"] != nil:
			return "summary"
		}
		return "list"
	}
	want := map[string]map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(sample), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		k := kind(m)
		if want[k] == nil {
			want[k] = map[string]bool{}
		}
		for key := range m {
			if !server[key] && key != "expire_time" {
				want[k][key] = true
			}
		}
	}
	s := testSetup(t, filepath.Join(t.TempDir(), "state"))
	defer s.Close()
	b := &backend{s: s}
	if err := b.SaveException(exceptions.NewItemFromField("user.name", "backup")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "x.ndjson")
	if _, err := b.ExportExceptions(path); err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(path)
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		k := kind(m)
		seen[k] = true
		for key := range want[k] {
			if _, ok := m[key]; !ok {
				t.Errorf("%s line lacks %q: %s", k, key, l)
			}
		}
	}
	if len(seen) != 3 {
		t.Errorf("export has lines of %v, want list, item and summary", seen)
	}
}
