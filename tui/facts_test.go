package tui

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/enrich"
)

// lineText finds the text of the labelled line.
func lineText(ls []dline, label string) (string, bool) {
	for _, l := range ls {
		if l.label == label {
			return l.text, true
		}
	}
	return "", false
}

// TestFileTabShowsEnricherFacts: the File tab shows what the real enricher
// wrote about a real file: its size, sha256, type, mode and that the facts
// are final (the tab once read field names the enricher never wrote, and
// showed "—" for the hash and the type).
func TestFileTabShowsEnricherFacts(t *testing.T) {
	p := filepath.Join(t.TempDir(), "payload")
	body := append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 4093)...)
	if err := os.WriteFile(p, body, 0o640); err != nil {
		t.Fatal(err)
	}
	d := ecs.Doc{}
	d.Set("file.path", p)
	enrich.New(enrich.Options{}).Alert(context.Background(), d)
	ls := fileLines(d)
	want := map[string]string{
		"size":          "4100",
		"sha256":        fmt.Sprintf("%x", sha256.Sum256(body)),
		"type":          "elf",
		"mode":          "0640",
		"still present": "yes",
	}
	for label, w := range want {
		if got, ok := lineText(ls, label); !ok || got != w {
			t.Errorf("%s = %q, want %q", label, got, w)
		}
	}
	if got, _ := lineText(ls, "facts"); !strings.HasPrefix(got, "final") {
		t.Errorf("facts = %q, want final", got)
	}
	// Every fact line can be turned into an exception on its field.
	for _, l := range ls {
		if l.label == "sha256" && (l.field != enrich.FileSHA256 || l.value != want["sha256"]) {
			t.Errorf("sha256 line field %q value %q", l.field, l.value)
		}
	}
}

// TestUserTabGroup: the group the records name (group.name) is shown.
func TestUserTabGroup(t *testing.T) {
	d := ecs.Doc{"group": map[string]any{"id": "1001", "name": "victim"}}
	if got, _ := lineText(userLines(d, newClock(nil, base)), "group"); got != "victim" {
		t.Fatalf("group = %q", got)
	}
}

// TestAncestryMergesLiveChain: entries the records knew only by pid take
// their names from the chain /proc told at alert time, and the chain goes
// on past the last recorded ancestor.
func TestAncestryMergesLiveChain(t *testing.T) {
	d := ecs.Doc{"process": map[string]any{"pid": 300.0}}
	d.Set(enrich.RecordedAncestry, []any{
		map[string]any{"pid": 300.0, "name": "scp", "args": []any{"scp", "-t", "/srv"}},
		map[string]any{"pid": 200.0},
	})
	d.Set(enrich.ProcessAncestry, []any{
		map[string]any{"pid": 300, "name": "scp-live"},
		map[string]any{"pid": 200, "name": "bash", "executable": "/usr/bin/bash"},
		map[string]any{"pid": 100, "name": "sshd", "args": []any{"sshd: victim"}},
		map[string]any{"pid": 1, "name": "systemd"},
	})
	var got []string
	for _, l := range processLines(d) {
		if l.field == "" && l.text != "" {
			got = append(got, l.text)
		}
	}
	want := []string{"Ancestry", "systemd [1]", "└─sshd [100] sshd: victim", "  └─bash [200]", "    └─scp [300] scp, -t, /srv"}
	if len(got) < len(want) || strings.Join(got[len(got)-len(want):], "|") != strings.Join(want, "|") {
		t.Fatalf("ancestry %q, want %q", got, want)
	}
	// Live only (the records had no chain): the live chain is shown.
	d2 := ecs.Doc{}
	d2.Set(enrich.ProcessAncestry, []any{map[string]any{"pid": 7, "name": "sftp-server"}, map[string]any{"pid": 6, "name": "sshd"}})
	if a := ancestry(d2); len(a) != 2 || a[1].Str("name") != "sshd" {
		t.Fatalf("live-only ancestry %v", a)
	}
}
