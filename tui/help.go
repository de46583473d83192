package tui

import (
	"fmt"

	"strings"

	"github.com/xferhunt/xferhunt/internal/visible"

	"github.com/charmbracelet/x/ansi"

	"github.com/xferhunt/xferhunt/triage"
)

// renderHelp lays the keymap groups out in as many columns as fit. It is
// generated from keymap.Groups so it lists exactly the enabled bindings.
func (m Model) renderHelp(w, h int) []string {
	out := m.helpLines(w)
	return m.scrollHelp(out, w, h)
}

// helpLines is the whole help at width w.
func (m Model) helpLines(w int) []string {
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
	legend := func(title string, rows ...[2]string) {
		bl := block{lines: []string{s.Heading.Render(title)}, width: ansi.StringWidth(title)}
		kw := 0
		for _, r := range rows {
			kw = max(kw, ansi.StringWidth(r[0]))
		}
		for _, r := range rows {
			line := s.Key.Render(r[0]) + strings.Repeat(" ", kw-ansi.StringWidth(r[0])+2) + s.Muted.Render(r[1])
			bl.lines = append(bl.lines, line)
			bl.width = max(bl.width, ansi.StringWidth(line))
		}
		blocks = append(blocks, bl)
	}
	if !m.sv.open {
		legend("List marks",
			[2]string{"▸", "selected row (also reverse video)"},
			[2]string{statusGlyph[triage.StatusAcknowledged], "acknowledged"},
			[2]string{statusGlyph[triage.StatusClosed], "closed (struck through, dimmed)"},
			[2]string{"dim", "historical: raised over backfilled events"},
			[2]string{"▼ ▲", "sorted column, descending / ascending"},
			[2]string{"⏸", "paused: new alerts counted, not shown"},
		)
		var cmds [][2]string
		for _, c := range commands {
			cmds = append(cmds, [2]string{":" + strings.TrimSpace(c.name+" "+c.args), c.help})
		}
		legend("Commands (:)", cmds...)
	}
	legend("Mouse",
		[2]string{"wheel", "scrolls the pane under the pointer"},
		[2]string{"click", "selects a row; again opens it"},
		[2]string{"header", "sorts by that column; again reverses"},
		[2]string{"tab", "a click on a tab name opens it"},
	)
	legend("Leaving",
		[2]string{m.keys.Detail.Back.Help().Key, "back: closes help, prompt, story or detail"},
		[2]string{m.keys.Global.Quit.Help().Key, "quits from any view (asks when triage is unsaved)"},
		[2]string{"ctrl+c", "quits at once"},
	)
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
	return out
}

// scrollHelp shows the help from m.htop: at 80×24 the complete help is
// longer than the screen.
func (m Model) scrollHelp(out []string, w, h int) []string {
	s := m.styles
	top := min(max(m.htop, 0), max(0, len(out)-h))
	out = out[top:]
	if len(out) > h && h > 1 {
		out = append(out[:h-1], s.Muted.Render(fmt.Sprintf("↓ %d more lines: %s/%s/%s scroll", len(out)-h+1, m.keys.Scroll.Down.Help().Key, m.keys.Scroll.Up.Help().Key, m.keys.Scroll.PageDown.Help().Key)))
	}
	return clip(out, w, h)
}
