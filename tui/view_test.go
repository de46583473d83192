package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/xferhunt/xferhunt/sources"
)

func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "ctrl+n":
		return tea.KeyPressMsg{Code: 'n', Mod: tea.ModCtrl}
	case "ctrl+x":
		return tea.KeyPressMsg{Code: 'x', Mod: tea.ModCtrl}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

// step applies msg and runs the resulting Cmds synchronously, feeding
// their results back, the way the program would.
func step(t testing.TB, m Model, msg tea.Msg) (Model, []tea.Msg) {
	t.Helper()
	var seen []tea.Msg
	queue := []tea.Msg{msg}
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		seen = append(seen, next)
		nm, cmd := m.Update(next)
		m = nm.(Model)
		if cmd == nil {
			continue
		}
		out := cmd()
		if b, ok := out.(tea.BatchMsg); ok {
			for _, c := range b {
				if c != nil {
					queue = append(queue, c())
				}
			}
			continue
		}
		switch out.(type) {
		case filterResultMsg, statusSavedMsg, excPreviewMsg, excSavedMsg, excListMsg, excDeletedMsg, excExportedMsg, recheckedMsg, killPlanMsg, actionMsg, evidenceMsg, responsesMsg, exportedMsg, storyMsg, storySearchMsg:
			queue = append(queue, out)
		default:
			seen = append(seen, out) // clipboard, quit: observed, not fed back
		}
	}
	return m, seen
}

func keys(t testing.TB, m Model, ks ...string) Model {
	t.Helper()
	for _, k := range ks {
		m, _ = step(t, m, press(k))
	}
	return m
}

func testModel(t testing.TB, b *memBackend, w, h int) Model {
	t.Helper()
	m := New(Options{Backend: b, Now: func() time.Time { return base }, Location: time.UTC, Here: testHere})
	m, _ = step(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	m, _ = step(t, m, AlertsMsg{Alerts: tableAlerts()})
	m, _ = step(t, m, testHealth())
	return m
}

func testHealth() HealthMsg {
	return HealthMsg{
		Sources: []sources.Health{
			{Name: "netlink", Live: true, Records: 91234, Events: 20311, Lost: 3},
			{Name: "auditd-log", Live: true, Records: 500000, Events: 120000, Malformed: 2},
		},
		Stats: Stats{Events: 140311, Matches: 812, Alerts: 5, HeldBack: 1, Terms: 4411, HistoryWindow: 7 * 24 * time.Hour, Coverage: base.Add(-50 * time.Hour), EventsPerSec: 42},
		At:    base,
	}
}

func screen(m Model) string { return ansi.Strip(m.View().Content) }

// views are the states golden-tested at each size.
var views = []struct {
	name string
	keys []string
}{
	{"list", nil},
	{"overview", []string{"enter"}},
	{"process", []string{"enter", "tab"}},
	{"user", []string{"enter", "tab", "tab"}},
	{"file", []string{"enter", "tab", "tab", "tab"}},
	{"connection", []string{"enter", "tab", "tab", "tab", "tab"}},
	{"raw", []string{"enter", "shift+tab", "shift+tab"}},
	{"guide", []string{"enter", "shift+tab"}},
	{"help", []string{"?"}},
	{"filter", []string{"/", "u", "s", "e", "r", ".", "n"}},
	{"kill", []string{"K"}},
	{"exception", []string{"enter", "tab", "x"}},
	{"evil-row", []string{"down"}},
	{"sort-user", []string{"s", "s", "s"}},
	{"sort-ip-reversed", []string{"s", "s", "s", "s", "S"}},
	{"paused", []string{"p"}},
	{"raw-search", []string{"enter", "shift+tab", "shift+tab", "/", "u", "u", "i", "d", "enter"}},
	{"complete-field", []string{"/", "u", "s", "e", "r", ".", "tab"}},
	{"complete-command", []string{":", "s", "o", "tab", "u"}},
	{"detail-help", []string{"enter", "?"}},
}

func TestGolden(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		for _, v := range views {
			t.Run(fmt.Sprintf("%s_%dx%d", v.name, sz[0], sz[1]), func(t *testing.T) {
				m := keys(t, testModel(t, newMemBackend(), sz[0], sz[1]), v.keys...)
				out := screen(m)
				checkFits(t, out, sz[0], sz[1])
				golden.RequireEqual(t, out)
			})
		}
	}
}

func checkFits(t *testing.T, out string, w, h int) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) > h {
		t.Errorf("%d lines on a %d-line terminal", len(lines), h)
	}
	for i, l := range lines {
		if got := ansi.StringWidth(l); got > w {
			t.Errorf("line %d is %d cells wide on a %d-cell terminal: %q", i, got, w, l)
		}
	}
}

// TestWidthSweep renders every view at every width and checks no line
// overflows; ANSI styling is measured, not stripped.
func TestWidthSweep(t *testing.T) {
	for _, h := range []int{10, 24, 48} {
		for _, v := range views {
			// Build the state once, then resize through it: this also
			// exercises WindowSizeMsg handling mid-state.
			m := keys(t, testModel(t, newMemBackend(), 160, h), v.keys...)
			stepW := 1
			if h == 48 {
				stepW = 5
			}
			for w := 20; w <= 220; w += stepW {
				m, _ = step(t, m, tea.WindowSizeMsg{Width: w, Height: h})
				raw := m.View().Content
				lines := strings.Split(raw, "\n")
				if len(lines) > h {
					t.Fatalf("%s %dx%d: %d lines", v.name, w, h, len(lines))
				}
				for i, l := range lines {
					if sw := ansi.StringWidth(l); sw > w {
						t.Fatalf("%s %dx%d: line %d is %d wide: %q", v.name, w, h, i, sw, ansi.Strip(l))
					}
				}
			}
		}
	}
}

// TestNoRawControlBytes: host strings with ESC/newlines never reach the
// terminal raw, in any view.
func TestNoRawControlBytes(t *testing.T) {
	for _, v := range views {
		m := keys(t, testModel(t, newMemBackend(), 160, 48), v.keys...)
		m = keys(t, m, "G") // select the newest-last: the evil path rows
		text := ansi.Strip(m.View().Content)
		if strings.ContainsAny(text, "\x1b\r\x07") {
			t.Errorf("%s: raw control byte in output", v.name)
		}
		for _, l := range strings.Split(text, "\n") {
			if strings.Contains(l, "EVIL") && !strings.Contains(l, "[31mEVIL") {
				t.Errorf("%s: escape not made visible: %q", v.name, l)
			}
		}
	}
}

func TestNoColor(t *testing.T) {
	b := newMemBackend()
	m := New(Options{Backend: b, NoColor: true, Location: time.UTC})
	m, _ = step(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
	m, _ = step(t, m, AlertsMsg{Alerts: tableAlerts()})
	out := m.View().Content
	for _, sgr := range []string{"38;", "48;"} {
		if strings.Contains(out, sgr) {
			t.Fatalf("NO_COLOR output carries a color sequence %q", sgr)
		}
	}
	if !strings.Contains(out, "\x1b[7m") {
		t.Fatal("NO_COLOR lost the reverse-video selection")
	}
	colored := testModel(t, b, 100, 30).View().Content
	if !strings.Contains(colored, "38;") {
		t.Fatal("colored output has no foreground colors")
	}
}

func TestLightAndDarkDiffer(t *testing.T) {
	m := testModel(t, newMemBackend(), 100, 30)
	dark := m.View().Content
	m, _ = step(t, m, tea.BackgroundColorMsg{Color: lightBG{}})
	light := m.View().Content
	if dark == light {
		t.Fatal("light background did not change the styles")
	}
	if ansi.Strip(dark) != ansi.Strip(light) {
		t.Fatal("background changed the text, not just the colors")
	}
}

type lightBG struct{}

func (lightBG) RGBA() (r, g, b, a uint32) { return 0xffff, 0xffff, 0xffff, 0xffff }

func TestTooSmall(t *testing.T) {
	m := testModel(t, newMemBackend(), 25, 8)
	if !strings.Contains(screen(m), "too small") {
		t.Fatalf("no notice: %q", screen(m))
	}
}
