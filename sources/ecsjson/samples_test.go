package ecsjson

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/internal/sharedtest"
	"github.com/xferhunt/xferhunt/sources"
)

var samplesDir = sharedtest.Dir + "/samples"

// jsonSamples lists every JSON sample file, skipping when the samples are
// not on this machine.
func jsonSamples(t *testing.T) []string {
	t.Helper()
	if _, err := os.Stat(samplesDir); err != nil {
		t.Skipf("samples absent: %v", err)
	}
	var out []string
	err := filepath.WalkDir(samplesDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".json.golden")) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no JSON samples found")
	}
	return out
}

func TestEveryJSONSampleYieldsRecords(t *testing.T) {
	for _, p := range jsonSamples(t) {
		t.Run(strings.TrimPrefix(p, samplesDir+"/"), func(t *testing.T) {
			st, err := formats().ScanFile(p, sources.ScanOptions{HostID: "h"})
			if err != nil {
				t.Fatal(err)
			}
			if st.Records == 0 || st.Malformed != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// go-libaudit's golden files hold the two coalesced file events of the
// samples that create a name: vim's backup rename and a mknod.
func TestGoldenCoalescedFileEvents(t *testing.T) {
	dir := filepath.Join(samplesDir, "auditd-coalesced-json/go-libaudit-aucoalesce-golden")
	cases := []struct {
		file, action, path, orig, exe, key string
	}{
		{"ubuntu-17.04-linux-4.10.0.json.golden", "rename", "/etc/audit/rules.d/audit.rules~", "/etc/audit/rules.d/audit.rules",
			"/usr/bin/vim.basic", "h:1493125524.089:126"},
		{"rhel-7-linux-3.10.0.json.golden", "creation", "/run/systemd/sessions/23.ref", "",
			"/usr/lib/systemd/systemd-logind;58f98c85 (deleted)", "h:1492800799.050:20294"},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.file)
		if _, err := os.Stat(p); err != nil {
			t.Skipf("sample absent: %v", err)
		}
		var found bool
		_, err := formats().ScanFile(p, sources.ScanOptions{HostID: "h", Emit: func(e sources.Event) {
			d := e.Doc
			if d.Str("file.path") != c.path {
				return
			}
			found = true
			if d.Str("event.action") != c.action || d.Str("file.Ext.original.path") != c.orig ||
				d.Str("process.executable") != c.exe || e.Key != c.key || d.Str("host.os.type") != "linux" ||
				d.Str("event.category") != "file" || d.Str("xferhunt.mapped_from") != "go-libaudit" {
				t.Errorf("%s: action %q orig %q exe %q key %q category %q", c.file, d.Str("event.action"),
					d.Str("file.Ext.original.path"), d.Str("process.executable"), e.Key, d.Str("event.category"))
			}
			if !strings.Contains(d.Str("event.original"), `"record_type":"syscall"`) {
				t.Errorf("%s: event.original does not keep the event: %.80q", c.file, d.Str("event.original"))
			}
		}})
		if err != nil || !found {
			t.Errorf("%s: err %v, event for %s found %v", c.file, err, c.path, found)
		}
	}
}
