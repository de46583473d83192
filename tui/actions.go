package tui

import (
	"fmt"
	"path/filepath"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/triage"
)

// setFlash shows a one-line message in the footer until the next key.
func (m *Model) setFlash(err bool, format string, a ...any) {
	m.flash, m.flashErr = fmt.Sprintf(format, a...), err
}

// onResult shows what a backend Cmd reported.
func (m *Model) onResult(msg tea.Msg) {
	switch msg := msg.(type) {
	case statusSavedMsg:
		if msg.err != nil {
			m.setFlash(true, "saving status: %v", msg.err)
		}
	case killedMsg:
		if msg.err != nil {
			m.setFlash(true, "kill %d: %v", msg.pid, msg.err)
		} else {
			m.setFlash(false, "killed pid %d", msg.pid)
		}
	case evidenceMsg:
		if msg.err != nil {
			m.setFlash(true, "preserve: %v", msg.err)
		} else {
			m.setFlash(false, "preserved %s sha256 %s", msg.dest, msg.sha256)
		}
	case exportedMsg:
		if msg.err != nil {
			m.setFlash(true, "export: %v", msg.err)
		} else {
			m.setFlash(false, "exported %d alerts to %s", msg.n, msg.path)
		}
	}
}

// onAlertKey handles the actions on the selected alert.
func (m *Model) onAlertKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := m.keys.Alert
	r := m.selected()
	if r == nil {
		return nil, false
	}
	b := m.opt.Backend
	switch {
	case key.Matches(msg, k.Ack):
		return m.setStatus(r, triage.StatusAcknowledged), true
	case key.Matches(msg, k.Close):
		return m.setStatus(r, triage.StatusClosed), true
	case key.Matches(msg, k.Reopen):
		return m.setStatus(r, triage.StatusOpen), true
	case key.Matches(msg, k.Copy):
		if l, ok := m.focusedLine(); ok && m.detail {
			m.setFlash(false, "copied %s (%d bytes) to the clipboard via OSC 52", l.field, len(l.value))
			return tea.SetClipboard(l.value), true
		}
		return m.copyAll(r), true
	case key.Matches(msg, k.CopyAll):
		return m.copyAll(r), true
	case key.Matches(msg, k.Exception):
		return m.openExceptionEditor(r), true
	case key.Matches(msg, k.Recheck):
		return m.recheckCmd(r), true
	case key.Matches(msg, k.Kill):
		pid := r.PID()
		if pid <= 1 {
			m.setFlash(true, "this alert has no killable process id")
			return nil, true
		}
		m.overlay, m.askQuit = overlayConfirm, false
		m.ask = confirm{
			title: "Kill process",
			body:  fmt.Sprintf("Send SIGKILL to pid %d (%s)? It may already have exited or the pid been reused.", pid, r.Process()),
			yes:   func() tea.Msg { return killedMsg{pid, b.Kill(pid)} },
		}
		return nil, true
	case key.Matches(msg, k.Story):
		return m.openStory(r), true
	case key.Matches(msg, k.Evidence):
		a := r.Alert()
		m.setFlash(false, "preserving %s…", r.Path())
		return func() tea.Msg {
			dest, sum, err := b.PreserveEvidence(a)
			return evidenceMsg{dest, sum, err}
		}, true
	}
	return nil, false
}

// setStatus changes the workflow status now and persists it in a Cmd.
func (m *Model) setStatus(r *alertdb.Row, st triage.Status) tea.Cmd {
	if !m.st.SetStatus(r.UUID(), st) {
		return nil
	}
	m.statuses[r.UUID()] = st
	m.unsaved++
	m.triaged = true
	b, id := m.opt.Backend, r.UUID()
	return func() tea.Msg { return statusSavedMsg{id, st.String(), b.SetStatus(id, st)} }
}

// recompute filters and sorts in a Cmd over a snapshot of the rows. compile,
// when set, builds the predicate in the Cmd too (it comes from the backend).
func (m *Model) recompute(text string, pred func(ecs.Doc) bool, compile func() (func(ecs.Doc) bool, error)) tea.Cmd {
	m.gen++
	m.pending = true
	gen, mode := m.gen, m.sortMode
	rows := m.st.Snapshot()
	return func() tea.Msg {
		if compile != nil {
			p, err := compile()
			if err != nil {
				return filterResultMsg{gen: gen, err: fmt.Errorf("filter: %w", err)}
			}
			pred = p
		}
		return filterResultMsg{gen: gen, text: text, pred: pred, vis: alertdb.Filter(rows, text, pred, mode), upto: len(rows)}
	}
}

// exportCmd writes the visible alerts, in display order, through the backend.
func (m *Model) exportCmd() tea.Cmd {
	rows := m.st.ShownRows()
	path := filepath.Join(m.opt.ExportDir, "xferhunt-alerts-"+m.opt.Now().UTC().Format("20060102T150405Z")+".ndjson")
	b := m.opt.Backend
	m.setFlash(false, "exporting %d alerts…", len(rows))
	return func() tea.Msg {
		alerts := make([]detect.Alert, len(rows))
		for i, r := range rows {
			alerts[i] = r.Alert()
		}
		return exportedMsg{path, len(alerts), b.Export(path, alerts)}
	}
}

// copyAll copies the whole alert document.
func (m *Model) copyAll(r *alertdb.Row) tea.Cmd {
	js, err := r.JSON()
	if err != nil {
		m.setFlash(true, "copy: %v", err)
		return nil
	}
	m.setFlash(false, "copied alert JSON (%d bytes) to the clipboard via OSC 52", len(js))
	return tea.SetClipboard(string(js))
}
