package tui

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// TestProgramFlow drives the real program: alerts arrive, one is opened,
// tabs switch, a filter is applied, and q quits cleanly.
func TestProgramFlow(t *testing.T) {
	b := newMemBackend()
	m := New(Options{Backend: b, Location: time.UTC, Now: func() time.Time { return base }})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	wait := func(what string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(out []byte) bool {
			return bytes.Contains(out, []byte(what))
		}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	}
	tm.Send(AlertsMsg{Alerts: tableAlerts()})
	wait("sftp-server")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	wait("Unusual Remote File Creation")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyTab})
	wait("Ancestry")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	tm.Type("/user.name : carol")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	wait("1/5 shown")
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	if final.filter != "user.name : carol" || final.st.Shown() != 1 || final.selected().User() != "carol" {
		t.Fatalf("final state: filter %q rows %d", final.filter, final.st.Shown())
	}
	if final.detail {
		t.Fatal("esc did not return to the list")
	}
	if !strings.Contains(screen(final), "carol") {
		t.Fatal("final view lost the filtered alert")
	}
}
