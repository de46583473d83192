package tui

import (
	"fmt"
	"github.com/xferhunt/xferhunt/ecs"
	"path/filepath"
	"slices"
	"sync/atomic"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/xferhunt/xferhunt/detect"
)

func (m *Model) setFlash(err bool, format string, a ...any) {
	m.flash, m.flashErr = fmt.Sprintf(format, a...), err
}

// onAlerts merges a batch, keeping the same alert selected.
func (m *Model) onAlerts(msg AlertsMsg) {
	m.dropped = msg.Dropped
	var keep *row
	if m.cursor > 0 {
		keep = m.selected()
	}
	batch := msg.rows
	if batch == nil {
		batch = buildRows(msg.Alerts)
	}
	m.st.add(batch, m.statuses, m.sortMode, m.pred)
	if keep != nil {
		m.reselect(keep.seq)
	}
}

// reselect moves the cursor to the row with arrival number seq, keeping the
// window still relative to it so new alerts don't scroll what is read.
func (m *Model) reselect(seq int) {
	for i, idx := range m.st.vis {
		if m.st.rows[idx].seq == seq {
			m.offset += i - m.cursor
			m.cursor = i
			return
		}
	}
}

// onFilterResult installs a filter/sort computed by recompute, unless a
// newer request superseded it.
func (m *Model) onFilterResult(msg filterResultMsg) {
	if msg.gen != m.gen {
		return
	}
	m.pending = false
	if msg.err != nil {
		m.inputErr = msg.err.Error()
		m.overlay = overlayFilter
		return
	}
	m.pred, m.filter = msg.pred, msg.text
	m.st.vis = msg.vis
	// Alerts that arrived while the Cmd ran were not in its snapshot.
	var late []int32
	for i := msg.upto; i < len(m.st.rows); i++ {
		if m.pred == nil || m.pred(m.st.rows[i].doc()) {
			late = append(late, int32(i))
		}
	}
	m.st.merge(late, m.sortMode)
	m.cursor, m.offset = 0, 0
}

func (m *Model) onResult(msg tea.Msg) {
	switch msg := msg.(type) {
	case statusSavedMsg:
		if msg.err != nil {
			m.setFlash(true, "saving status: %v", msg.err)
		}
	case exceptionPreviewMsg:
		m.overlay = overlayConfirm
		f, v := msg.field, msg.value
		b := m.opt.Backend
		m.ask = confirm{
			title: "Add exception",
			body: fmt.Sprintf("%s : %q\nwould have suppressed %d of %d alerts held now. Future matching events raise no alert.",
				Sanitize(f), Sanitize(v), msg.matches, len(m.st.rows)),
			yes: func() tea.Msg { return exceptionAddedMsg{f, v, b.AddException(f, v)} },
		}
	case exceptionAddedMsg:
		if msg.err != nil {
			m.setFlash(true, "exception not saved: %v", msg.err)
		} else {
			m.setFlash(false, "exception saved: %s : %s", msg.field, msg.value)
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

// onKey routes a key: quit, then the overlay that has focus, then the
// detail pane or the list.
func (m Model) onKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys
	if m.overlay != overlayFilter {
		m.flash = ""
	}
	if msg.String() == "ctrl+c" {
		return m, tea.Quit
	}
	switch m.overlay {
	case overlayFilter:
		return m.onFilterKey(msg)
	case overlayConfirm:
		switch {
		case key.Matches(msg, k.Prompt.Confirm):
			m.overlay = overlayNone
			return m, m.ask.yes
		case key.Matches(msg, k.Prompt.Deny):
			m.overlay = overlayNone
			m.setFlash(false, "cancelled")
		}
		return m, nil
	case overlayHelp:
		if key.Matches(msg, k.Global.Help) || msg.String() == "esc" {
			m.overlay = overlayNone
		} else if key.Matches(msg, k.Global.Quit) {
			return m, tea.Quit
		}
		return m, nil
	}
	switch {
	case key.Matches(msg, k.Global.Quit):
		return m, tea.Quit
	case key.Matches(msg, k.Global.Help):
		m.overlay = overlayHelp
		return m, nil
	}
	if cmd, ok := m.onAlertKey(msg); ok {
		return m, cmd
	}
	if m.detail {
		return m.onDetailKey(msg), nil
	}
	return m.onListKey(msg)
}

func (m Model) onListKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys.List
	page := max(1, computeLayout(m.width, m.height, m.detail).listRows())
	switch {
	case key.Matches(msg, k.Up):
		m.cursor--
	case key.Matches(msg, k.Down):
		m.cursor++
	case key.Matches(msg, k.PageUp):
		m.cursor -= page
		m.offset -= page
	case key.Matches(msg, k.PageDown):
		m.cursor += page
		m.offset += page
	case key.Matches(msg, k.Top):
		m.cursor = 0
	case key.Matches(msg, k.Bottom):
		m.cursor = len(m.st.vis) - 1
	case key.Matches(msg, k.Open):
		m.detail, m.tab, m.field, m.dtop = true, tabOverview, 0, 0
	case key.Matches(msg, k.Filter):
		m.overlay, m.input, m.inputErr = overlayFilter, []rune(m.filter), ""
	case key.Matches(msg, k.Sort):
		m.sortMode = (m.sortMode + 1) % sortModes
		return m, m.recompute(m.filter, m.pred, nil)
	case key.Matches(msg, k.Export):
		return m, m.exportCmd()
	}
	return m, nil
}

func (m Model) onDetailKey(msg tea.KeyPressMsg) Model {
	k := m.keys.Detail
	nfoc := len(focusable(m.dlines))
	switch {
	case key.Matches(msg, k.Back):
		m.detail = false
	case key.Matches(msg, k.NextTab):
		m.tab, m.field, m.dtop = (m.tab+1)%len(tabNames), 0, 0
	case key.Matches(msg, k.PrevTab):
		m.tab, m.field, m.dtop = (m.tab+len(tabNames)-1)%len(tabNames), 0, 0
	case key.Matches(msg, k.Up):
		if nfoc > 0 {
			m.field--
		} else {
			m.dtop--
		}
	case key.Matches(msg, k.Down):
		if nfoc > 0 {
			m.field++
		} else {
			m.dtop++
		}
	}
	return m
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
		return m.setStatus(r, StatusAcknowledged), true
	case key.Matches(msg, k.Close):
		return m.setStatus(r, StatusClosed), true
	case key.Matches(msg, k.Reopen):
		return m.setStatus(r, StatusOpen), true
	case key.Matches(msg, k.Copy):
		js, err := inflate(r.blob)
		if err != nil {
			m.setFlash(true, "copy: %v", err)
			return nil, true
		}
		m.setFlash(false, "copied alert JSON (%d bytes) to the clipboard via OSC 52", len(js))
		return tea.SetClipboard(string(js)), true
	case key.Matches(msg, k.Exception):
		foc := focusable(m.dlines)
		if m.field < 0 || m.field >= len(foc) {
			m.setFlash(true, "focus a field first (↑/↓)")
			return nil, true
		}
		l := m.dlines[foc[m.field]]
		rows := slices.Clone(m.st.rows)
		f, v := l.field, l.value
		return func() tea.Msg {
			var n atomic.Int64
			parallelRows(rows, func(_ int, d ecs.Doc) {
				if slices.Contains(d.Keywords(f), v) {
					n.Add(1)
				}
			})
			return exceptionPreviewMsg{f, v, int(n.Load())}
		}, true
	case key.Matches(msg, k.Kill):
		pid := r.pid
		if pid <= 1 {
			m.setFlash(true, "this alert has no killable process id")
			return nil, true
		}
		m.overlay = overlayConfirm
		m.ask = confirm{
			title: "Kill process",
			body:  fmt.Sprintf("Send SIGKILL to pid %d (%s)? It may already have exited or the pid been reused.", pid, r.process),
			yes:   func() tea.Msg { return killedMsg{pid, b.Kill(pid)} },
		}
		return nil, true
	case key.Matches(msg, k.Evidence):
		a := r.alert()
		m.setFlash(false, "preserving %s…", r.path)
		return func() tea.Msg {
			dest, sum, err := b.PreserveEvidence(a)
			return evidenceMsg{dest, sum, err}
		}, true
	}
	return nil, false
}

func (m *Model) setStatus(r *row, st Status) tea.Cmd {
	if !m.st.setStatus(r.uuid, st) {
		return nil
	}
	m.statuses[r.uuid] = st
	b, id := m.opt.Backend, r.uuid
	return func() tea.Msg { return statusSavedMsg{id, st.String(), b.SetStatus(id, st.String())} }
}

func (m Model) onFilterKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys.Prompt
	switch {
	case key.Matches(msg, k.Apply):
		text := string(m.input)
		m.overlay = overlayNone
		if text == "" {
			return m, m.recompute("", nil, nil)
		}
		b := m.opt.Backend
		return m, m.recompute(text, nil, func() (func(ecs.Doc) bool, error) { return b.Compile(text) })
	case key.Matches(msg, k.Cancel):
		m.overlay, m.inputErr = overlayNone, ""
	case msg.String() == "backspace":
		if len(m.input) > 0 {
			m.input = m.input[:len(m.input)-1]
		}
	case msg.String() == "ctrl+u":
		m.input = nil
	case msg.Text != "":
		m.input = append(m.input, []rune(msg.Text)...)
	}
	return m, nil
}

// recompute filters and sorts in a Cmd over a snapshot of the rows. compile,
// when set, builds the predicate in the Cmd too (it comes from the backend).
func (m *Model) recompute(text string, pred func(ecs.Doc) bool, compile func() (func(ecs.Doc) bool, error)) tea.Cmd {
	m.gen++
	m.pending = true
	gen, mode := m.gen, m.sortMode
	rows := slices.Clone(m.st.rows)
	return func() tea.Msg {
		if compile != nil {
			p, err := compile()
			if err != nil {
				return filterResultMsg{gen: gen, err: fmt.Errorf("filter: %w", err)}
			}
			pred = p
		}
		return filterResultMsg{gen: gen, text: text, pred: pred, vis: computeView(rows, pred, mode), upto: len(rows)}
	}
}

func (m *Model) exportCmd() tea.Cmd {
	rows := make([]*row, len(m.st.vis))
	for i, idx := range m.st.vis {
		rows[i] = m.st.rows[idx]
	}
	path := filepath.Join(m.opt.ExportDir, "xferhunt-alerts-"+m.opt.Now().UTC().Format("20060102T150405Z")+".ndjson")
	b := m.opt.Backend
	m.setFlash(false, "exporting %d alerts…", len(rows))
	return func() tea.Msg {
		alerts := make([]detect.Alert, len(rows))
		for i, r := range rows {
			alerts[i] = r.alert()
		}
		return exportedMsg{path, len(alerts), b.Export(path, alerts)}
	}
}

// clamp keeps cursor and window inside the list.
func (m *Model) clamp() {
	n := len(m.st.vis)
	rows := max(1, computeLayout(m.width, m.height, m.detail).listRows())
	m.cursor = min(max(m.cursor, 0), max(n-1, 0))
	m.offset = min(max(m.offset, 0), max(n-rows, 0))
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+rows {
		m.offset = m.cursor - rows + 1
	}
}

// detailKey identifies what the detail lines were built from. Rows are
// immutable, so the pointer changes whenever the alert does.
type detailKey struct {
	r     *row
	tab   int
	width int
}

// refreshDetail rebuilds the detail lines only when the alert, tab or
// width changed (decoding and wrapping a document is the costly part of a
// frame), then keeps the focused field on screen.
func (m *Model) refreshDetail() {
	l := computeLayout(m.width, m.height, true)
	key := detailKey{m.selected(), m.tab, l.detail.w}
	if key != m.dkey {
		m.dlines = m.detailLines()
		m.dkey = key
	}
	foc := focusable(m.dlines)
	m.field = min(max(m.field, 0), max(len(foc)-1, 0))
	m.drows = m.detailRows(l.detail.w)
	h := max(1, l.detail.h-1)
	m.dtop = min(max(m.dtop, 0), max(len(m.drows)-h, 0))
	if len(foc) == 0 {
		return
	}
	at := slices.IndexFunc(m.drows, func(r drow) bool { return r.focused })
	if at < 0 {
		return
	}
	if at < m.dtop {
		m.dtop = at
	}
	if at >= m.dtop+h {
		m.dtop = at - h + 1
	}
}

// syncKeys enables only the bindings that do something in the current
// state, so help and hints never advertise a dead key.
func (m *Model) syncKeys() {
	k := &m.keys
	r := m.selected()
	list := !m.detail
	for _, b := range []*key.Binding{&k.List.Up, &k.List.Down, &k.List.PageUp, &k.List.PageDown, &k.List.Top, &k.List.Bottom, &k.List.Open, &k.List.Sort} {
		b.SetEnabled(list)
	}
	k.List.Filter.SetEnabled(list)
	k.List.Export.SetEnabled(list && len(m.st.vis) > 0)
	for _, b := range []*key.Binding{&k.Detail.Back, &k.Detail.NextTab, &k.Detail.PrevTab, &k.Detail.Up, &k.Detail.Down} {
		b.SetEnabled(m.detail)
	}
	has := r != nil
	k.Alert.Ack.SetEnabled(has && r.status == StatusOpen)
	k.Alert.Close.SetEnabled(has && r.status != StatusClosed)
	k.Alert.Reopen.SetEnabled(has && r.status != StatusOpen)
	k.Alert.Copy.SetEnabled(has)
	k.Alert.Exception.SetEnabled(has && m.detail && len(focusable(m.dlines)) > 0)
	k.Alert.Kill.SetEnabled(has && r.pid > 1)
	k.Alert.Evidence.SetEnabled(has && r.path != "")
}

// onWheel scrolls the pane under the pointer.
func (m *Model) onWheel(msg tea.MouseWheelMsg) {
	l := computeLayout(m.width, m.height, m.detail)
	mm := msg.Mouse()
	delta := 0
	switch mm.Button {
	case tea.MouseWheelUp:
		delta = -3
	case tea.MouseWheelDown:
		delta = 3
	default:
		return
	}
	if m.detail && inside(l.detail, mm.X, mm.Y) {
		m.dtop += delta
		return
	}
	m.cursor += delta
}

// onClick selects a row (a second click opens it) or switches tab.
func (m *Model) onClick(msg tea.MouseClickMsg) {
	mm := msg.Mouse()
	if mm.Button != tea.MouseLeft || m.overlay != overlayNone {
		return
	}
	l := computeLayout(m.width, m.height, m.detail)
	if inside(l.list, mm.X, mm.Y) && mm.Y > l.list.y {
		i := m.offset + mm.Y - l.list.y - 1
		if i < len(m.st.vis) {
			if i == m.cursor && !m.detail {
				m.detail, m.tab, m.field, m.dtop = true, tabOverview, 0, 0
			}
			m.cursor = i
		}
		return
	}
	if m.detail && mm.Y == l.detail.y {
		x := l.detail.x
		for i, t := range tabNames {
			w := len(t) + 3
			if mm.X >= x && mm.X < x+w {
				m.tab, m.field, m.dtop = i, 0, 0
				return
			}
			x += w
		}
	}
}

func inside(r rect, x, y int) bool {
	return x >= r.x && x < r.x+r.w && y >= r.y && y < r.y+r.h
}
