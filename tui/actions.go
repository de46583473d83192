package tui

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/visible"
	"github.com/xferhunt/xferhunt/respond"
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
	case killPlanMsg:
		m.askKill(msg)
	case actionMsg:
		if msg.err != nil {
			m.setFlash(true, "%s refused: %v", msg.what, msg.err)
		} else {
			m.setFlash(false, "%s", msg.text)
		}
	case evidenceMsg:
		if msg.err != nil {
			m.setFlash(true, "evidence refused: %v", msg.err)
		} else {
			m.setFlash(false, "%s", msg.bundle.Summary())
		}
	case responsesMsg:
		if msg.err != nil {
			m.setFlash(true, "response log: %v", msg.err)
			return
		}
		m.responses = m.responses[:0]
		for i := len(msg.entries) - 1; i >= 0; i-- {
			m.responses = append(m.responses, visible.String(msg.entries[i].String()))
		}
		m.overlay = overlayLog
	case exportedMsg:
		if msg.err != nil {
			m.setFlash(true, "export: %v", msg.err)
		} else {
			m.setFlash(false, "exported %d alerts to %s", msg.n, msg.path)
		}
	}
}

// hostActionsOff says why the keys that change the host (K, P, Q) are off
// for alert r: --readonly, or the alert is not live on this host
// (internal/liveness decides). "" when they are on.
func (m *Model) hostActionsOff(r *alertdb.Row) string {
	if m.opt.ReadOnly {
		return respond.ErrReadOnly.Error()
	}
	if r == nil {
		return ""
	}
	return m.opt.Here.Check(r.Live())
}

// refusedHostKey answers K, P or Q (or f, the re-check) pressed while
// disabled with the reason, in one line: a missing key must not just do
// nothing.
func (m *Model) refusedHostKey(msg tea.KeyPressMsg, r *alertdb.Row) bool {
	k := m.keys.Alert
	if !k.Recheck.Enabled() && slices.Contains(k.Recheck.Keys(), msg.String()) {
		if why := m.opt.Here.Check(r.Live()); why != "" {
			m.setFlash(true, "%s refused: %s", k.Recheck.Help().Desc, why)
			return true
		}
	}
	for _, b := range []key.Binding{k.Kill, k.Evidence, k.Quarantine} {
		if b.Enabled() || !slices.Contains(b.Keys(), msg.String()) {
			continue
		}
		why := m.hostActionsOff(r)
		if why == "" {
			why = "this alert names no process or file for it"
		}
		m.setFlash(true, "%s refused: %s", b.Help().Desc, why)
		return true
	}
	return false
}

// askKill opens K's confirmation: what each choice would end, read from
// /proc by the plan; a choice that is refused says why instead.
func (m *Model) askKill(msg killPlanMsg) {
	if msg.err != nil {
		m.setFlash(true, "kill refused: %v", msg.err)
		return
	}
	p, b, a := msg.plan, m.opt.Backend, msg.alert
	if p.ProcessErr != "" && p.SessionErr != "" {
		m.setFlash(true, "kill refused: %s; session: %s", p.ProcessErr, p.SessionErr)
		return
	}
	// Copies of the bindings, not pointers into m: a pointer into the
	// model would move every Model value Update handles to the heap.
	kp, ks := bindingCopy(m.keys.Prompt.KillProcess), bindingCopy(m.keys.Prompt.KillSession)
	var body strings.Builder
	var choices []choice
	if p.ProcessErr == "" {
		fmt.Fprintf(&body, "p: end the transfer process %d %s (%s), proved the event's by its start time and executable.\n",
			p.Process.PID, visible.String(p.Process.Name), visible.String(p.Process.Exe))
		choices = append(choices, choice{kp, func() tea.Msg {
			text, err := b.Kill(a, p, false)
			return actionMsg{"kill", text, err}
		}})
	} else {
		fmt.Fprintf(&body, "process: %s\n", visible.String(p.ProcessErr))
	}
	if p.SessionErr == "" {
		fmt.Fprintf(&body, "s: end login session %s, these %d processes (SIGKILL, each re-checked):", visible.String(p.Ses), len(p.Session))
		for _, l := range strings.Split(strings.TrimRight(respond.Tree(p.Session), "\n"), "\n") {
			body.WriteString("\n" + visible.String(l))
		}
		choices = append(choices, choice{ks, func() tea.Msg {
			text, err := b.Kill(a, p, true)
			return actionMsg{"kill", text, err}
		}})
	} else {
		fmt.Fprintf(&body, "session: %s", visible.String(p.SessionErr))
	}
	m.flash = ""
	m.overlay = overlayConfirm
	m.ask = confirm{title: "Kill", body: body.String(), choices: choices}
}

// bindingCopy is a binding a dialog's choice can point at.
func bindingCopy(b key.Binding) *key.Binding { return &b }

// onAlertKey handles the actions on the selected alert.
func (m *Model) onAlertKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := m.keys.Alert
	r := m.selected()
	if r == nil {
		return nil, false
	}
	if m.refusedHostKey(msg, r) {
		return nil, true
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
		a := r.Alert()
		m.setFlash(false, "reading /proc for pid %d…", r.PID())
		return func() tea.Msg {
			plan, err := b.PlanKill(a)
			return killPlanMsg{a, plan, err}
		}, true
	case key.Matches(msg, k.Quarantine):
		a := r.Alert()
		m.overlay, m.askQuit = overlayConfirm, false
		m.ask = confirm{
			title: "Quarantine file",
			body: fmt.Sprintf("Take every permission off %s (chmod 000, after checking it is still the event's file)? It stays in place; root can still read it. Logged.",
				r.Path()),
			yes: func() tea.Msg {
				text, err := b.Quarantine(a)
				return actionMsg{"quarantine", text, err}
			},
		}
		return nil, true
	case key.Matches(msg, k.Story):
		return m.openStory(r), true
	case key.Matches(msg, k.Evidence):
		a := r.Alert()
		m.setFlash(false, "making the evidence bundle of %s…", r.Path())
		return func() tea.Msg {
			bun, err := b.Evidence(a)
			return evidenceMsg{bun, err}
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
// when set, builds the filter in the Cmd too (it comes from the backend).
func (m *Model) recompute(text string, pred alertdb.Matcher, compile func() (alertdb.Matcher, error)) tea.Cmd {
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

// matchFunc is m's predicate, nil for no filter.
func matchFunc(m alertdb.Matcher) func(ecs.Doc) bool {
	if m == nil {
		return nil
	}
	return m.Match
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
