package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/internal/visible"
)

// onKey routes a key: quit, then the overlay that has focus, then the
// story view, the detail pane or the list.
func (m Model) onKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys
	switch m.overlay {
	case overlayFilter, overlaySearch, overlayCommand, overlayFind:
	default:
		m.flash = ""
	}
	if msg.String() == "ctrl+c" {
		return m, tea.Quit
	}
	switch m.overlay {
	case overlayException:
		return m.onExceptionKey(msg)
	case overlayExceptions:
		return m.onExceptionListKey(msg)
	case overlayFilter, overlayCommand:
		return m.onLineKey(msg)
	case overlaySearch:
		return m.onSearchKey(msg)
	case overlayFind:
		return m.onFindKey(msg), nil
	case overlayConfirm:
		for _, c := range m.ask.choices {
			if key.Matches(msg, *c.key) {
				m.overlay = m.underConfirm()
				return m, c.cmd
			}
		}
		switch {
		case (m.ask.yes != nil || m.askQuit) && key.Matches(msg, k.Prompt.Confirm):
			if m.askQuit {
				m.overlay = overlayNone
				return m, tea.Quit
			}
			m.overlay = m.underConfirm()
			return m, m.ask.yes
		case key.Matches(msg, k.Prompt.Deny):
			m.overlay, m.askQuit = m.underConfirm(), false
			m.setFlash(false, "cancelled")
		}
		return m, nil
	case overlayLog:
		if key.Matches(msg, k.Global.Responses) || msg.String() == "esc" {
			m.overlay = overlayNone
		} else if key.Matches(msg, k.Global.Quit) {
			return m, tea.Quit
		}
		return m, nil
	case overlayHelp:
		page := max(1, m.layout().body.h-1)
		switch {
		case key.Matches(msg, k.Global.Help) || msg.String() == "esc":
			m.overlay = overlayNone
		case key.Matches(msg, k.Global.Quit):
			return m.quit()
		case key.Matches(msg, k.Scroll.Down):
			m.htop++
		case key.Matches(msg, k.Scroll.Up):
			m.htop--
		case key.Matches(msg, k.Scroll.PageDown):
			m.htop += page
		case key.Matches(msg, k.Scroll.PageUp):
			m.htop -= page
		}
		m.htop = min(max(m.htop, 0), max(0, len(m.helpLines(m.width))-m.layout().body.h))
		return m, nil
	}
	switch {
	case key.Matches(msg, k.Global.Quit):
		return m.quit()
	case key.Matches(msg, k.Global.Help):
		m.overlay, m.htop = overlayHelp, 0
		return m, nil
	case key.Matches(msg, k.Global.Command):
		m.openLine(overlayCommand, "")
		return m, nil
	case key.Matches(msg, k.Global.Responses):
		b := m.opt.Backend
		return m, func() tea.Msg {
			es, err := b.Responses()
			return responsesMsg{es, err}
		}
	}
	if cmd, ok := m.onAlertKey(msg); ok {
		return m, cmd
	}
	if m.sv.open {
		return m.onStoryKey(msg)
	}
	if m.detail {
		return m.onDetailKey(msg), nil
	}
	return m.onListKey(msg)
}

// quit ends the program, unless triage would be lost: a status write
// still on its way, or (with --ephemeral) statuses set in this session.
// Then it asks first; ctrl+c never asks.
func (m Model) quit() (Model, tea.Cmd) {
	why := ""
	switch {
	case m.unsaved > 0:
		why = "A status change is still being saved."
	case m.opt.Ephemeral && m.triaged:
		why = "This session keeps its state in memory only (--ephemeral): the statuses you set are lost."
	}
	if why == "" {
		return m, tea.Quit
	}
	m.overlay, m.askQuit = overlayConfirm, true
	m.ask = confirm{title: "Quit xferhunt?", body: why}
	return m, nil
}

// onListKey moves through and acts on the list.
func (m Model) onListKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys.List
	page := max(1, m.layout().listRows())
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
		m.cursor = m.st.Shown() - 1
	case key.Matches(msg, k.Open):
		m.openDetail()
	case key.Matches(msg, k.Filter):
		m.openLine(overlayFilter, m.filter)
	case key.Matches(msg, k.Sort):
		return m, m.sortBy(m.sortMode.Next())
	case key.Matches(msg, k.SortReverse):
		return m, m.sortBy(m.sortMode ^ alertdb.SortReverse)
	case key.Matches(msg, k.Pause):
		m.togglePause()
	case key.Matches(msg, k.Export):
		return m, m.exportCmd()
	case key.Matches(msg, k.Exceptions):
		return m, m.openExceptionList()
	}
	return m, nil
}

// openDetail opens the detail view of the selected alert at its Overview.
func (m *Model) openDetail() {
	m.detail, m.tab, m.field, m.dtop, m.dfree = true, tabOverview, 0, 0, false
	m.find = findState{}
}

// sortBy re-sorts the list in a Cmd; the selected alert stays selected.
func (m *Model) sortBy(mode alertdb.SortMode) tea.Cmd {
	m.sortMode = mode
	return m.recompute(m.filter, m.pred, nil)
}

// togglePause freezes or thaws the list. Batches that arrive while paused
// are held and counted, then merged on resume, in arrival order.
func (m *Model) togglePause() {
	if !m.paused {
		m.paused = true
		return
	}
	m.paused = false
	held, n := m.held, m.heldN
	m.held, m.heldN = nil, 0
	for _, b := range held {
		m.mergeRows(b)
	}
	m.setFlash(false, "resumed: %d alerts arrived while paused", n)
}

// setTab switches the detail tab, starting at its top.
func (m *Model) setTab(t int) {
	m.tab, m.field, m.dtop, m.dfree = t, 0, 0, false
	m.find.matches, m.find.cur = nil, -1
}

// onDetailKey switches tabs, moves the field focus, pages, jumps between
// sections and walks search matches in the detail view.
func (m Model) onDetailKey(msg tea.KeyPressMsg) Model {
	k := m.keys.Detail
	nfoc := len(focusable(m.dlines))
	page := max(1, m.layout().detailRows())
	switch {
	case key.Matches(msg, k.Back):
		m.detail = false
	case key.Matches(msg, k.NextTab):
		m.setTab((m.tab + 1) % len(tabNames))
	case key.Matches(msg, k.PrevTab):
		m.setTab((m.tab + len(tabNames) - 1) % len(tabNames))
	case key.Matches(msg, k.Up):
		if nfoc > 0 && !m.dfree {
			m.field--
		} else {
			m.dtop--
			m.refocus()
		}
	case key.Matches(msg, k.Down):
		if nfoc > 0 && !m.dfree {
			m.field++
		} else {
			m.dtop++
			m.refocus()
		}
	case key.Matches(msg, k.PageUp):
		m.dtop -= page
		m.refocus()
	case key.Matches(msg, k.PageDown):
		m.dtop += page
		m.refocus()
	case key.Matches(msg, k.Top):
		m.dtop, m.field, m.dfree = 0, 0, false
	case key.Matches(msg, k.Bottom):
		m.dtop = len(m.drows)
		m.refocus()
	case key.Matches(msg, k.NextSection):
		m.jumpSection(1)
	case key.Matches(msg, k.PrevSection):
		m.jumpSection(-1)
	case key.Matches(msg, k.Search):
		m.overlay = overlayFind
		m.find.saved = m.find.query
		m.find.input = nil
	case key.Matches(msg, k.NextMatch):
		m.stepFind(1)
	case key.Matches(msg, k.PrevMatch):
		m.stepFind(-1)
	}
	return m
}

// onFindKey edits the detail search: every edit searches the open tab
// (one document: small, so in Update) and shows the first match.
func (m Model) onFindKey(msg tea.KeyPressMsg) Model {
	k := m.keys.Prompt
	f := &m.find
	switch {
	case key.Matches(msg, k.Apply):
		m.overlay = overlayNone
		if f.query != "" && len(f.matches) == 0 {
			m.setFlash(true, "no match for %q in this tab", visible.String(f.query))
		}
		return m
	case key.Matches(msg, k.Cancel):
		m.overlay = overlayNone
		f.query = f.saved
	case key.Matches(msg, k.Erase):
		if len(f.input) > 0 {
			f.input = f.input[:len(f.input)-1]
		}
		f.query = string(f.input)
	case key.Matches(msg, k.Clear):
		f.input = nil
		f.query = ""
	case msg.Text != "":
		f.input = append(f.input, []rune(msg.Text)...)
		f.query = string(f.input)
	default:
		return m
	}
	f.matches, f.cur = findRows(m.drows, f.query), -1
	if len(f.matches) > 0 {
		m.stepFind(1)
	}
	return m
}

// openLine opens the filter or command line with text, the history at
// its end.
func (m *Model) openLine(o overlay, text string) {
	m.overlay, m.input, m.inputErr = o, []rune(text), ""
	m.hpos, m.draft = len(m.hist[m.histIdx(o)]), nil
}

func (m *Model) histIdx(o overlay) int {
	if o == overlayCommand {
		return 1
	}
	return 0
}

// remember appends a line to its history (no immediate repeats, at most
// 100 kept).
func (m *Model) remember(o overlay, text string) {
	h := &m.hist[m.histIdx(o)]
	if text == "" || len(*h) > 0 && (*h)[len(*h)-1] == text {
		return
	}
	*h = append(*h, text)
	if len(*h) > 100 {
		*h = (*h)[len(*h)-100:]
	}
}

// onLineKey edits the filter or command line: history with ↑/↓,
// completion with tab; enter runs it.
func (m Model) onLineKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys.Prompt
	hist := m.hist[m.histIdx(m.overlay)]
	m.hint = ""
	switch {
	case key.Matches(msg, k.Apply):
		text := string(m.input)
		o := m.overlay
		m.overlay = overlayNone
		if o == overlayCommand {
			m.remember(o, text)
			return m, m.runCommand(text)
		}
		return m, m.applyFilter(text)
	case key.Matches(msg, k.Cancel):
		m.overlay, m.inputErr = overlayNone, ""
	case key.Matches(msg, k.Older):
		if m.hpos > 0 {
			if m.hpos == len(hist) {
				m.draft = m.input
			}
			m.hpos--
			m.input = []rune(hist[m.hpos])
		}
	case key.Matches(msg, k.Newer):
		if m.hpos < len(hist) {
			m.hpos++
			if m.hpos == len(hist) {
				m.input = m.draft
			} else {
				m.input = []rune(hist[m.hpos])
			}
		}
	case key.Matches(msg, k.Complete):
		m.complete()
	case key.Matches(msg, k.Erase):
		if len(m.input) > 0 {
			m.input = m.input[:len(m.input)-1]
		}
	case key.Matches(msg, k.Clear):
		m.input = nil
	case msg.Text != "":
		m.input = append(m.input, []rune(msg.Text)...)
	}
	return m, nil
}

// applyFilter compiles and applies a KQL filter in a Cmd ("" clears it).
// Every filter applied, typed or made by a command (:user), joins the
// filter history.
func (m *Model) applyFilter(text string) tea.Cmd {
	m.remember(overlayFilter, text)
	if text == "" {
		return m.recompute("", nil, nil)
	}
	b := m.opt.Backend
	return m.recompute(text, nil, func() (alertdb.Matcher, error) { return b.Compile(text) })
}

// onStoryKey scrolls, searches and changes the scope of the story view.
func (m Model) onStoryKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys.Story
	sv := &m.sv
	g := m.storyGeom()
	switch {
	case key.Matches(msg, k.Back):
		// Keep what outlives one story: the request counter (late answers
		// must still be dropped) and the wrap choice.
		m.sv = storyView{req: sv.req, cut: sv.cut}
	case key.Matches(msg, k.NextScope):
		return m, m.switchScope(1)
	case key.Matches(msg, k.PrevScope):
		return m, m.switchScope(-1)
	case key.Matches(msg, k.Up):
		sv.top--
	case key.Matches(msg, k.Down):
		sv.top++
	case key.Matches(msg, k.PageUp):
		sv.pageUp(g)
	case key.Matches(msg, k.PageDown):
		sv.top = sv.lastShown(g, sv.top) + 1
	case key.Matches(msg, k.Top):
		sv.top = 0
	case key.Matches(msg, k.Bottom):
		sv.top = len(sv.lines)
	case key.Matches(msg, k.Search):
		m.overlay = overlaySearch
		sv.saved = searchState{query: sv.query, matches: sv.matches, cur: sv.cur, top: sv.top, gen: sv.gen}
		sv.input = nil
	case key.Matches(msg, k.NextMatch):
		m.stepMatch(1)
	case key.Matches(msg, k.PrevMatch):
		m.stepMatch(-1)
	case key.Matches(msg, k.Wrap):
		sv.cut = !sv.cut
	}
	return m, nil
}

// onSearchKey edits the story search. The search runs on every edit, in a
// Cmd, and the view follows the first match from where the prompt was
// opened; enter keeps it, esc puts back the search and place before.
func (m Model) onSearchKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys.Prompt
	sv := &m.sv
	switch {
	case key.Matches(msg, k.Apply):
		m.overlay = overlayNone
		switch {
		case sv.query == "":
		case sv.matchesFor != sv.query:
			sv.jump = true // its answer is on the way: move when it lands
		case len(sv.matches) == 0:
			m.setFlash(true, "no event matches %q", visible.String(sv.query))
		}
		return m, nil
	case key.Matches(msg, k.Cancel):
		m.overlay = overlayNone
		old := sv.saved
		sv.query, sv.top, sv.cur = old.query, old.top, old.cur
		if old.gen == sv.gen {
			sv.matches, sv.matchesFor = old.matches, old.query
			return m, nil
		}
		// The story changed meanwhile: the old matches point elsewhere.
		sv.matches, sv.cur = nil, -1
		if sv.query == "" {
			return m, nil
		}
		return m, searchCmd(sv.gen, sv.lines, sv.query, m.clock)
	case key.Matches(msg, k.Erase):
		if len(sv.input) > 0 {
			sv.input = sv.input[:len(sv.input)-1]
		}
	case key.Matches(msg, k.Clear):
		sv.input = nil
	case msg.Text != "":
		sv.input = append(sv.input, []rune(msg.Text)...)
	default:
		return m, nil
	}
	sv.query = string(sv.input)
	if sv.query == "" {
		sv.matches, sv.matchesFor, sv.cur, sv.top = nil, "", -1, sv.saved.top
		return m, nil
	}
	return m, searchCmd(sv.gen, sv.lines, sv.query, m.clock)
}
