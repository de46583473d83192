package tui

import (
	"testing"

	"github.com/xferhunt/xferhunt/ecs"
)

// TestAncestryLabels: an ancestor the engine recorded only partly renders
// without a stray space or empty brackets.
func TestAncestryLabels(t *testing.T) {
	d := ecs.Doc{
		"process": map[string]any{"pid": 4242.0, "name": "scp"},
		"xferhunt": map[string]any{"ancestry": []any{
			map[string]any{"pid": 4242.0, "name": "scp", "args": []any{"scp", "-t", "/srv"}},
			map[string]any{"pid": 1932.0},
			map[string]any{"executable": "/usr/sbin/sshd"},
			map[string]any{"args": []any{"init"}},
			map[string]any{"pid": 1.0, "name": "systemd"},
		}},
	}
	var got []string
	for _, l := range processLines(d) {
		if l.field == "" && l.text != "" {
			got = append(got, l.text)
		}
	}
	want := []string{
		"Ancestry",
		"systemd [1]",
		"└─(unknown process) init",
		"  └─/usr/sbin/sshd",
		"    └─[1932]",
		"      └─scp [4242] scp, -t, /srv",
	}
	if len(got) < len(want) {
		t.Fatalf("ancestry lines %q", got)
	}
	got = got[len(got)-len(want):]
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i, got[i], want[i])
		}
	}
	// The root entry on its own: no leading space.
	if l := ancestorLabel(ecs.Doc{"pid": 1932.0}); l != "[1932]" {
		t.Errorf("pid-only label %q", l)
	}
}
