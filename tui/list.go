package tui

import (
	"strings"

	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/triage"
)

// column is one list column. Columns with the lowest keep value are dropped
// first when the list is narrow; path is flexible and takes what is left.
type column struct {
	title string
	width int
	keep  int
	cell  func(m *Model, r *alertdb.Row) string
	left  bool // cut from the left (paths)
}

const pathMin = 20

func (m *Model) columns(w int) []column {
	timeW, timeFmt := 8, "15:04:05"
	if w >= 120 {
		timeW, timeFmt = 14, "01-02 15:04:05"
	}
	all := []column{
		{"", 2, 9, func(m *Model, r *alertdb.Row) string {
			// The cursor mark keeps the selection visible without color.
			if m.selected() == r {
				return "▸" + statusGlyph[r.Status()]
			}
			return " " + statusGlyph[r.Status()]
		}, false},
		{"time", timeW, 8, func(m *Model, r *alertdb.Row) string {
			if r.Time().IsZero() {
				return "?"
			}
			return r.Time().In(m.opt.Location).Format(timeFmt)
		}, false},
		{"severity", 8, 7, func(m *Model, r *alertdb.Row) string { return r.Severity().String() }, false},
		{"process", 12, 6, func(m *Model, r *alertdb.Row) string { return r.Process() }, false},
		{"user", 9, 5, func(m *Model, r *alertdb.Row) string { return r.User() }, false},
		{"source ip", 15, 4, func(m *Model, r *alertdb.Row) string { return r.IP() }, false},
	}
	// Drop the least important columns until the path keeps its minimum.
	for {
		used := 0
		for _, c := range all {
			used += c.width + 1
		}
		if used+pathMin <= w || len(all) <= 2 {
			path := column{"file path", max(0, w-used), 10, func(m *Model, r *alertdb.Row) string { return r.Path() }, true}
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

// renderList draws only the rows in the window, so its cost is independent
// of how many alerts are held.
func (m Model) renderList(r rect) []string {
	cols := m.columns(r.w)
	var hdr strings.Builder
	for i, c := range cols {
		if i > 0 {
			hdr.WriteByte(' ')
		}
		hdr.WriteString(fit(c.title, c.width))
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
		if c.title == "severity" && !selected && !r.Historical() && r.Status() != triage.StatusClosed {
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
