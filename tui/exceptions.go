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
	"github.com/xferhunt/xferhunt/detect/exceptions"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/enrich"
	"github.com/xferhunt/xferhunt/internal/visible"
	"github.com/xferhunt/xferhunt/triage"
)

// excOp is one operator of Kibana's exception builder: its label and the
// entry type and operator it writes.
type excOp struct {
	label, typ, operator string
}

// excOps are Kibana's operators in its builder's order.
var excOps = []excOp{
	{"is", exceptions.TypeMatch, exceptions.OperatorIncluded},
	{"is not", exceptions.TypeMatch, exceptions.OperatorExcluded},
	{"is one of", exceptions.TypeMatchAny, exceptions.OperatorIncluded},
	{"is not one of", exceptions.TypeMatchAny, exceptions.OperatorExcluded},
	{"matches", exceptions.TypeWildcard, exceptions.OperatorIncluded},
	{"does not match", exceptions.TypeWildcard, exceptions.OperatorExcluded},
	{"exists", exceptions.TypeExists, exceptions.OperatorIncluded},
	{"does not exist", exceptions.TypeExists, exceptions.OperatorExcluded},
}

// alertOnlyPrefixes and alertOnlyFields name what the alert adds to its
// event: the alert's own fields (kibana.alert.*, the rule, MITRE, the
// explanation) and the facts the enricher takes at alert time. Exceptions
// are evaluated on events, before any of these exist, so an exception on
// one of them never matches: the editor refuses them, as Kibana's builder
// offers only the source index's fields.
var (
	alertOnlyPrefixes = []string{"kibana.", "threat.", "xferhunt.explain.", "xferhunt.process.", "xferhunt.connection.", "xferhunt.responder.", "xferhunt.file.hash."}
	alertOnlyFields   = append([]string{"@timestamp", "event.kind", "threat", "xferhunt.historical", "xferhunt.loss", "xferhunt.event_time", "xferhunt.tui_error",
		enrich.FileFactsState, enrich.FileFactsAt}, enrich.FileFactFields...)
)

// addedByAlert reports whether field is one the alert adds to every
// event (no document needed: cheap enough for syncKeys).
func addedByAlert(field string) bool {
	for _, p := range alertOnlyPrefixes {
		if strings.HasPrefix(field, p) {
			return true
		}
	}
	return slices.Contains(alertOnlyFields, field)
}

// alertOnly says why field is not an event field of d ("" when it is).
func alertOnly(d ecs.Doc, field string) string {
	if addedByAlert(field) {
		return field + " is added to the alert, not in the event: an exception on it would never match"
	}
	if (field == "source.ip" || field == "source.port") && d.Str("xferhunt.connection.attributed_by") != "" {
		return field + " was filled from /proc when the alert was raised, not in the event: an exception on it would never match"
	}
	return ""
}

// eventFields are the fields of d an exception can test, sorted.
func eventFields(d ecs.Doc) []string {
	var out []string
	for _, f := range d.Leaves() {
		if alertOnly(d, f) == "" {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// excEntry is one entry being edited.
type excEntry struct {
	field string
	op    int // index in excOps
	value string
}

// excEditor is the state of the exception editor overlay.
type excEditor struct {
	// orig is the saved item being edited (its id, list and the fields
	// xferhunt keeps for Kibana); nil for a new one.
	orig    *exceptions.Item
	entries []excEntry
	// focus is the focused line: 3 per entry (field, operator, value),
	// then the close-matching option.
	focus     int
	closeOpen bool
	fields    []string // the alert's event fields, to cycle through
	doc       ecs.Doc  // the alert the editor was opened on

	gen                   int
	previewN, previewOpen int
	previewTotal          int
	previewErr            string
	previewing            bool
}

// excList is the state of the list-of-exceptions overlay.
type excList struct {
	// open says the list is shown, also under a confirmation asked from it.
	open          bool
	saved, loaded []exceptions.Item
	cur           int
	loading       bool
}

// underConfirm is the overlay a confirmation returns to.
func (m *Model) underConfirm() overlay {
	if m.exl.open {
		return overlayExceptions
	}
	return overlayNone
}

// Result messages of the exception Cmds.
type (
	excPreviewMsg struct {
		gen          int
		n, open, all int
	}
	excSavedMsg struct {
		name      string
		closed    []string // uuids of the open alerts the exception closes
		ephemeral bool
		err       error
	}
	excListMsg struct {
		saved, loaded []exceptions.Item
	}
	excDeletedMsg struct {
		name string
		err  error
	}
	excExportedMsg struct {
		path string
		n    int
		err  error
	}
	recheckedMsg struct {
		alert detect.Alert
		err   error
	}
)

// openExceptionEditor starts the editor on the focused detail field.
func (m *Model) openExceptionEditor(r *alertdb.Row) tea.Cmd {
	l, ok := m.focusedLine()
	if !ok {
		m.setFlash(true, "focus a field first (%s/%s)", m.keys.Detail.Up.Help().Key, m.keys.Detail.Down.Help().Key)
		return nil
	}
	d := r.Doc()
	if why := alertOnly(d, l.field); why != "" {
		m.setFlash(true, "%s; choose an event field", why)
		return nil
	}
	m.ex = excEditor{entries: []excEntry{{field: l.field, value: l.value}}, fields: eventFields(d), doc: d, focus: 2}
	m.overlay = overlayException
	return m.previewCmd()
}

// editException opens the editor on a saved item.
func (m *Model) editException(it exceptions.Item) tea.Cmd {
	var es []excEntry
	for _, e := range it.Entries {
		op := -1
		for i, o := range excOps {
			if o.typ == e.Type && o.operator == e.Operator {
				op = i
			}
		}
		if op < 0 {
			m.setFlash(true, "exception %q has a %s entry: edit it in Kibana", visible.String(it.Name), e.Type)
			return nil
		}
		v, _ := e.ValueText()
		es = append(es, excEntry{field: e.Field, op: op, value: v})
	}
	orig := it
	var d ecs.Doc
	if r := m.selected(); r != nil {
		d = r.Doc()
	}
	m.ex = excEditor{orig: &orig, entries: es, fields: eventFields(d), doc: d}
	m.overlay = overlayException
	return m.previewCmd()
}

// item builds the exception the editor describes.
func (e *excEditor) item() (exceptions.Item, error) {
	var it exceptions.Item
	if e.orig != nil {
		it = *e.orig
	} else {
		it = exceptions.NewItemFromField("x", "x")
		it.Description = "Added in xferhunt from an alert"
	}
	it.Entries = nil
	var names []string
	for i, en := range e.entries {
		f := strings.TrimSpace(en.field)
		if f == "" {
			return it, fmt.Errorf("entry %d has no field", i+1)
		}
		if why := alertOnly(e.doc, f); why != "" {
			return it, fmt.Errorf("entry %d: %s", i+1, why)
		}
		op := excOps[en.op]
		ent := exceptions.Entry{Field: f, Type: op.typ, Operator: op.operator}
		desc := f + " " + op.label
		switch op.typ {
		case exceptions.TypeMatch, exceptions.TypeWildcard:
			if en.value == "" {
				return it, fmt.Errorf("entry %d (%s) needs a value", i+1, f)
			}
			ent.Value = en.value
			desc += " " + en.value
		case exceptions.TypeMatchAny:
			var vs []string
			for _, v := range strings.Split(en.value, ",") {
				if v = strings.TrimSpace(v); v != "" {
					vs = append(vs, v)
				}
			}
			if len(vs) == 0 {
				return it, fmt.Errorf("entry %d (%s) needs values, separated by commas", i+1, f)
			}
			ent.Value = vs
			desc += " " + strings.Join(vs, ", ")
		}
		it.Entries = append(it.Entries, ent)
		names = append(names, desc)
	}
	if e.orig == nil || e.orig.Name == "" || strings.HasPrefix(e.orig.Description, "Added in xferhunt") {
		it.Name = strings.Join(names, " and ")
	}
	return it, nil
}

// fieldsOf lists the fields an item reads.
func fieldsOf(it exceptions.Item) []string {
	var out []string
	for _, e := range it.Entries {
		out = append(out, e.Field)
	}
	return out
}

// previewCmd counts, in a Cmd over a snapshot, the alerts held now that
// the edited exception would have excepted, and the open ones among them.
func (m *Model) previewCmd() tea.Cmd {
	m.ex.gen++
	it, err := m.ex.item()
	if err != nil {
		m.ex.previewErr, m.ex.previewing = err.Error(), false
		return nil
	}
	m.ex.previewErr, m.ex.previewing = "", true
	gen, rows := m.ex.gen, m.st.Snapshot()
	return func() tea.Msg {
		idx := alertdb.Matching(rows, fieldsOf(it), it.Excepts)
		open := 0
		for _, i := range idx {
			if rows[i].Status() == triage.StatusOpen {
				open++
			}
		}
		return excPreviewMsg{gen: gen, n: len(idx), open: open, all: len(rows)}
	}
}

// saveCmd saves the edited exception through the backend and, when asked,
// finds the open alerts it matches so Update can close them.
func (m *Model) saveCmd() tea.Cmd {
	it, err := m.ex.item()
	if err != nil {
		m.ex.previewErr = err.Error()
		return nil
	}
	m.overlay = overlayNone
	b, rows, closeOpen := m.opt.Backend, m.st.Snapshot(), m.ex.closeOpen
	m.setFlash(false, "saving exception…")
	return func() tea.Msg {
		if err := b.SaveException(it); err != nil {
			return excSavedMsg{name: it.Name, err: err}
		}
		msg := excSavedMsg{name: it.Name, ephemeral: b.Ephemeral()}
		if closeOpen {
			for _, i := range alertdb.Matching(rows, fieldsOf(it), it.Excepts) {
				if rows[i].Status() == triage.StatusOpen {
					msg.closed = append(msg.closed, rows[i].UUID())
				}
			}
		}
		return msg
	}
}

// openExceptionList shows the exceptions, read through the backend.
func (m *Model) openExceptionList() tea.Cmd {
	m.overlay = overlayExceptions
	m.exl = excList{open: true, loading: true, cur: m.exl.cur}
	b := m.opt.Backend
	return func() tea.Msg {
		s, l := b.Exceptions()
		return excListMsg{s, l}
	}
}

// onExceptionResult handles the exception Cmds' results.
func (m *Model) onExceptionResult(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case excPreviewMsg:
		if msg.gen == m.ex.gen {
			m.ex.previewing = false
			m.ex.previewN, m.ex.previewOpen, m.ex.previewTotal = msg.n, msg.open, msg.all
		}
	case excSavedMsg:
		if msg.err != nil {
			m.setFlash(true, "exception not saved: %v", msg.err)
			return nil
		}
		var cmds []tea.Cmd
		for _, id := range msg.closed {
			if r := m.st.Row(id); r != nil {
				cmds = append(cmds, m.setStatus(r, triage.StatusClosed))
			}
		}
		where := "saved in the state directory"
		if msg.ephemeral {
			where = "for this run only (--ephemeral: nothing is kept after exit; X then E exports it)"
		}
		closed := ""
		if len(msg.closed) > 0 {
			closed = fmt.Sprintf("; closed %d open alerts", len(msg.closed))
		}
		m.setFlash(false, "exception %s%s: %s", where, closed, msg.name)
		if m.overlay == overlayExceptions {
			cmds = append(cmds, m.openExceptionList())
		}
		return tea.Batch(cmds...)
	case excListMsg:
		m.exl.saved, m.exl.loaded, m.exl.loading = msg.saved, msg.loaded, false
	case excDeletedMsg:
		if msg.err != nil {
			m.setFlash(true, "exception not deleted: %v", msg.err)
		} else {
			m.setFlash(false, "exception deleted: %s", msg.name)
		}
		if m.overlay == overlayExceptions {
			return m.openExceptionList()
		}
	case excExportedMsg:
		if msg.err != nil {
			m.setFlash(true, "export exceptions: %v", msg.err)
		} else {
			m.setFlash(false, "exported %d exceptions (Kibana exception-list NDJSON) to %s", msg.n, msg.path)
		}
	case recheckedMsg:
		if msg.err != nil {
			m.setFlash(true, "re-check: %v", msg.err)
			return nil
		}
		m.onAlerts(AlertsMsg{Alerts: []detect.Alert{msg.alert}, Dropped: m.dropped})
		d := msg.alert.Doc
		m.setFlash(false, "re-checked: facts %s, size %s, type %s", d.Str(enrich.FileFactsState), ecs.Display(d.Get(enrich.FileSize)), d.Str(enrich.FileType))
	}
	return nil
}

// recheckCmd takes the selected alert's file facts again in a Cmd.
func (m *Model) recheckCmd(r *alertdb.Row) tea.Cmd {
	a, b := r.Alert(), m.opt.Backend
	m.setFlash(false, "re-checking %s…", r.Path())
	return func() tea.Msg {
		upd, err := b.RecheckFile(a)
		return recheckedMsg{upd, err}
	}
}

// entryLines is the number of focusable lines of one entry.
const entryLines = 3

// onExceptionKey edits the exception: ↑/↓ move between lines, ←/→ change
// the field or operator, text edits the field or value, ctrl+n adds an
// entry, ctrl+x deletes one, space toggles closing matching alerts.
func (m Model) onExceptionKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys.Exception
	e := &m.ex
	last := len(e.entries) * entryLines // the option line
	i, part := e.focus/entryLines, e.focus%entryLines
	onEntry := e.focus < last
	changed := false
	switch {
	case key.Matches(msg, k.Cancel):
		m.overlay = overlayNone
		m.setFlash(false, "exception not saved")
		return m, nil
	case key.Matches(msg, k.Save):
		return m, m.saveCmd()
	case key.Matches(msg, k.Up):
		e.focus = max(0, e.focus-1)
	case key.Matches(msg, k.Down):
		e.focus = min(last, e.focus+1)
	case key.Matches(msg, k.AddEntry):
		e.entries = append(e.entries, excEntry{})
		e.focus = (len(e.entries) - 1) * entryLines
		changed = true
	case key.Matches(msg, k.DelEntry):
		if onEntry && len(e.entries) > 1 {
			e.entries = slices.Delete(e.entries, i, i+1)
			e.focus = min(e.focus, len(e.entries)*entryLines-1)
			changed = true
		}
	case !onEntry && key.Matches(msg, k.Toggle):
		e.closeOpen = !e.closeOpen
	case onEntry && (key.Matches(msg, k.Change) || key.Matches(msg, k.ChangeBk)):
		step := 1
		if key.Matches(msg, k.ChangeBk) {
			step = -1
		}
		en := &e.entries[i]
		switch part {
		case 0:
			if n := len(e.fields); n > 0 {
				j := slices.Index(e.fields, en.field)
				if j < 0 && step < 0 {
					j = 0
				}
				en.field = e.fields[((j+step)%n+n)%n]
				if v := e.doc.Keywords(en.field); len(v) == 1 && en.value == "" {
					en.value = v[0]
				}
			}
		case 1:
			en.op = ((en.op+step)%len(excOps) + len(excOps)) % len(excOps)
		}
		changed = true
	case onEntry && part != 1:
		en := &e.entries[i]
		p := &en.value
		if part == 0 {
			p = &en.field
		}
		switch {
		case msg.String() == "backspace":
			if r := []rune(*p); len(r) > 0 {
				*p = string(r[:len(r)-1])
			}
		case msg.String() == "ctrl+u":
			*p = ""
		case msg.Text != "":
			*p += msg.Text
		default:
			return m, nil
		}
		changed = true
	}
	if changed {
		return m, m.previewCmd()
	}
	return m, nil
}

// onExceptionListKey moves through the list, edits, deletes and exports.
func (m Model) onExceptionListKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys.Exception
	n := len(m.exl.saved) + len(m.exl.loaded)
	switch {
	case key.Matches(msg, k.Cancel):
		m.overlay, m.exl.open = overlayNone, false
	case key.Matches(msg, k.Up):
		m.exl.cur = max(0, m.exl.cur-1)
	case key.Matches(msg, k.Down):
		m.exl.cur = max(0, min(n-1, m.exl.cur+1))
	case key.Matches(msg, k.Edit):
		if m.exl.cur < len(m.exl.saved) {
			m.exl.open = false
			return m, m.editException(m.exl.saved[m.exl.cur])
		}
		if n > 0 {
			m.setFlash(true, "loaded with --exceptions: edit the file (or in Kibana), not here")
		}
	case key.Matches(msg, k.Delete):
		if m.exl.cur < len(m.exl.saved) {
			it, b := m.exl.saved[m.exl.cur], m.opt.Backend
			m.overlay = overlayConfirm
			m.ask = confirm{
				title: "Delete exception",
				body:  fmt.Sprintf("Delete %q? Matching events raise alerts again from now on.", visible.String(it.Name)),
				yes: func() tea.Msg {
					return excDeletedMsg{it.Name, b.DeleteException(it.ID)}
				},
			}
			return m, nil
		}
		if n > 0 {
			m.setFlash(true, "loaded with --exceptions: remove it from the file, not here")
		}
	case key.Matches(msg, k.Export):
		path := filepath.Join(m.opt.ExportDir, "xferhunt-exceptions-"+m.opt.Now().UTC().Format("20060102T150405Z")+".ndjson")
		b := m.opt.Backend
		return m, func() tea.Msg {
			n, err := b.ExportExceptions(path)
			return excExportedMsg{path, n, err}
		}
	}
	return m, nil
}

// entryText describes one entry for the list.
func entryText(e exceptions.Entry) string {
	op := e.Type
	for _, o := range excOps {
		if o.typ == e.Type && o.operator == e.Operator {
			op = o.label
		}
	}
	s := e.Field + " " + op
	if v, ok := e.ValueText(); ok {
		s += " " + v
	}
	return s
}

// renderExceptionEditor draws the editor over the body.
func (m Model) renderExceptionEditor(w, h int) []string {
	s := m.styles
	e := &m.ex
	title := "Add exception"
	if e.orig != nil {
		title = "Edit exception " + visible.String(e.orig.Name)
	}
	out := []string{s.Heading.Render(fit(title, w)), s.Muted.Render(fit("Entries are AND-ed; only event fields (never kibana.alert.*): exceptions are evaluated on events.", w)), ""}
	labelW := 10
	row := func(focus int, label, text string) string {
		t := visible.String(text)
		st := s.Value
		if e.focus == focus {
			st = s.Focus
			if t == "" {
				t = " "
			}
		} else if t == "" {
			t = s.Muted.Render("—")
		}
		return s.Label.Render(fit(label, labelW)) + " " + st.Render(t)
	}
	for i, en := range e.entries {
		head := fmt.Sprintf("entry %d", i+1)
		if i > 0 {
			head = "AND " + head
		}
		out = append(out, s.Muted.Render(head))
		out = append(out, row(i*entryLines, "  field", en.field))
		out = append(out, row(i*entryLines+1, "  operator", "‹ "+excOps[en.op].label+" ›"))
		switch excOps[en.op].typ {
		case exceptions.TypeExists:
			out = append(out, row(i*entryLines+2, "  value", "(none: "+excOps[en.op].label+")"))
		case exceptions.TypeMatchAny:
			out = append(out, row(i*entryLines+2, "  values", en.value+"   (comma-separated)"))
		case exceptions.TypeWildcard:
			out = append(out, row(i*entryLines+2, "  pattern", en.value+"   (* any run, ? one character)"))
		default:
			out = append(out, row(i*entryLines+2, "  value", en.value))
		}
	}
	box := "[ ]"
	if e.closeOpen {
		box = "[x]"
	}
	out = append(out, "", row(len(e.entries)*entryLines, box, "close all open alerts that match this exception"))
	out = append(out, "")
	switch {
	case e.previewErr != "":
		out = append(out, s.FlashErr.Render(visible.String(e.previewErr)))
	case e.previewing:
		out = append(out, s.Muted.Render("counting matching alerts…"))
	default:
		out = append(out, fmt.Sprintf("would have excepted %d of %d alerts held now (%d of them open)", e.previewN, e.previewTotal, e.previewOpen))
	}
	if m.opt.Backend != nil && m.opt.Backend.Ephemeral() {
		out = append(out, s.Muted.Render("--ephemeral: the exception lasts for this run only"))
	}
	return clip(out, w, h)
}

// renderExceptionList draws the list of exceptions over the body.
func (m Model) renderExceptionList(w, h int) []string {
	s := m.styles
	out := []string{s.Heading.Render(fit("Exceptions", w))}
	if m.exl.loading {
		return clip(append(out, s.Muted.Render("loading…")), w, h)
	}
	if len(m.exl.saved)+len(m.exl.loaded) == 0 {
		out = append(out, s.Muted.Render("none yet: x on an alert's field adds one"))
	}
	i := 0
	add := func(it exceptions.Item, from string) {
		mark := "  "
		st := s.Value
		if i == m.exl.cur {
			mark, st = "▸ ", s.Focus
		}
		out = append(out, mark+st.Render(visible.String(it.Name))+s.Muted.Render("  "+from))
		for j, e := range it.Entries {
			pre := "    "
			if j > 0 {
				pre = "    AND "
			}
			out = append(out, s.Muted.Render(pre+visible.String(entryText(e))))
		}
		i++
	}
	for _, it := range m.exl.saved {
		add(it, "(saved here)")
	}
	for _, it := range m.exl.loaded {
		add(it, "(--exceptions, read-only)")
	}
	return clip(out, w, h)
}
