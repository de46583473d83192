package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/internal/visible"
)

// command is one `:` command: its name, arguments and what it does.
type command struct {
	name, args, help string
}

// commands are the `:` commands in help order. ip/ses/user filter the
// list by the field analysts pivot on most (k9s's :pod habit).
var commands = []command{
	{"ip", "ADDR", "alerts from source address ADDR"},
	{"ses", "N", "alerts of audit login session N"},
	{"user", "NAME", "alerts of user NAME"},
	{"filter", "KQL", "any KQL filter (as /)"},
	{"clear", "", "remove the filter"},
	{"sort", "COLUMN [asc|desc]", "sort by time, severity, process, user, ip, path, status"},
	{"export", "", "export the shown alerts as NDJSON"},
	{"pause", "", "pause live updates"},
	{"resume", "", "resume live updates"},
	{"help", "", "the help view"},
	{"quit", "", "quit"},
}

// kqlQuote quotes s as a KQL phrase.
func kqlQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// lookupCommand finds a command by its name or an unambiguous prefix.
func lookupCommand(name string) (command, bool) {
	var found []command
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
		if strings.HasPrefix(c.name, name) {
			found = append(found, c)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	if name == "q" || name == "session" {
		return lookupCommand(map[string]string{"q": "quit", "session": "ses"}[name])
	}
	return command{}, false
}

// runCommand runs one `:` line.
func (m *Model) runCommand(line string) tea.Cmd {
	name, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	arg = strings.TrimSpace(arg)
	if name == "" {
		return nil
	}
	c, ok := lookupCommand(name)
	if !ok {
		m.setFlash(true, "unknown command :%s (tab completes; ? lists them)", visible.String(name))
		return nil
	}
	if c.args != "" && arg == "" && c.name != "sort" {
		m.setFlash(true, ":%s needs %s", c.name, c.args)
		return nil
	}
	switch c.name {
	case "ip":
		return m.applyFilter("source.ip : " + kqlQuote(arg))
	case "ses":
		if _, err := strconv.ParseInt(arg, 10, 64); err != nil {
			m.setFlash(true, ":ses needs a session number, not %q", visible.String(arg))
			return nil
		}
		return m.applyFilter("xferhunt.session.id : " + arg)
	case "user":
		return m.applyFilter("user.name : " + kqlQuote(arg))
	case "filter":
		return m.applyFilter(arg)
	case "clear":
		return m.applyFilter("")
	case "sort":
		return m.sortCommand(arg)
	case "export":
		return m.exportCmd()
	case "pause":
		if !m.paused {
			m.togglePause()
		}
	case "resume":
		if m.paused {
			m.togglePause()
		}
	case "help":
		m.overlay = overlayHelp
	case "quit":
		nm, cmd := m.quit()
		*m = nm
		return cmd
	}
	return nil
}

// sortCommand is `:sort COLUMN [asc|desc]`; no column reverses the order.
func (m *Model) sortCommand(arg string) tea.Cmd {
	f := strings.Fields(arg)
	if len(f) == 0 {
		return m.sortBy(m.sortMode ^ alertdb.SortReverse)
	}
	mode, ok := alertdb.ParseSortColumn(f[0])
	if !ok {
		m.setFlash(true, "no column %q to sort by (%s)", visible.String(f[0]), strings.Join(alertdb.SortColumns(), ", "))
		return nil
	}
	if len(f) > 1 {
		switch strings.ToLower(f[1]) {
		case "asc", "up":
			if mode.Descending() {
				mode ^= alertdb.SortReverse
			}
		case "desc", "down":
			if !mode.Descending() {
				mode ^= alertdb.SortReverse
			}
		default:
			m.setFlash(true, "sort direction is asc or desc, not %q", visible.String(f[1]))
			return nil
		}
	}
	return m.sortBy(mode)
}

// complete completes the word before the end of the prompt: a command
// name or a sort column on the `:` line, a field name in a filter. One
// candidate is filled in; several fill their common prefix and are listed
// beside the prompt.
func (m *Model) complete() {
	text := string(m.input)
	var word string
	var cands []string
	switch {
	case m.overlay == overlayCommand && !strings.Contains(text, " "):
		word = text
		for _, c := range commands {
			cands = append(cands, c.name)
		}
	case m.overlay == overlayCommand && strings.HasPrefix(text, "sort "):
		word = text[strings.LastIndexByte(text, ' ')+1:]
		cands = alertdb.SortColumns()
	default:
		// A field name: the run of name characters at the end.
		i := len(text)
		for i > 0 && isFieldByte(text[i-1]) {
			i--
		}
		word = text[i:]
		cands = alertdb.FieldNames()
	}
	var hits []string
	for _, c := range cands {
		if strings.HasPrefix(c, word) {
			hits = append(hits, c)
		}
	}
	m.hint = ""
	switch len(hits) {
	case 0:
		m.hint = "no completion"
		return
	case 1:
		suffix := " "
		if m.overlay == overlayFilter || strings.HasPrefix(text, "filter ") {
			suffix = " : "
		}
		m.input = []rune(text[:len(text)-len(word)] + hits[0] + suffix)
		return
	}
	prefix := commonPrefix(hits)
	m.input = []rune(text[:len(text)-len(word)] + prefix)
	// Field names list their next segment, not every leaf under it.
	seen := map[string]bool{}
	var show []string
	for _, h := range hits {
		rest := h[len(prefix):]
		if j := strings.IndexByte(rest, '.'); j >= 0 {
			rest = rest[:j+1]
		}
		if !seen[rest] {
			seen[rest] = true
			show = append(show, prefix+rest)
		}
	}
	slices.Sort(show)
	m.hint = fmt.Sprintf("%d: %s", len(show), strings.Join(show, " "))
}

func isFieldByte(b byte) bool {
	return b == '.' || b == '_' || b == '@' || b == '-' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

func commonPrefix(s []string) string {
	p := s[0]
	for _, x := range s[1:] {
		for !strings.HasPrefix(x, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}
