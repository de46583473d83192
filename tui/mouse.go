package tui

import (
	tea "charm.land/bubbletea/v2"
)

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
	if m.sv.open {
		m.sv.top += delta
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
	// The story view covers the list and the detail: a click there must
	// not select what is hidden under it.
	if mm.Button != tea.MouseLeft || m.overlay != overlayNone || m.sv.open {
		return
	}
	l := computeLayout(m.width, m.height, m.detail)
	if inside(l.list, mm.X, mm.Y) && mm.Y > l.list.y {
		i := m.offset + mm.Y - l.list.y - 1
		if i < m.st.Shown() {
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

// inside reports whether (x, y) lies in r.
func inside(r rect, x, y int) bool {
	return x >= r.x && x < r.x+r.w && y >= r.y && y < r.y+r.h
}
