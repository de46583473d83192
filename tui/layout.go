package tui

// Breakpoints, in terminal cells.
const (
	minWidth    = 30 // below this, only a "too small" notice
	minHeight   = 10
	sideBySideW = 140 // from here the detail pane sits right of the list
	// detailMaxW bounds the side pane: past it a wider pane only adds
	// empty space, while the list's path column can use every cell.
	detailMaxW = 96
)

// rect is a screen region.
type rect struct{ x, y, w, h int }

// layoutMode is how the body is divided.
type layoutMode int

const (
	modeTooSmall layoutMode = iota
	modeList                // the list takes the body
	modeSide                // list left, detail right
	modeStacked             // list above, detail below
	modeStory               // the story view takes the body
	modeHelp                // the help view takes the body
	modeLog                 // the response log takes the body
	modeExcEdit             // the exception editor takes the body
	modeExcList             // the list of exceptions takes the body
)

// layout names every region of the screen and the mode that placed them.
// It is the one geometry: render, mouse and key handlers all read it, so
// a click lands where the frame drew.
type layout struct {
	mode   layoutMode
	header rect // title and workflow counts
	body   rect // everything between header and status bar
	list   rect // column header + rows
	detail rect // zero when closed: tab bar + rows
	bar    rect // two status lines
	footer rect // key hints, flash, or the prompt
}

// computeLayout is a pure function of size and what is open.
func computeLayout(w, h int, detail bool) layout {
	if w < minWidth || h < minHeight {
		return layout{mode: modeTooSmall}
	}
	l := layout{
		mode:   modeList,
		header: rect{0, 0, w, 1},
		body:   rect{0, 1, w, h - 4},
		bar:    rect{0, h - 3, w, 2},
		footer: rect{0, h - 1, w, 1},
	}
	bodyY, bodyH := 1, h-4
	switch {
	case !detail:
		l.list = rect{0, bodyY, w, bodyH}
	case w >= sideBySideW:
		l.mode = modeSide
		dw := min(w*3/5, detailMaxW)
		lw := w - dw - 1
		l.list = rect{0, bodyY, lw, bodyH}
		l.detail = rect{lw + 1, bodyY, dw, bodyH}
	default:
		// Stacked: keep a few list rows for context, the rest for detail.
		l.mode = modeStacked
		lh := max(3, bodyH/3)
		l.list = rect{0, bodyY, w, lh}
		l.detail = rect{0, bodyY + lh, w, bodyH - lh}
	}
	return l
}

// layout is the geometry of the model's current state.
func (m *Model) layout() layout {
	l := computeLayout(m.width, m.height, m.detail)
	switch {
	case l.mode == modeTooSmall:
	case m.overlay == overlayHelp:
		l.mode = modeHelp
	case m.overlay == overlayLog:
		l.mode = modeLog
	case m.overlay == overlayException:
		l.mode = modeExcEdit
	case m.overlay == overlayExceptions || m.overlay == overlayConfirm && m.exl.open:
		l.mode = modeExcList
	case m.sv.open:
		l.mode = modeStory
	}
	return l
}

// listRows is how many alert rows fit under the column header.
func (l layout) listRows() int { return max(0, l.list.h-1) }

// detailRows is how many detail rows fit under the tab bar.
func (l layout) detailRows() int { return max(0, l.detail.h-1) }
