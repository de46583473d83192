// Command ansi2svg turns a terminal capture with SGR escapes (tmux
// capture-pane -e) into an SVG image, so screenshots come from the real
// program rather than mock-ups. Only SGR is interpreted; anything else in
// the capture is dropped.
//
//	ansi2svg [-cols 120] [-rows 40] [-title T] < capture.ansi > shot.svg
package main

import (
	"bufio"
	"flag"
	"fmt"
	"html"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

const (
	cellW    = 8.4
	cellH    = 17.0
	fontSize = 14.0
	pad      = 12.0
	defFG    = "#d4d4d4"
	defBG    = "#1e1e1e"
)

// style is the SGR state of one cell.
type style struct {
	fg, bg                                  string
	bold, faint, italic, under, rev, strike bool
}

// cell is one terminal cell; wide runes occupy the next cell as a filler.
type cell struct {
	r      string
	st     style
	filler bool
}

func main() {
	cols := flag.Int("cols", 120, "terminal columns")
	rows := flag.Int("rows", 40, "terminal rows")
	title := flag.String("title", "", "accessible title of the image")
	flag.Parse()
	grid, err := parse(os.Stdin, *cols, *rows)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ansi2svg:", err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	render(w, grid, *cols, *rows, *title)
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "ansi2svg:", err)
		os.Exit(1)
	}
}

// parse reads the capture into a rows×cols grid of cells.
func parse(r io.Reader, cols, rows int) ([][]cell, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading capture: %w", err)
	}
	grid := make([][]cell, rows)
	for i := range grid {
		grid[i] = make([]cell, cols)
	}
	var st style
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	for y, line := range lines {
		if y >= rows {
			break
		}
		x := 0
		for i := 0; i < len(line); {
			if line[i] == 0x1b {
				n := seqLen(line[i:])
				seq := line[i : i+n]
				if strings.HasPrefix(seq, "\x1b[") && strings.HasSuffix(seq, "m") {
					st = applySGR(st, seq[2:len(seq)-1])
				}
				i += n
				continue
			}
			g, w := ansi.FirstGraphemeCluster(line[i:], ansi.GraphemeWidth)
			i += len(g)
			if g == "\r" || w <= 0 {
				continue
			}
			if x+w > cols {
				break
			}
			grid[y][x] = cell{r: g, st: st}
			for k := 1; k < w; k++ {
				grid[y][x+k] = cell{filler: true, st: st}
			}
			x += w
		}
	}
	return grid, nil
}

// seqLen is the length of the escape sequence at the start of s.
func seqLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		for i := 2; i < len(s); i++ {
			if s[i] >= 0x40 && s[i] <= 0x7e {
				return i + 1
			}
		}
	case ']', 'P', '_':
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
	default:
		return 2
	}
	return len(s)
}

func applySGR(st style, params string) style {
	if params == "" {
		return style{}
	}
	p := strings.FieldsFunc(params, func(r rune) bool { return r == ';' || r == ':' })
	for i := 0; i < len(p); i++ {
		n, _ := strconv.Atoi(p[i])
		switch {
		case n == 0:
			st = style{}
		case n == 1:
			st.bold = true
		case n == 2:
			st.faint = true
		case n == 3:
			st.italic = true
		case n == 4:
			st.under = true
		case n == 7:
			st.rev = true
		case n == 9:
			st.strike = true
		case n == 22:
			st.bold, st.faint = false, false
		case n == 23:
			st.italic = false
		case n == 24:
			st.under = false
		case n == 27:
			st.rev = false
		case n == 29:
			st.strike = false
		case n >= 30 && n <= 37:
			st.fg = xterm(n - 30)
		case n >= 90 && n <= 97:
			st.fg = xterm(n - 90 + 8)
		case n == 39:
			st.fg = ""
		case n >= 40 && n <= 47:
			st.bg = xterm(n - 40)
		case n >= 100 && n <= 107:
			st.bg = xterm(n - 100 + 8)
		case n == 49:
			st.bg = ""
		case n == 38 || n == 48:
			var c string
			c, i = extColor(p, i)
			if n == 38 {
				st.fg = c
			} else {
				st.bg = c
			}
		}
	}
	return st
}

// extColor reads "5;n" or "2;r;g;b" after a 38/48 at p[i].
func extColor(p []string, i int) (string, int) {
	if i+1 >= len(p) {
		return "", i
	}
	switch p[i+1] {
	case "5":
		if i+2 < len(p) {
			n, _ := strconv.Atoi(p[i+2])
			return xterm(n), i + 2
		}
	case "2":
		if i+4 < len(p) {
			r, _ := strconv.Atoi(p[i+2])
			g, _ := strconv.Atoi(p[i+3])
			b, _ := strconv.Atoi(p[i+4])
			return fmt.Sprintf("#%02x%02x%02x", r, g, b), i + 4
		}
	}
	return "", i + 1
}

var base16 = []string{"#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
	"#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff"}

// xterm maps a 256-color index to RGB.
func xterm(n int) string {
	switch {
	case n < 0 || n > 255:
		return ""
	case n < 16:
		return base16[n]
	case n < 232:
		n -= 16
		lv := func(v int) int {
			if v == 0 {
				return 0
			}
			return 55 + v*40
		}
		return fmt.Sprintf("#%02x%02x%02x", lv(n/36), lv(n/6%6), lv(n%6))
	}
	g := 8 + (n-232)*10
	return fmt.Sprintf("#%02x%02x%02x", g, g, g)
}

func colors(st style) (fg, bg string) {
	fg, bg = st.fg, st.bg
	if fg == "" {
		fg = defFG
	}
	if st.rev {
		if bg == "" {
			bg = defBG
		}
		fg, bg = bg, fg
	}
	return fg, bg
}

func render(w io.Writer, grid [][]cell, cols, rows int, title string) {
	W, H := float64(cols)*cellW+2*pad, float64(rows)*cellH+2*pad
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img">`+"\n", W, H, W, H)
	if title != "" {
		fmt.Fprintf(w, "<title>%s</title>\n", html.EscapeString(title))
	}
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" rx="6" fill="%s"/>`+"\n", defBG)
	fmt.Fprintf(w, `<g font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="%.0f" xml:space="preserve">`+"\n", fontSize)
	for y, line := range grid {
		// Backgrounds first, as runs.
		for x := 0; x < cols; {
			_, bg := colors(line[x].st)
			end := x + 1
			for end < cols {
				if _, b2 := colors(line[end].st); b2 != bg {
					break
				}
				end++
			}
			if bg != "" {
				fmt.Fprintf(w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n",
					pad+float64(x)*cellW, pad+float64(y)*cellH, float64(end-x)*cellW+0.5, cellH+0.5, bg)
			}
			x = end
		}
		// Text runs of one style, placed per run with a forced length so
		// glyphs stay on the cell grid whatever font the viewer picks.
		for x := 0; x < cols; {
			c := line[x]
			if c.r == "" || c.r == " " || c.filler {
				x++
				continue
			}
			var sb strings.Builder
			end := x
			for end < cols && line[end].st == c.st && line[end].r != "" && !(line[end].r == " " && end+1 < cols && line[end+1].r == " ") {
				if !line[end].filler {
					sb.WriteString(line[end].r)
				}
				end++
			}
			fg, _ := colors(c.st)
			attrs := fmt.Sprintf(`fill="%s"`, fg)
			if c.st.bold {
				attrs += ` font-weight="bold"`
			}
			if c.st.italic {
				attrs += ` font-style="italic"`
			}
			if c.st.faint {
				attrs += ` fill-opacity="0.6"`
			}
			switch {
			case c.st.under && c.st.strike:
				attrs += ` text-decoration="underline line-through"`
			case c.st.under:
				attrs += ` text-decoration="underline"`
			case c.st.strike:
				attrs += ` text-decoration="line-through"`
			}
			fmt.Fprintf(w, `<text x="%.1f" y="%.1f" textLength="%.1f" lengthAdjust="spacingAndGlyphs" %s>%s</text>`+"\n",
				pad+float64(x)*cellW, pad+float64(y)*cellH+cellH*0.78, float64(end-x)*cellW, attrs, html.EscapeString(sb.String()))
			x = end
		}
	}
	fmt.Fprintln(w, "</g>\n</svg>")
}
