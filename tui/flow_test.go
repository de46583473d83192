package tui

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/liveness"
	"github.com/xferhunt/xferhunt/respond"
	"github.com/xferhunt/xferhunt/triage"
)

func TestNewestFirstAndLiveMerge(t *testing.T) {
	m := testModel(t, newMemBackend(), 100, 30)
	if got := m.selected().UUID(); got != "a5" {
		t.Fatalf("top alert %s, want newest a5", got)
	}
	// Move off the top, then a newer alert arrives: selection must stay.
	m = keys(t, m, "down", "down")
	if m.selected().UUID() != "a3" {
		t.Fatalf("selected %s, want a3", m.selected().UUID())
	}
	m, _ = step(t, m, AlertsMsg{Alerts: []detect.Alert{mkAlert(spec{ID: "a6", At: "2026-11-26T02:55:00Z", Sev: "high", Proc: "vsftpd", User: "erin", IP: "203.0.113.5", Path: "/srv/ftp/new.bin", Historical: false})}})
	if m.selected().UUID() != "a3" {
		t.Fatalf("live alert moved the selection to %s", m.selected().UUID())
	}
	if first := m.st.At(0).UUID(); first != "a6" {
		t.Fatalf("newest alert %s not on top", first)
	}
	// A backfilled alert older than everything goes to the bottom.
	m, _ = step(t, m, AlertsMsg{Alerts: []detect.Alert{mkAlert(spec{ID: "a0", At: "2026-11-25T01:00:00Z", Sev: "low", Proc: "sshd", User: "old", IP: "192.0.2.1", Path: "/old", Historical: true})}})
	if last := m.st.At(m.st.Shown() - 1).UUID(); last != "a0" {
		t.Fatalf("old alert not at the bottom: %s", last)
	}
	if !strings.Contains(screen(m), "7/7 shown") {
		t.Fatalf("header count wrong:\n%s", screen(m))
	}
}

func TestTriagePersistsAcrossRestart(t *testing.T) {
	b := newMemBackend()
	m := testModel(t, b, 100, 30)
	m = keys(t, m, "a")         // ack a5
	m = keys(t, m, "down", "c") // close a4
	if b.statuses["a5"] != triage.StatusAcknowledged || b.statuses["a4"] != triage.StatusClosed {
		t.Fatalf("backend statuses %v", b.statuses)
	}
	if !strings.Contains(screen(m), "open 3 · ack 1 · closed 1") {
		t.Fatalf("counts wrong:\n%s", screen(m))
	}
	// The alert document itself carries the decision (copy/export/KQL).
	if got := m.selected().Doc().Str("kibana.alert.workflow_status"); got != "closed" {
		t.Fatalf("doc status %q", got)
	}
	// Restart: a new model over the same backend sees the same statuses
	// even though the engine re-sends the alerts as open.
	m2 := testModel(t, b, 100, 30)
	if !strings.Contains(screen(m2), "open 3 · ack 1 · closed 1") {
		t.Fatalf("statuses lost on restart:\n%s", screen(m2))
	}
	// Reopen goes back to open and is persisted too.
	m2 = keys(t, m2, "o")
	if b.statuses["a5"] != triage.StatusOpen || !strings.Contains(screen(m2), "open 4") {
		t.Fatalf("reopen not persisted: %v", b.statuses)
	}
}

func TestFilterAndSort(t *testing.T) {
	b := newMemBackend()
	m := testModel(t, b, 100, 30)
	m = keys(t, m, strings.Split("/process.name : sshd", "")...)
	m = keys(t, m, "enter")
	if m.st.Shown() != 2 || m.filter != "process.name : sshd" {
		t.Fatalf("filter kept %d rows (%q)", m.st.Shown(), m.filter)
	}
	// New alerts are filtered on arrival.
	m, _ = step(t, m, AlertsMsg{Alerts: []detect.Alert{
		mkAlert(spec{ID: "n1", At: "2026-11-26T02:59:00Z", Sev: "low", Proc: "vsftpd", User: "x", IP: "192.0.2.9", Path: "/a", Historical: false}),
		mkAlert(spec{ID: "n2", At: "2026-11-26T02:58:00Z", Sev: "low", Proc: "sshd", User: "x", IP: "192.0.2.9", Path: "/b", Historical: false}),
	}})
	if m.st.Shown() != 3 || m.selected().UUID() != "n2" {
		t.Fatalf("live filter: %d rows, top %s", m.st.Shown(), m.selected().UUID())
	}
	// A bad filter keeps the prompt open with the error and the old filter.
	m = keys(t, m, "/", "ctrl+u", "x", "enter")
	if m.overlay != overlayFilter || !strings.Contains(m.inputErr, "expected") || m.st.Shown() != 3 {
		t.Fatalf("bad filter: overlay %v err %q rows %d", m.overlay, m.inputErr, m.st.Shown())
	}
	m = keys(t, m, "esc")
	// Clearing the filter shows everything again.
	m = keys(t, m, "/")
	for range len(m.input) {
		m = keys(t, m, "backspace")
	}
	m = keys(t, m, "enter")
	if m.st.Shown() != 7 || m.filter != "" {
		t.Fatalf("cleared filter shows %d", m.st.Shown())
	}
	sel := m.selected().UUID()
	m = keys(t, m, "s")
	if m.sortMode != alertdb.SortSeverity || m.st.At(0).Severity() != triage.SevCritical {
		t.Fatalf("severity sort: mode %v top %v", m.sortMode, m.st.At(0).Severity())
	}
	if m.selected().UUID() != sel {
		t.Fatalf("sorting moved the selection from %s to %s", sel, m.selected().UUID())
	}
	m = keys(t, m, "s")
	if m.sortMode != alertdb.SortProcess || m.st.At(0).Process() != "scp" {
		t.Fatalf("process sort: top %s", m.st.At(0).Process())
	}
}

func TestStaleFilterResultIgnored(t *testing.T) {
	m := testModel(t, newMemBackend(), 100, 30)
	cmd := m.recompute("x", alertdb.MatchFunc(func(ecs.Doc) bool { return false }), nil)
	old := cmd()
	_ = m.recompute("", nil, nil) // a newer request supersedes it
	nm, _ := m.Update(old)
	if st := nm.(Model).st; st.Shown() != 5 {
		t.Fatal("a stale filter result was applied")
	}
}

func TestCopyUsesOSC52(t *testing.T) {
	m := testModel(t, newMemBackend(), 100, 30)
	m, seen := step(t, m, press("y"))
	var clip string
	for _, msg := range seen {
		if s := fmt.Sprintf("%T", msg); s == "tea.setClipboardMsg" {
			clip = fmt.Sprint(msg)
		}
	}
	if !strings.Contains(clip, `"kibana.alert.uuid":"a5"`) {
		t.Fatalf("clipboard not set with the alert JSON: %q", clip)
	}
	if !strings.Contains(screen(m), "copied alert JSON") {
		t.Fatal("no confirmation shown")
	}
}

func TestExportVisible(t *testing.T) {
	b := newMemBackend()
	m := testModel(t, b, 100, 30)
	m = keys(t, m, strings.Split("/user.name : bob", "")...)
	m = keys(t, m, "enter", "E")
	want := "xferhunt-alerts-20261126T030000Z.ndjson"
	if b.exported[want] != 1 {
		t.Fatalf("exported %v, want 1 alert in %s", b.exported, want)
	}
	if !strings.Contains(screen(m), "exported 1 alerts") {
		t.Fatalf("no result shown:\n%s", screen(m))
	}
}

func TestKillNeedsConfirmation(t *testing.T) {
	b := newMemBackend()
	m := testModel(t, b, 100, 30)
	m = keys(t, m, "K")
	if len(b.killed) != 0 {
		t.Fatal("killed before confirmation")
	}
	// The confirmation shows both choices and the session's tree.
	out := screen(m)
	for _, want := range []string{"end the transfer process 4242", "end login session 12", "4100 sshd", "s end the login session"} {
		if !strings.Contains(out, want) {
			t.Fatalf("confirmation lacks %q:\n%s", want, out)
		}
	}
	m = keys(t, m, "enter") // no single yes: a choice must be named
	if len(b.killed) != 0 || m.overlay != overlayConfirm {
		t.Fatalf("enter acted on a two-choice kill: %v", b.killed)
	}
	m = keys(t, m, "esc")
	m = keys(t, m, "K", "p")
	if len(b.killed) != 1 || b.killed[0] != 4242 {
		t.Fatalf("killed %v", b.killed)
	}
	if !strings.Contains(screen(m), "killed pid 4242") {
		t.Fatal("no result")
	}
	m = keys(t, m, "K", "s")
	if !slices.Equal(b.killed, []int{4242, 4100, 4242}) {
		t.Fatalf("session kill ended %v", b.killed)
	}
	// R shows the response log, newest first.
	m = keys(t, m, "R")
	out = screen(m)
	ks, kp := strings.Index(out, "kill-session"), strings.Index(out, "kill-process")
	if ks < 0 || kp < 0 || ks > kp {
		t.Fatalf("response log wrong:\n%s", out)
	}
	m = keys(t, m, "esc")
	if m.overlay != overlayNone {
		t.Fatal("esc did not close the log")
	}
}

// TestHostKeysRefusedWhenNotLive: K, P and Q on an alert that is not live
// on this host (a recording, a backfill, another host) are absent from the
// help and answered with the reason; the backend is never called.
func TestHostKeysRefusedWhenNotLive(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(d ecs.Doc)
		here   liveness.Host
		why    string
	}{
		{"demo", func(d ecs.Doc) { d.Set(liveness.FieldOrigin, "recorded") }, testHere, "recording"},
		{"backfill", func(d ecs.Doc) { d.Set(liveness.FieldOrigin, "backfill") }, testHere, "backfilled"},
		{"scan", func(d ecs.Doc) { d.Set(liveness.FieldOrigin, "") }, testHere, "not raised live"},
		{"other host", func(d ecs.Doc) { d.Set("host.id", "node-b") }, testHere, "another host"},
		{"rebooted", func(d ecs.Doc) { d.Set(liveness.FieldBoot, "old-boot") }, testHere, "reboot"},
		{"demo run", func(ecs.Doc) {}, liveness.Host{}, "does not act on the host"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newMemBackend()
			as := tableAlerts()
			for _, a := range as {
				c.mutate(a.Doc)
			}
			m := New(Options{Backend: &refuseAll{b}, Location: time.UTC, Here: c.here})
			m, _ = step(t, m, tea.WindowSizeMsg{Width: 160, Height: 48})
			m, _ = step(t, m, AlertsMsg{Alerts: as})
			help := screen(keys(t, m, "?"))
			for _, k := range []string{"kill process", "evidence bundle", "quarantine"} {
				if strings.Contains(help, k) {
					t.Fatalf("%q listed in help:\n%s", k, help)
				}
			}
			if !strings.Contains(help, "host actions (K P Q) off: ") || !strings.Contains(help, c.why) {
				t.Fatalf("help does not say why:\n%s", help)
			}
			for _, k := range []string{"K", "P", "Q"} {
				m2 := keys(t, m, k)
				if !m2.flashErr || !strings.Contains(m2.flash, "refused: ") || !strings.Contains(m2.flash, c.why) {
					t.Fatalf("%s: flash %q", k, m2.flash)
				}
			}
		})
	}
}

// refuseAll fails the test's expectations loudly if a host action reaches
// the backend.
type refuseAll struct{ *memBackend }

func (r *refuseAll) PlanKill(detect.Alert) (respond.KillPlan, error) {
	panic("PlanKill called for an alert that is not live")
}
func (r *refuseAll) Evidence(detect.Alert) (respond.Bundle, error) {
	panic("Evidence called for an alert that is not live")
}
func (r *refuseAll) Quarantine(detect.Alert) (string, error) {
	panic("Quarantine called for an alert that is not live")
}

// TestReadOnly: --readonly takes every host-changing key out of the help
// and refuses it, even on live alerts.
func TestReadOnly(t *testing.T) {
	b := newMemBackend()
	m := New(Options{Backend: &refuseAll{b}, Location: time.UTC, Here: testHere, ReadOnly: true})
	m, _ = step(t, m, tea.WindowSizeMsg{Width: 160, Height: 48})
	m, _ = step(t, m, AlertsMsg{Alerts: tableAlerts()})
	for _, view := range [][]string{{"?"}, {"enter", "?"}} {
		help := screen(keys(t, m, view...))
		if strings.Contains(help, "kill") || strings.Contains(help, "evidence bundle") || strings.Contains(help, "quarantine") || !strings.Contains(help, "--readonly") {
			t.Fatalf("read-only help:\n%s", help)
		}
	}
	for _, k := range []string{"K", "P", "Q"} {
		m2 := keys(t, m, k)
		if !m2.flashErr || !strings.Contains(m2.flash, "--readonly") {
			t.Fatalf("%s under --readonly: %q", k, m2.flash)
		}
	}
	// The live run's other keys still work.
	if m2 := keys(t, m, "a"); m2.st.Count(triage.StatusAcknowledged) != 1 {
		t.Fatal("acknowledge stopped working under --readonly")
	}
}

type failingBackend struct{ *memBackend }

func (failingBackend) Evidence(detect.Alert) (respond.Bundle, error) {
	return respond.Bundle{}, errors.New("/tmp/x: refused: a path component is a symbolic link (never followed)")
}

func TestEvidence(t *testing.T) {
	m := testModel(t, newMemBackend(), 100, 30)
	m = keys(t, m, "P")
	if !strings.Contains(screen(m), "evidence bundle /var/lib/xferhunt/evidence/a5") {
		t.Fatalf("evidence result missing:\n%s", screen(m))
	}
	fb := failingBackend{newMemBackend()}
	m2 := New(Options{Backend: fb, Location: time.UTC, Here: testHere})
	m2, _ = step(t, m2, AlertsMsg{Alerts: tableAlerts()})
	m2 = keys(t, m2, "P")
	if !m2.flashErr || !strings.Contains(screen(m2), "symbolic") {
		t.Fatalf("error not shown:\n%s", screen(m2))
	}
}

func TestQuarantineNeedsConfirmation(t *testing.T) {
	b := newMemBackend()
	m := testModel(t, b, 100, 30)
	m = keys(t, m, "Q")
	if len(b.quarantined) != 0 || !strings.Contains(screen(m), "chmod 000") {
		t.Fatalf("no confirmation:\n%s", screen(m))
	}
	m = keys(t, m, "enter")
	if len(b.quarantined) != 1 || !strings.Contains(m.flash, "quarantined") {
		t.Fatalf("quarantined %v, flash %q", b.quarantined, m.flash)
	}
}

func TestMouse(t *testing.T) {
	m := testModel(t, newMemBackend(), 100, 30)
	m, _ = step(t, m, tea.MouseWheelMsg{Button: tea.MouseWheelDown, X: 5, Y: 5})
	if m.cursor != 3 {
		t.Fatalf("wheel moved cursor to %d", m.cursor)
	}
	// Row 0 of the list is at screen y=2 (header line, column header).
	m, _ = step(t, m, tea.MouseClickMsg{Button: tea.MouseLeft, X: 10, Y: 3})
	if m.cursor != 1 || m.detail {
		t.Fatalf("click: cursor %d detail %v", m.cursor, m.detail)
	}
	m, _ = step(t, m, tea.MouseClickMsg{Button: tea.MouseLeft, X: 10, Y: 3})
	if !m.detail {
		t.Fatal("second click did not open the alert")
	}
}

func TestHelpListsOnlyEnabledKeys(t *testing.T) {
	m := testModel(t, newMemBackend(), 160, 48)
	m = keys(t, m, "?")
	out := screen(m)
	if !strings.Contains(out, "acknowledge") || strings.Contains(out, "next tab") {
		t.Fatalf("list-mode help wrong:\n%s", out)
	}
	m = keys(t, m, "?", "enter", "?")
	out = screen(m)
	if !strings.Contains(out, "next tab") || strings.Contains(out, "sort by next column") {
		t.Fatalf("detail-mode help wrong:\n%s", out)
	}
	m = keys(t, m, "?", "a", "?")
	if regexp.MustCompile(`\ba +acknowledge\b`).MatchString(screen(m)) {
		t.Fatal("help lists acknowledge for an acknowledged alert")
	}
}

func TestQuit(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		m := testModel(t, newMemBackend(), 80, 24)
		_, cmd := m.Update(press(k))
		if cmd == nil {
			t.Fatalf("%s: no command", k)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Fatalf("%s did not quit", k)
		}
	}
	// In the filter prompt q is text, ctrl+c still quits.
	m := keys(t, testModel(t, newMemBackend(), 80, 24), "/", "q")
	if string(m.input) != "q" {
		t.Fatalf("q not typed: %q", string(m.input))
	}
}

// TestFeederBoundsAndBatches: what the feeder accepted reaches the program
// as one AlertsMsg of rows carrying the drop count, then the health.
func TestFeederBoundsAndBatches(t *testing.T) {
	f := NewFeeder(3)
	for i := range 5 {
		f.Push(mkAlert(spec{ID: fmt.Sprint(i), Sev: "low", Path: "/x"}))
	}
	if f.Dropped() != 2 {
		t.Fatalf("dropped %d, want 2", f.Dropped())
	}
	f.SetHealth(HealthMsg{Stats: Stats{Terms: 9}})
	got := make(chan tea.Msg, 4)
	ctx, cancel := contextWithCancel()
	defer cancel()
	go forward(ctx, f, time.Millisecond, func(m tea.Msg) { got <- m })
	a := (<-got).(AlertsMsg)
	if len(a.rows) != 3 || a.Alerts != nil || a.Dropped != 2 {
		t.Fatalf("batch %d dropped %d", len(a.rows), a.Dropped)
	}
	if h := (<-got).(HealthMsg); h.Stats.Terms != 9 {
		t.Fatal("health not forwarded")
	}
}

func TestArrayFieldsAreNotExceptionTargets(t *testing.T) {
	m := keys(t, testModel(t, newMemBackend(), 100, 30), "enter", "tab")
	for _, i := range focusable(m.dlines) {
		if m.dlines[i].field == "process.args" {
			t.Fatal("multi-valued process.args offered as an exception value")
		}
	}
	if len(focusable(m.dlines)) == 0 {
		t.Fatal("no focusable field on the Process tab")
	}
}

type longBundle struct{ *memBackend }

func (longBundle) Evidence(a detect.Alert) (respond.Bundle, error) {
	return respond.Bundle{Dir: "/var/lib/xferhunt/evidence/" + strings.Repeat("d", 64), Manifest: respond.Manifest{FileSHA: strings.Repeat("0", 56) + "feedbeef"}}, nil
}

// TestLongFlashNotCut: a bundle's path and hash are wider than the
// terminal; the flash wraps over the status bar instead of losing its end
// (issue 10: "the message with the hash is cut at the terminal width").
func TestLongFlashNotCut(t *testing.T) {
	m := New(Options{Backend: longBundle{newMemBackend()}, Location: time.UTC, Here: testHere})
	m, _ = step(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m, _ = step(t, m, AlertsMsg{Alerts: tableAlerts()})
	m = keys(t, m, "P")
	out := screen(m)
	if !strings.Contains(out, "feedbeef") || !strings.Contains(out, "evidence bundle") {
		t.Fatalf("flash cut:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if ansi.StringWidth(l) > 80 {
			t.Fatalf("line wider than the terminal: %q", l)
		}
	}
	if got := len(strings.Split(out, "\n")); got != 24 {
		t.Fatalf("%d lines, want 24", got)
	}
	m = keys(t, m, "j") // the next key puts the status bar back
	if strings.Contains(screen(m), "feedbeef") {
		t.Fatal("flash still shown after the next key")
	}
}
