package tui

import (
	"strings"
)

// findState is the detail view's search: the query, the wrapped rows
// that hold it, and the current one.
type findState struct {
	query   string
	input   []rune
	saved   string // the query before the prompt opened (esc puts it back)
	matches []int  // indexes into Model.drows
	cur     int
}

// findRows returns the rows whose label or text holds q, case-insensitive.
// One document's rows (a few hundred): cheap enough for Update.
func findRows(rows []drow, q string) []int {
	if q == "" {
		return nil
	}
	q = strings.ToLower(q)
	var out []int
	for i, r := range rows {
		if strings.Contains(strings.ToLower(r.text), q) || strings.Contains(strings.ToLower(r.label), q) {
			out = append(out, i)
		}
	}
	return out
}

// stepFind moves to the next (dir 1) or previous (-1) match, wrapping.
func (m *Model) stepFind(dir int) {
	f := &m.find
	n := len(f.matches)
	if n == 0 {
		if f.query != "" {
			m.setFlash(true, "no match for %q in this tab", f.query)
		}
		return
	}
	next := f.cur + dir
	if f.cur < 0 && dir < 0 {
		next = n - 1
	}
	if next >= n || next < 0 {
		next = (next + n) % n
		if f.cur >= 0 {
			m.setFlash(false, "search wrapped")
		}
	}
	f.cur = next
	m.showRow(f.matches[next])
}

// showRow brings wrapped row i near the top of the detail pane (a row of
// context above it) and focuses its field when it has one.
func (m *Model) showRow(i int) {
	h := max(1, m.layout().detailRows())
	m.dtop = max(0, i-min(2, h/4))
	if fi := m.focusIndex(m.drows[i].line); fi >= 0 {
		m.field, m.dfree = fi, false
		return
	}
	m.dfree = true
}

// focusIndex is the focus number of dline i, or -1 when it has no field.
func (m *Model) focusIndex(line int) int {
	for fi, l := range focusable(m.dlines) {
		if l == line {
			return fi
		}
	}
	return -1
}

// refocus, after the pane scrolled, focuses the first field on screen, or
// leaves the focus detached when no field is visible.
func (m *Model) refocus() {
	h := max(1, m.layout().detailRows())
	top := min(max(m.dtop, 0), max(len(m.drows)-h, 0))
	for i := top; i < len(m.drows) && i < top+h; i++ {
		if fi := m.focusIndex(m.drows[i].line); fi >= 0 && m.drows[i].label != "" {
			m.field, m.dfree, m.dtop = fi, false, top
			return
		}
	}
	m.dfree = true
}

// jumpSection scrolls to the next (1) or previous (-1) heading.
func (m *Model) jumpSection(dir int) {
	top := m.dtop
	if dir > 0 {
		for i := top + 1; i < len(m.drows); i++ {
			if m.drows[i].style == lineHeading {
				m.dtop = i
				m.refocus()
				return
			}
		}
		m.setFlash(false, "no section below")
		return
	}
	for i := min(top, len(m.drows)) - 1; i >= 0; i-- {
		if m.drows[i].style == lineHeading {
			m.dtop = i
			m.refocus()
			return
		}
	}
	m.dtop = 0
	m.refocus()
}
