package tui

import (
	"github.com/xferhunt/xferhunt/internal/visible"

	"strings"

	"github.com/charmbracelet/x/ansi"
)

// renderHelp lays the keymap groups out in as many columns as fit. It is
// generated from keymap.Groups so it lists exactly the enabled bindings.
func (m Model) renderHelp(w, h int) []string {
	s := m.styles
	type block struct {
		lines []string
		width int
	}
	var blocks []block
	for _, g := range m.keys.Groups() {
		keyW := 0
		for _, b := range g.Bindings {
			keyW = max(keyW, ansi.StringWidth(b.Help().Key))
		}
		bl := block{lines: []string{s.Heading.Render(g.Title)}, width: ansi.StringWidth(g.Title)}
		for _, b := range g.Bindings {
			k := b.Help().Key
			line := s.Key.Render(k) + strings.Repeat(" ", keyW-ansi.StringWidth(k)+2) + s.Muted.Render(b.Help().Desc)
			bl.lines = append(bl.lines, line)
			bl.width = max(bl.width, ansi.StringWidth(line))
		}
		blocks = append(blocks, bl)
	}
	if m.sv.open {
		bl := block{lines: []string{
			s.Heading.Render("Story marks"),
			s.MarkThis.Render("◆") + s.Muted.Render("  this alert's own event"),
			s.MarkOther.Render("◇") + s.Muted.Render("  event another alert was raised on"),
			s.Match.Render("abc") + s.Muted.Render("  search match (") + s.MatchCur.Render("abc") + s.Muted.Render(" current)"),
		}}
		for _, l := range bl.lines {
			bl.width = max(bl.width, ansi.StringWidth(l))
		}
		blocks = append(blocks, bl)
	}
	// Greedy rows of columns.
	var out []string
	if why := m.hostActionsOff(m.selected()); why != "" {
		// Say why K, P and Q are missing, so their absence is not a mystery.
		out = append(out, s.Muted.Render(ansi.Truncate("host actions (K P Q) off: "+visible.String(why), w, "…")), "")
	}
	for i := 0; i < len(blocks); {
		used, j := 0, i
		for j < len(blocks) && (j == i || used+blocks[j].width+3 <= w) {
			used += blocks[j].width + 3
			j++
		}
		rows := 0
		for _, b := range blocks[i:j] {
			rows = max(rows, len(b.lines))
		}
		for r := range rows {
			var line strings.Builder
			for _, b := range blocks[i:j] {
				cell := ""
				if r < len(b.lines) {
					cell = b.lines[r]
				}
				line.WriteString(cell + strings.Repeat(" ", b.width-ansi.StringWidth(cell)+3))
			}
			out = append(out, line.String())
		}
		out = append(out, "")
		i = j
	}
	return clip(out, w, h)
}
