package tui

import (
	"strings"

	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/triage"
)

// colID names a list column, so code finds a column by what it is, never
// by its title text.
type colID int

const (
	colMark colID = iota // selection and workflow status
	colTime
	colSeverity
	colProcess
	colUser
	colIP
	colPath
)

// colSort is the sort each column header stands for.
var colSort = [...]alertdb.SortMode{
	colMark:     alertdb.SortStatus,
	colTime:     alertdb.SortTime,
	colSeverity: alertdb.SortSeverity,
	colProcess:  alertdb.SortProcess,
	colUser:     alertdb.SortUser,
	colIP:       alertdb.SortIP,
	colPath:     alertdb.SortPath,
}

// column is one list column. Columns with the lowest keep value are dropped
// first when the list is narrow; path is flexible and takes what is left.
type column struct {
	id    colID
	title string
	width int
	keep  int
	cell  func(m *Model, r *alertdb.Row) string
	left  bool // cut from the left (paths)
}

const pathMin = 20

// timeLayout is the list's time column: the date joins from 120 columns.
func timeLayout(w int) string {
	if w >= 120 {
		return layoutFull
	}
	return layoutTime
}

func (m *Model) columns(w int) []column {
	tl := timeLayout(w)
	all := []column{
		{colMark, "", 2, 9, func(m *Model, r *alertdb.Row) string {
			// The cursor mark keeps the selection visible without color.
			if m.selected() == r {
				return "▸" + statusGlyph[r.Status()]
			}
			return " " + statusGlyph[r.Status()]
		}, false},
		{colTime, "time", m.clock.width(tl), 8, func(m *Model, r *alertdb.Row) string {
			return m.clock.format(r.Time(), tl)
		}, false},
		{colSeverity, "severity", 9, 7, func(m *Model, r *alertdb.Row) string { return r.Severity().String() }, false},
		{colProcess, "process", 11, 6, func(m *Model, r *alertdb.Row) string { return r.Process() }, false},
		{colUser, "user", 8, 5, func(m *Model, r *alertdb.Row) string { return r.User() }, false},
		{colIP, "source ip", 15, 4, func(m *Model, r *alertdb.Row) string { return r.IP() }, false},
	}
	// Drop the least important columns until the path keeps its minimum.
	for {
		used := 0
		for _, c := range all {
			used += c.width + 1
		}
		if used+pathMin <= w || len(all) <= 2 {
			path := column{colPath, "file path", max(0, w-used), 10, func(m *Model, r *alertdb.Row) string { return r.Path() }, true}
			return append(all, path)
		}
		drop := 0
		for i, c := range all {
			if c.keep < all[drop].keep {
				drop = i
			}
		}
		all = append(all[:drop], all[drop+1:]...)
	}
}

var statusGlyph = [...]string{" ", "◐", "✓"}

// sortMarker is drawn after the title of the sorted column.
func sortMarker(mode alertdb.SortMode) string {
	if mode.Descending() {
		return "▼"
	}
	return "▲"
}

// headerTitle is a column's title with the sort marker when it is the
// sorted column; the unnamed status column shows the marker alone.
func (m *Model) headerTitle(c column) string {
	if colSort[c.id] != m.sortMode.Column() {
		return c.title
	}
	return c.title + sortMarker(m.sortMode)
}

// columnAt is the column under x (relative to the list), for header clicks.
func (m *Model) columnAt(w, x int) (column, bool) {
	at := 0
	for _, c := range m.columns(w) {
		if x >= at && x < at+c.width+1 {
			return c, true
		}
		at += c.width + 1
	}
	return column{}, false
}

// renderList draws only the rows in the window, so its cost is independent
// of how many alerts are held.
func (m Model) renderList(r rect) []string {
	cols := m.columns(r.w)
	var hdr strings.Builder
	for i, c := range cols {
		if i > 0 {
			hdr.WriteByte(' ')
		}
		hdr.WriteString(fit(m.headerTitle(c), c.width))
	}
	lines := []string{m.styles.ColHeader.Render(fit(hdr.String(), r.w))}
	n := max(0, r.h-1)
	if m.st.Shown() == 0 {
		msg := "waiting for alerts…"
		if m.st.Len() > 0 {
			msg = "no alert matches the filter"
		}
		return append(lines, m.styles.Muted.Render(fit(" "+msg, r.w)))
	}
	for i := m.offset; i < m.st.Shown() && i < m.offset+n; i++ {
		lines = append(lines, m.renderRow(cols, m.st.At(i), i == m.cursor, r.w))
	}
	return lines
}

func (m *Model) renderRow(cols []column, r *alertdb.Row, selected bool, w int) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		v := c.cell(m, r)
		if c.left {
			v = fitLeft(v, c.width)
		} else {
			v = fit(v, c.width)
		}
		// Severity keeps its color on live, unselected rows.
		if c.id == colSeverity && !selected && !r.Historical() && r.Status() != triage.StatusClosed {
			v = m.styles.Sev[r.Severity()].Render(v)
		}
		b.WriteString(v)
	}
	line := b.String()
	switch {
	case selected:
		return m.styles.Selected.Render(line)
	case r.Status() == triage.StatusClosed:
		return m.styles.Closed.Render(line)
	case r.Historical():
		return m.styles.Historical.Render(line)
	}
	return line
}
