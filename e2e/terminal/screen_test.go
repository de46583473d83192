package terminal

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// listRows returns the rows of the alert list on screen: the lines after the
// column header, up to the first blank line (the list is followed by empty
// space, the detail pane or the status bar).
func listRows(scr []string) []string {
	start := -1
	for i, l := range scr {
		if strings.Contains(l, "severity") && strings.Contains(l, "file path") {
			start = i + 1
			break
		}
	}
	if start < 0 {
		return nil
	}
	var rows []string
	for _, l := range scr[start:] {
		if strings.TrimSpace(l) == "" || isTabBar(l) {
			break
		}
		rows = append(rows, l)
	}
	return rows
}

// rowsMatch reports why the list rows on screen differ from want (in order),
// or "" when they are the same.
func rowsMatch(rows []string, want []alertRow) string {
	if len(rows) != len(want) {
		return fmt.Sprintf("%d rows on screen, want %d (%v)", len(rows), len(want), want)
	}
	for i := range want {
		if err := matchRow(rows[i], want[i]); err != nil {
			return fmt.Sprintf("row %d: %v", i, err)
		}
	}
	return ""
}

// matchRow checks one list row against an expected alert: time, process,
// user and source ip as cells, and the file path cell either whole or, when
// the column is narrow, cut from the left behind an ellipsis.
func matchRow(line string, a alertRow) error {
	ipAt := strings.Index(line, " "+a.ip+" ")
	if a.ip == "" || ipAt < 0 {
		return fmt.Errorf("source ip %q not in %q", a.ip, line)
	}
	cells := strings.Fields(line[:ipAt])
	// Times are UTC with a Z unless --time local says otherwise.
	for _, want := range []string{a.when.UTC().Format("15:04:05") + "Z", a.process, a.user} {
		if !contains(cells, want) {
			return fmt.Errorf("cell %q not in %q", want, line)
		}
	}
	path := strings.TrimSpace(line[ipAt+len(a.ip)+2:])
	want := a.display()
	if path == want {
		return nil
	}
	if tail, ok := strings.CutPrefix(path, "…"); ok && len(tail) >= 8 && strings.HasSuffix(want, tail) {
		return nil
	}
	return fmt.Errorf("file path cell %q, want %q (or its tail)", path, want)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// tabNames are the detail tabs in order.
var tabNames = []string{"Overview", "Process", "User", "File", "Connection", "Raw", "Guide"}

// isTabBar reports whether l is the detail pane's tab bar.
func isTabBar(l string) bool {
	return strings.HasPrefix(l, "Overview │ Process │")
}

// tabBarIndex is the row of the tab bar, or -1.
func tabBarIndex(scr []string) int {
	for i, l := range scr {
		if isTabBar(l) {
			return i
		}
	}
	return -1
}

// below returns the screen text after the tab bar (the open tab's content).
func below(scr []string) string {
	i := tabBarIndex(scr)
	if i < 0 {
		return ""
	}
	return strings.Join(scr[i+1:], "\n")
}

// activeTab finds the tab bar in a capture-pane -e dump and returns the one
// tab drawn underlined (the active-tab style in colour and NO_COLOR themes),
// or an error when none or several are.
func activeTab(dump string) (string, error) {
	for _, line := range strings.Split(dump, "\n") {
		text, ul := underlined(line)
		if !isTabBar(text) {
			continue
		}
		var on []string
		for _, name := range tabNames {
			i := strings.Index(text, name)
			if i < 0 {
				return "", fmt.Errorf("tab %q missing from %q", name, text)
			}
			if ul[utf8.RuneCountInString(text[:i])] {
				on = append(on, name)
			}
		}
		if len(on) != 1 {
			return "", fmt.Errorf("underlined tabs %v in %q", on, text)
		}
		return on[0], nil
	}
	return "", fmt.Errorf("no tab bar on screen")
}

// underlined strips SGR sequences from one captured line and returns the
// text and, per rune, whether it was drawn underlined.
func underlined(line string) (string, []bool) {
	var text strings.Builder
	var ul []bool
	on := false
	for i := 0; i < len(line); {
		if seq, params, ok := sgrAt(line, i); ok {
			on = applyUnderline(on, params)
			i += len(seq)
			continue
		}
		r, n := utf8.DecodeRuneInString(line[i:])
		text.WriteRune(r)
		ul = append(ul, on)
		i += n
	}
	return text.String(), ul
}

// applyUnderline updates the underline state for one SGR parameter list.
func applyUnderline(on bool, params []string) bool {
	for j := 0; j < len(params); j++ {
		p := params[j]
		switch {
		case p == "" || p == "0":
			on = false
		case p == "4" || (strings.HasPrefix(p, "4:") && p != "4:0"):
			on = true
		case p == "24" || p == "4:0":
			on = false
		case p == "38" || p == "48" || p == "58":
			// Extended colour: skip its arguments.
			if j+1 < len(params) && params[j+1] == "5" {
				j += 2
			} else if j+1 < len(params) && params[j+1] == "2" {
				j += 4
			}
		}
	}
	return on
}

// sgrAt reports whether an SGR sequence (ESC [ params m) starts at s[i].
func sgrAt(s string, i int) (seq string, params []string, ok bool) {
	if !strings.HasPrefix(s[i:], "\x1b[") {
		return "", nil, false
	}
	j := i + 2
	for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';' || s[j] == ':') {
		j++
	}
	if j >= len(s) || s[j] != 'm' {
		return "", nil, false
	}
	return s[i : j+1], strings.Split(s[i+2:j], ";"), true
}

// escapeProblems lists every escape sequence in a capture-pane -e dump that
// is not an SGR attribute change, and every BEL: tmux re-encodes the cells it
// holds as SGR only, so anything else means raw control bytes reached the
// screen as text.
func escapeProblems(dump string) []string {
	var bad []string
	for i := 0; i < len(dump); i++ {
		switch dump[i] {
		case 0x1b:
			if seq, _, ok := sgrAt(dump, i); ok {
				i += len(seq) - 1
				continue
			}
			bad = append(bad, strconv.Quote(dump[i:min(len(dump), i+12)]))
		case 0x07:
			bad = append(bad, "BEL at byte "+strconv.Itoa(i))
		}
	}
	return bad
}

// colorParams returns the SGR parameters in dump that set a foreground or
// background colour (30–37, 38, 39 excluded, 40–47, 48, 90–97, 100–107).
func colorParams(dump string) []string {
	var out []string
	for i := 0; i < len(dump); i++ {
		seq, params, ok := sgrAt(dump, i)
		if !ok {
			continue
		}
		i += len(seq) - 1
		for j := 0; j < len(params); j++ {
			p := params[j]
			n, err := strconv.Atoi(strings.SplitN(p, ":", 2)[0])
			if err != nil {
				continue
			}
			switch {
			case n == 38 || n == 48:
				out = append(out, seq)
				j = len(params)
			case n >= 30 && n <= 37, n >= 40 && n <= 47, n >= 90 && n <= 97, n >= 100 && n <= 107:
				out = append(out, seq)
			}
		}
	}
	return out
}
