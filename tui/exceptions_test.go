package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/detect/exceptions"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/triage"
)

// typeText presses each character of s.
func typeText(t *testing.T, m Model, s string) Model {
	t.Helper()
	for _, r := range s {
		m = keys(t, m, string(r))
	}
	return m
}

// TestExceptionRefusesAlertFields: x on kibana.alert.rule.name (the
// Overview's first field) offers no exception that could never match: it
// says why, and nothing is saved (the preview once claimed "would have
// suppressed 10 of 10" for it).
func TestExceptionRefusesAlertFields(t *testing.T) {
	b := newMemBackend()
	m := testModel(t, b, 100, 30)
	m = keys(t, m, "enter")
	if l, _ := m.focusedLine(); l.field != "kibana.alert.rule.name" {
		t.Fatalf("focused %q", l.field)
	}
	m = keys(t, m, "x")
	if m.overlay != overlayNone || !strings.Contains(m.flash, "not in the event") {
		t.Fatalf("overlay %v flash %q", m.overlay, m.flash)
	}
	if len(b.excs.Items) != 0 {
		t.Fatal("saved an exception on an alert field")
	}
	// Typing an alert field into the editor is refused at save too.
	m = keys(t, m, "tab", "x")
	if m.overlay != overlayException {
		t.Fatalf("editor not open on process.name: %v %q", m.overlay, m.flash)
	}
	m = keys(t, m, "up", "up", "ctrl+u")
	m = typeText(t, m, "kibana.alert.severity")
	m = keys(t, m, "enter")
	if m.overlay != overlayException || !strings.Contains(m.ex.previewErr, "never match") || len(b.excs.Items) != 0 {
		t.Fatalf("alert field accepted: overlay %v err %q items %d", m.overlay, m.ex.previewErr, len(b.excs.Items))
	}
	for _, f := range eventFields(mkAlert(table[0]).Doc) {
		if strings.HasPrefix(f, "kibana.") || strings.HasPrefix(f, "xferhunt.explain") || strings.HasPrefix(f, "xferhunt.file.hash") {
			t.Errorf("event fields offer %s", f)
		}
	}
}

// TestExceptionEditorRoundTrip: an exception built in the editor with two
// entries and two operators (is one of, is), previewed, saved with "close
// all open alerts that match", listed, edited, exported as a Kibana
// exception-list file that loads back with the same meaning, and deleted.
func TestExceptionEditorRoundTrip(t *testing.T) {
	b := newMemBackend()
	m := testModel(t, b, 120, 40)
	m.opt.ExportDir = t.TempDir()
	m = keys(t, m, "enter", "tab", "x") // Process tab, process.name of a5 (sshd, root)
	if m.overlay != overlayException || m.ex.entries[0].field != "process.name" || m.ex.entries[0].value != "sshd" {
		t.Fatalf("editor: %v %+v", m.overlay, m.ex.entries)
	}
	if !strings.Contains(screen(m), "would have excepted 2 of 5 alerts held now (2 of them open)") {
		t.Fatalf("preview:\n%s", screen(m))
	}
	// operator: is → is not → is one of; values sshd, vsftpd
	m = keys(t, m, "up", "right", "right", "down")
	m = typeText(t, m, ", vsftpd")
	if !strings.Contains(screen(m), "would have excepted 3 of 5") {
		t.Fatalf("is one of preview:\n%s", screen(m))
	}
	// AND user.name is root: the field typed, the value typed.
	m = keys(t, m, "ctrl+n")
	m = typeText(t, m, "user.name")
	m = keys(t, m, "down", "down")
	m = typeText(t, m, "root")
	if !strings.Contains(screen(m), "would have excepted 1 of 5") {
		t.Fatalf("two entries preview:\n%s", screen(m))
	}
	m = keys(t, m, "down", "space", "enter")
	if len(b.excs.Items) != 1 {
		t.Fatalf("saved %d items", len(b.excs.Items))
	}
	it := b.excs.Items[0]
	if len(it.Entries) != 2 || it.Entries[0].Type != exceptions.TypeMatchAny || it.Entries[1].Type != exceptions.TypeMatch ||
		strings.Join(it.Entries[0].Value.([]string), "|") != "sshd|vsftpd" || it.Entries[1].Value != "root" {
		t.Fatalf("item %+v", it)
	}
	if got := m.st.Row("a5").Status().String(); got != "closed" || b.statuses["a5"] != triage.StatusClosed || m.st.Row("a2").Status().String() != "open" {
		t.Fatalf("a5 %s (persisted %q), a2 %s", got, b.statuses["a5"], m.st.Row("a2").Status())
	}
	if !strings.Contains(m.flash, "closed 1 open alerts") || !strings.Contains(m.flash, "saved in the state directory") {
		t.Fatalf("flash %q", m.flash)
	}

	// The list shows it; edit it: user.name is root → does not exist.
	m = keys(t, m, "esc", "X")
	if m.overlay != overlayExceptions || !strings.Contains(screen(m), "process.name is one of sshd, vsftpd and user.name is root") {
		t.Fatalf("list:\n%s", screen(m))
	}
	m = keys(t, m, "enter")
	if m.overlay != overlayException || len(m.ex.entries) != 2 {
		t.Fatalf("edit: %v %+v", m.overlay, m.ex.entries)
	}
	m = keys(t, m, "down", "down", "down", "down", "left", "enter") // entry 2 operator: is → does not exist
	if len(b.excs.Items) != 1 || b.excs.Items[0].ID != it.ID || b.excs.Items[0].Entries[1].Type != exceptions.TypeExists || b.excs.Items[0].Entries[1].Operator != exceptions.OperatorExcluded {
		t.Fatalf("edited %+v", b.excs.Items)
	}

	// Export: Kibana's shape, and it loads back with the same meaning.
	m = keys(t, m, "X", "E")
	matches, _ := filepath.Glob(filepath.Join(m.opt.ExportDir, "xferhunt-exceptions-*.ndjson"))
	if len(matches) != 1 {
		t.Fatalf("exported %v; flash %q", matches, m.flash)
	}
	raw, _ := os.ReadFile(matches[0])
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"list_id"`) || !strings.Contains(lines[1], `"item_id"`) || !strings.Contains(lines[2], `"exported_exception_list_item_count":1`) {
		t.Fatalf("export:\n%s", raw)
	}
	back, err := exceptions.LoadFile(matches[0])
	if err != nil || len(back.Items) != 1 {
		t.Fatalf("reload: %v %+v", err, back)
	}
	d := ecs.Doc{"process": map[string]any{"name": "vsftpd"}}
	if !back.Items[0].Excepts(d) || back.Items[0].Excepts(ecs.Doc{"process": map[string]any{"name": "vsftpd"}, "user": map[string]any{"name": "x"}}) {
		t.Fatal("reloaded item does not mean the same")
	}

	// Delete, after confirmation.
	m = keys(t, m, "d")
	if m.overlay != overlayConfirm || len(b.excs.Items) != 1 {
		t.Fatal("deleted without confirmation")
	}
	m = keys(t, m, "enter") // dialogs confirm with enter
	if len(b.excs.Items) != 0 || m.overlay != overlayExceptions || !strings.Contains(screen(m), "none yet") {
		t.Fatalf("after delete: %d items, overlay %v\n%s", len(b.excs.Items), m.overlay, screen(m))
	}
}

// TestExceptionEphemeralSaysSo: with --ephemeral the editor and the
// confirmation say the exception lasts for this run only.
func TestExceptionEphemeralSaysSo(t *testing.T) {
	b := newMemBackend()
	b.ephemeral = true
	m := testModel(t, b, 120, 40)
	m = keys(t, m, "enter", "tab", "x")
	if !strings.Contains(screen(m), "lasts for this run only") {
		t.Fatalf("editor:\n%s", screen(m))
	}
	m = keys(t, m, "enter")
	if !strings.Contains(m.flash, "for this run only") || strings.Contains(m.flash, "state directory") {
		t.Fatalf("flash %q", m.flash)
	}
}

// TestRecheckUpdatesTheRow: f asks the backend for fresh facts and the
// row shows them.
func TestRecheckUpdatesTheRow(t *testing.T) {
	b := newMemBackend()
	m := testModel(t, b, 120, 40)
	m.st.Row("a5").Doc() // selected: the newest
	m = keys(t, m, "f")
	if len(b.rechecked) != 1 || b.rechecked[0] != "a5" {
		t.Fatalf("rechecked %v", b.rechecked)
	}
	if m.st.Len() != 5 || m.st.Row("a5").Doc().Str("xferhunt.file.facts") != "final" || !strings.Contains(m.flash, "re-checked") {
		t.Fatalf("row not updated: %d rows, flash %q", m.st.Len(), m.flash)
	}
}
