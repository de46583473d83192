package tui

import (
	"slices"

	"charm.land/bubbles/v2/key"

	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/triage"
)

// onAlerts merges a batch, keeping the same alert selected. While the
// list is paused the batch is held and counted instead.
func (m *Model) onAlerts(msg AlertsMsg) {
	m.dropped = msg.Dropped
	batch := msg.rows
	if batch == nil {
		batch = buildRows(msg.Alerts)
	}
	if m.paused {
		if len(batch) > 0 {
			m.held = append(m.held, batch)
			m.heldN += len(batch)
		}
		return
	}
	m.mergeRows(batch)
}

// mergeRows adds rows to the store; the selected alert stays selected
// (unless the cursor is on the top row, which follows the newest).
func (m *Model) mergeRows(batch []*alertdb.Row) {
	// The story view acts on the alert it was opened for: a new alert on
	// top must not become the target of its keys.
	var keep *alertdb.Row
	if m.cursor > 0 || m.sv.open || m.detail {
		keep = m.selected()
	}
	m.st.Add(batch, m.statuses, m.sortMode, matchFunc(m.pred))
	if keep != nil {
		m.reselect(keep.Seq())
	}
}

// reselect moves the cursor to the row with arrival number seq, keeping the
// window still relative to it so new alerts don't scroll what is read.
func (m *Model) reselect(seq int) {
	if i := m.st.Position(seq); i >= 0 {
		m.offset += i - m.cursor
		m.cursor = i
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
	keep := m.selected()
	m.pred, m.filter = msg.pred, msg.text
	// Alerts that arrived while the Cmd ran were not in its snapshot.
	m.st.Show(msg.vis, msg.upto, matchFunc(m.pred), m.sortMode)
	// A new order keeps the selected alert selected, on the same screen
	// row; a filter that hides it starts at the top.
	if keep != nil && m.st.Position(keep.Seq()) >= 0 {
		m.reselect(keep.Seq())
		return
	}
	m.cursor, m.offset = 0, 0
}

// clamp keeps cursor and window inside the list.
func (m *Model) clamp() {
	n := m.st.Shown()
	rows := max(1, m.layout().listRows())
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
	r     *alertdb.Row
	tab   int
	width int
}

// refreshDetail rebuilds the detail lines only when the alert, tab or
// width changed (decoding and wrapping a document is the costly part of a
// frame), then keeps the focused field on screen.
func (m *Model) refreshDetail() {
	l := computeLayout(m.width, m.height, true)
	key := detailKey{m.selected(), m.tab, l.detail.w}
	rebuilt := key != m.dkey
	if rebuilt {
		m.dlines = m.detailLines()
		m.dkey = key
	}
	foc := focusable(m.dlines)
	m.field = min(max(m.field, 0), max(len(foc)-1, 0))
	m.drows = m.detailRows(l.detail.w)
	if m.find.query != "" && (rebuilt || m.find.matches == nil) {
		m.find.matches = findRows(m.drows, m.find.query)
		m.find.cur = min(m.find.cur, len(m.find.matches)-1)
	}
	h := max(1, l.detailRows())
	m.dtop = min(max(m.dtop, 0), max(len(m.drows)-h, 0))
	if len(foc) == 0 || m.dfree {
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
	st := m.sv.open
	list := !m.detail && !st
	detail := m.detail && !st
	for _, b := range []*key.Binding{&k.List.Up, &k.List.Down, &k.List.PageUp, &k.List.PageDown, &k.List.Top, &k.List.Bottom, &k.List.Open, &k.List.Sort, &k.List.SortReverse, &k.List.Pause} {
		b.SetEnabled(list)
	}
	if m.paused {
		k.List.Pause.SetHelp("p", "resume live updates")
	} else {
		k.List.Pause.SetHelp("p", "pause live updates")
	}
	k.List.Filter.SetEnabled(list)
	k.List.Export.SetEnabled(list && m.st.Shown() > 0)
	d := &k.Detail
	for _, b := range []*key.Binding{&d.Back, &d.NextTab, &d.PrevTab, &d.Up, &d.Down, &d.PageUp, &d.PageDown, &d.Top, &d.Bottom, &d.NextSection, &d.PrevSection, &d.Search} {
		b.SetEnabled(detail)
	}
	d.NextMatch.SetEnabled(detail && len(m.find.matches) > 0)
	d.PrevMatch.SetEnabled(detail && len(m.find.matches) > 0)
	has := r != nil
	k.Alert.Ack.SetEnabled(has && r.Status() == triage.StatusOpen)
	k.Alert.Close.SetEnabled(has && r.Status() != triage.StatusClosed)
	k.Alert.Reopen.SetEnabled(has && r.Status() != triage.StatusOpen)
	k.Alert.Copy.SetEnabled(has)
	k.Alert.CopyAll.SetEnabled(has)
	if _, ok := m.focusedLine(); ok && detail {
		k.Alert.Copy.SetHelp("y", "copy focused value")
	} else {
		k.Alert.Copy.SetHelp("y", "copy alert JSON (OSC 52)")
	}
	// On a field the alert adds (kibana.alert.*) an exception could never
	// match: x then says why instead of opening the editor, and its help
	// says so too.
	fl, focused := m.focusedLine()
	k.Alert.Exception.SetEnabled(has && detail && focused)
	if focused && addedByAlert(fl.field) {
		k.Alert.Exception.SetHelp("x", "exception: not on an alert field")
	} else {
		k.Alert.Exception.SetHelp("x", "add exception (from the field)")
	}
	// Host actions only for an alert live on this host, never --readonly;
	// the re-check reads only, so --readonly allows it.
	act := has && m.hostActionsOff(r) == ""
	k.Alert.Kill.SetEnabled(act && r.PID() > 1)
	k.Alert.Evidence.SetEnabled(act && r.Path() != "")
	k.Alert.Quarantine.SetEnabled(act && r.Path() != "")
	k.Alert.Recheck.SetEnabled(has && r.Path() != "" && m.opt.Here.Check(r.Live()) == "")
	k.List.Exceptions.SetEnabled(list)
	ek := &k.Exception
	editor, exList := m.overlay == overlayException, m.overlay == overlayExceptions
	for _, b := range []*key.Binding{&ek.Change, &ek.ChangeBk, &ek.AddEntry, &ek.DelEntry, &ek.Toggle, &ek.Save} {
		b.SetEnabled(editor)
	}
	for _, b := range []*key.Binding{&ek.Edit, &ek.Delete, &ek.Export} {
		b.SetEnabled(exList)
	}
	for _, b := range []*key.Binding{&ek.Up, &ek.Down, &ek.Cancel} {
		b.SetEnabled(editor || exList)
	}
	k.Alert.Story.SetEnabled(has && !st)
	// From the detail view t pivots to the focused field's story: say so.
	desc := "tell the story"
	if l, ok := m.focusedLine(); ok && detail {
		if kind, ok := pivotKind(l.field); ok {
			desc = "story of this " + kind.String()
		}
	}
	k.Alert.Story.SetHelp("t", desc)
	sk := &k.Story
	for _, b := range []*key.Binding{&sk.Back, &sk.Up, &sk.Down, &sk.PageUp, &sk.PageDown, &sk.Top, &sk.Bottom, &sk.Search, &sk.Wrap} {
		b.SetEnabled(st)
	}
	scopes := st && m.sv.origin != nil && (m.sv.origin.scopeCount() > 1 || m.sv.pivot != "" && m.sv.origin.scopeCount() > 0)
	sk.NextScope.SetEnabled(scopes)
	sk.PrevScope.SetEnabled(scopes)
	if m.sv.cut {
		sk.Wrap.SetHelp("w", "wrap long lines")
	} else {
		sk.Wrap.SetHelp("w", "cut long lines")
	}
	sk.NextMatch.SetEnabled(st && len(m.sv.matches) > 0)
	sk.PrevMatch.SetEnabled(st && len(m.sv.matches) > 0)
}
