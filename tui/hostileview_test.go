package tui

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/ecs"
)

// hostileText is what a colleague's exported alert can hold in any string
// and any key: an OSC title change ended by BEL, a CSI as C1 (U+009B), a
// right-to-left override, NUL, a cursor move, invalid UTF-8.
const hostileText = "x\x1b]0;owned\x07\u009b2J\u202etxt\x00\x1b[H\xff"

// sgr is the styling the TUI itself draws with; anything else that a
// terminal obeys must not reach the frame.
var sgr = regexp.MustCompile("\x1b\\[[0-9;:]*m")

func frameControl(frame string) string {
	out := sgr.ReplaceAllString(frame, "")
	for len(out) > 0 {
		r, n := utf8.DecodeRuneInString(out)
		switch {
		case r < 0x20 && r != '\n' && r != '\t', r == 0x7f, r >= 0x80 && r <= 0x9f,
			r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			i := len(frame) - len(out)
			return fmt.Sprintf("%q at %q", out[:n], frame[max(0, i-40):min(len(frame), i+40)])
		}
		out = out[n:]
	}
	return ""
}

// poison appends hostileText to every string in v and adds keys holding
// it.
func poison(v any) any {
	switch x := v.(type) {
	case string:
		return x + hostileText
	case []any:
		for i := range x {
			x[i] = poison(x[i])
		}
		return x
	case []string:
		for i := range x {
			x[i] += hostileText
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if k == "kibana.alert.uuid" || k == "@timestamp" || k == "kibana.alert.original_time" {
				out[k] = e
				continue
			}
			out[k] = poison(e)
		}
		return out
	case ecs.Doc:
		d := ecs.Doc(poison(map[string]any(x)).(map[string]any))
		// Keys too, under names of their own: field names are interned
		// for the whole process and offered by completion, which other
		// tests draw.
		d["zzhostile"+hostileText] = hostileText
		d["zzhostile"] = map[string]any{"key" + hostileText: []any{hostileText, map[string]any{hostileText: 1}}}
		return d
	}
	return v
}

// TestHostileViewAlertNeverReachesTerminalRaw: an alert (as `view` reads
// a hostile export) with terminal controls in every value and key is
// drawn in the list, every detail tab, with a filter typed and after
// triage, and no frame carries a control a terminal would obey.
func TestHostileViewAlertNeverReachesTerminalRaw(t *testing.T) {
	as := tableAlerts()
	for i := range as {
		as[i] = detect.Alert{Doc: poison(as[i].Doc).(ecs.Doc)}
	}
	if frameControl("ok\x1b[1mstyled\x1b[0m") != "" || frameControl("a\x1b]0;x\x07") == "" || frameControl("\u202e") == "" {
		t.Fatal("frameControl does not tell styling from controls")
	}
	m := New(Options{Backend: newMemBackend(), Now: func() time.Time { return base }, Location: time.UTC, Here: testHere})
	m, _ = step(t, m, tea.WindowSizeMsg{Width: 140, Height: 40})
	m, _ = step(t, m, AlertsMsg{Alerts: as})
	m, _ = step(t, m, testHealth())
	check := func(what string) {
		t.Helper()
		if c := frameControl(m.View().Content); c != "" {
			t.Errorf("%s: raw control %s", what, c)
		}
	}
	check("list")
	for _, sort := range []string{"s", "s", "s"} {
		m = keys(t, m, sort)
		check("sorted")
	}
	m = keys(t, m, "enter")
	for i := range 8 {
		check(fmt.Sprintf("detail tab %d", i))
		for range 3 {
			m = keys(t, m, "pgdown")
			check(fmt.Sprintf("detail tab %d scrolled", i))
		}
		m = keys(t, m, "tab")
	}
	m = keys(t, m, "esc", "/")
	m = typeText(t, m, "owned")
	check("filter typed")
	m = keys(t, m, "enter")
	check("filtered")
	if !strings.Contains(screen(m), `\x1b]0;owned`) {
		t.Errorf("the hostile rows are not shown escaped after the filter:\n%s", screen(m))
	}
}
