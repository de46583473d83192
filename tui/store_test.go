package tui

import (
	"slices"
	"testing"

	"github.com/xferhunt/xferhunt/detect"
)

// TestResentAlertRechecked: an alert re-sent with a known uuid replaces
// the old copy and is checked against the active filter again: it leaves
// the view when it stops matching, joins it when it starts to, and moves
// to its new place in the order.
func TestResentAlertRechecked(t *testing.T) {
	m := testModel(t, newMemBackend(), 100, 30)
	m = keys(t, m, "/")
	for _, r := range "process.name : sshd" {
		m = keys(t, m, string(r))
	}
	m = keys(t, m, "enter")
	ids := func() []string {
		var out []string
		for i := range m.st.Shown() {
			out = append(out, m.st.At(i).UUID())
		}
		return out
	}
	if got := ids(); !slices.Equal(got, []string{"a5", "a2"}) {
		t.Fatalf("filtered view %v", got)
	}
	// a2 re-sent as vsftpd: out. a1 re-sent as sshd, newest: in, on top.
	m, _ = step(t, m, AlertsMsg{Alerts: []detect.Alert{
		mkAlert(spec{ID: "a2", At: "2026-11-26T02:20:00Z", Sev: "medium", Proc: "vsftpd", User: "bob", IP: "198.51.100.23", Path: "/home/bob/x", Historical: false}),
		mkAlert(spec{ID: "a1", At: "2026-11-26T02:59:00Z", Sev: "medium", Proc: "sshd", User: "alice", IP: "203.0.113.7", Path: "/srv/ftp/upload/payload.bin", Historical: true}),
	}})
	if got := ids(); !slices.Equal(got, []string{"a1", "a5"}) {
		t.Fatalf("after re-send: view %v, want [a1 a5]", got)
	}
	if m.st.Len() != len(table) {
		t.Fatalf("re-sent alerts added rows: %d", m.st.Len())
	}
	// The same uuid twice in one batch: the later copy decides.
	m, _ = step(t, m, AlertsMsg{Alerts: []detect.Alert{
		mkAlert(spec{ID: "a3", At: "2026-11-26T02:30:00Z", Sev: "high", Proc: "sshd", User: "carol", IP: "192.0.2.44", Path: "/x", Historical: false}),
		mkAlert(spec{ID: "a3", At: "2026-11-26T02:30:00Z", Sev: "high", Proc: "scp", User: "carol", IP: "192.0.2.44", Path: "/x", Historical: false}),
	}})
	if got := ids(); !slices.Equal(got, []string{"a1", "a5"}) {
		t.Fatalf("after double re-send: view %v, want [a1 a5]", got)
	}
}
