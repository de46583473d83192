package tui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/xferhunt/xferhunt/alertdb"
)

// onWheel scrolls the pane under the pointer.
func (m *Model) onWheel(msg tea.MouseWheelMsg) {
	l := m.layout()
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
	switch {
	case l.mode == modeStory:
		m.sv.top += delta
	case m.detail && inside(l.detail, mm.X, mm.Y):
		m.dtop += delta
		m.refocus()
	default:
		m.cursor += delta
	}
}

// onClick selects a row (a second click opens it), sorts by a column
// header (a second click reverses), or switches tab, by the same geometry
// the frame was drawn with.
func (m *Model) onClick(msg tea.MouseClickMsg) tea.Cmd {
	mm := msg.Mouse()
	l := m.layout()
	// The story and help views cover the list and the detail: a click
	// there must not select what is hidden under it.
	if mm.Button != tea.MouseLeft || m.overlay != overlayNone || l.mode == modeStory || l.mode == modeTooSmall {
		return nil
	}
	switch {
	case mm.Y == l.list.y && inside(l.list, mm.X, mm.Y):
		c, ok := m.columnAt(l.list.w, mm.X-l.list.x)
		if !ok {
			return nil
		}
		mode := colSort[c.id]
		if mode == m.sortMode.Column() {
			mode = m.sortMode ^ alertdb.SortReverse
		}
		return m.sortBy(mode)
	case inside(l.list, mm.X, mm.Y):
		i := m.offset + mm.Y - l.list.y - 1
		if i < m.st.Shown() {
			if i == m.cursor && !m.detail {
				m.openDetail()
			}
			m.cursor = i
		}
	case m.detail && mm.Y == l.detail.y && inside(l.detail, mm.X, mm.Y):
		_, hits := m.tabBar(l.detail.w)
		for _, h := range hits {
			if x := mm.X - l.detail.x; x >= h.x0 && x < h.x1 {
				if h.tab != m.tab {
					m.setTab(h.tab)
				}
				return nil
			}
		}
	}
	return nil
}

// inside reports whether (x, y) lies in r.
func inside(r rect, x, y int) bool {
	return x >= r.x && x < r.x+r.w && y >= r.y && y < r.y+r.h
}
