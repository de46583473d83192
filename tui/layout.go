package tui

// Breakpoints, in terminal cells.
const (
	minWidth    = 30 // below this, only a "too small" notice
	minHeight   = 10
	sideBySideW = 140 // from here the detail pane sits right of the list
)

// rect is a screen region.
type rect struct{ x, y, w, h int }

// layout names every region of the screen. It is a pure function of size
// and state so tests can assert it directly.
type layout struct {
	tooSmall bool
	header   rect // title and workflow counts
	list     rect // column header + rows
	detail   rect // zero when closed
	bar      rect // two status lines
	footer   rect // key hints, flash, or the filter prompt
}

func computeLayout(w, h int, detail bool) layout {
	if w < minWidth || h < minHeight {
		return layout{tooSmall: true}
	}
	l := layout{
		header: rect{0, 0, w, 1},
		bar:    rect{0, h - 3, w, 2},
		footer: rect{0, h - 1, w, 1},
	}
	bodyY, bodyH := 1, h-4
	switch {
	case !detail:
		l.list = rect{0, bodyY, w, bodyH}
	case w >= sideBySideW:
		lw := w * 2 / 5
		l.list = rect{0, bodyY, lw, bodyH}
		l.detail = rect{lw + 1, bodyY, w - lw - 1, bodyH}
	default:
		// Stacked: keep a few list rows for context, the rest for detail.
		lh := max(3, bodyH/3)
		l.list = rect{0, bodyY, w, lh}
		l.detail = rect{0, bodyY + lh, w, bodyH - lh}
	}
	return l
}

// listRows is how many alert rows fit under the column header.
func (l layout) listRows() int { return max(0, l.list.h-1) }
