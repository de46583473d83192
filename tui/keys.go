package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/visible"
)

// onKey routes a key: quit, then the overlay that has focus, then the
// story view, the detail pane or the list.
func (m Model) onKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys
	if m.overlay != overlayFilter && m.overlay != overlaySearch {
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
	case overlayFilter:
		return m.onFilterKey(msg)
	case overlaySearch:
		return m.onSearchKey(msg)
	case overlayConfirm:
		for _, c := range m.ask.choices {
			if key.Matches(msg, *c.key) {
				m.overlay = overlayNone
				return m, c.cmd
			}
		}
		switch {
		case m.ask.yes != nil && key.Matches(msg, k.Prompt.Confirm):
			m.overlay = m.underConfirm()
			return m, m.ask.yes
		case key.Matches(msg, k.Prompt.Deny):
			m.overlay = m.underConfirm()
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

// onListKey moves through and acts on the list.
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
		m.cursor = m.st.Shown() - 1
	case key.Matches(msg, k.Open):
		m.detail, m.tab, m.field, m.dtop = true, tabOverview, 0, 0
	case key.Matches(msg, k.Filter):
		m.overlay, m.input, m.inputErr = overlayFilter, []rune(m.filter), ""
	case key.Matches(msg, k.Sort):
		m.sortMode = m.sortMode.Next()
		return m, m.recompute(m.filter, m.pred, nil)
	case key.Matches(msg, k.Export):
		return m, m.exportCmd()
	case key.Matches(msg, k.Exceptions):
		return m, m.openExceptionList()
	}
	return m, nil
}

// onDetailKey switches tabs and moves the field focus in the detail view.
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

// onFilterKey edits the filter line; enter compiles and applies it in a Cmd.
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
		return m, searchCmd(sv.gen, sv.lines, sv.query)
	case msg.String() == "backspace":
		if len(sv.input) > 0 {
			sv.input = sv.input[:len(sv.input)-1]
		}
	case msg.String() == "ctrl+u":
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
	return m, searchCmd(sv.gen, sv.lines, sv.query)
}
