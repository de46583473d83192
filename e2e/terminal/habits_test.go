package terminal

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// habitApp starts the TUI over the capture's raw log without its last
// (hostile) upload, w×h, with more environment, and waits for the rows.
func habitApp(t *testing.T, w, h int, env ...string) (*app, []alertRow, []byte) {
	t.Helper()
	raw, _ := capture(t)
	initial, rest := splitBefore(t, raw, hostileHex)
	dir, err := os.MkdirTemp("", "xhh")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	before, _ := scanAlerts(t, writeTemp(t, initial), detectFlags...)
	a := startAppIn(t, w, h, appOptions{initial: initial, flags: detectFlags, dir: dir, log: "audit.log", env: env})
	a.launch()
	a.waitScreen("the backfilled alerts", 15*time.Second, func(scr []string) bool {
		return len(listRows(scr)) == len(before)
	})
	return a, before, rest
}

func writeTemp(t *testing.T, b []byte) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// header is the list's column header line.
func header(scr []string) string {
	for _, l := range scr {
		if strings.Contains(l, "severity") && strings.Contains(l, "file path") {
			return l
		}
	}
	return ""
}

// TestTerminalSortMarker: s, s, s sorts by user; the header marks that
// column ▲ and the rows follow it, at 80×24 and 160×48; S reverses (▼).
func TestTerminalSortMarker(t *testing.T) {
	requireTmux(t)
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			a, rows, _ := habitApp(t, sz[0], sz[1])
			a.keys("s", "s", "s")
			// The marker shows at once; the rows follow when the sort Cmd's
			// order arrives (off the UI loop), so the wait is for both.
			a.waitScreen("user▲ in the column header and rows sorted by user", 10*time.Second, func(scr []string) bool {
				return strings.Contains(header(scr), "user▲") && strings.Contains(scr[0], "sort user ↑") &&
					slices.IsSorted(userColumn(t, scr, rows))
			})
			a.keys("S")
			a.waitScreen("user▼ after S and rows reverse-sorted", 10*time.Second, func(scr []string) bool {
				users := userColumn(t, scr, rows)
				slices.Reverse(users)
				return strings.Contains(header(scr), "user▼") && slices.IsSorted(users)
			})
			a.quit()
		})
	}
}

// userColumn reads each list row's user cell (a known user name).
func userColumn(t *testing.T, scr []string, rows []alertRow) []string {
	t.Helper()
	var out []string
	for _, l := range listRows(scr) {
		found := ""
		for _, r := range rows {
			if strings.Contains(l, " "+r.user+" ") {
				found = r.user
			}
		}
		if found == "" {
			t.Fatalf("no user in row %q", l)
		}
		out = append(out, found)
	}
	return out
}

// TestTerminalPause: p freezes the list; an upload logged meanwhile is
// counted in the header, not shown; p shows it.
func TestTerminalPause(t *testing.T) {
	requireTmux(t)
	a, before, rest := habitApp(t, 100, 30)
	a.keys("p")
	a.waitScreen("the pause indicator", 10*time.Second, func(scr []string) bool {
		return strings.Contains(scr[0], "⏸ PAUSED +0 new")
	})
	a.appendLog(rest)
	scr := a.waitScreen("one alert held", 15*time.Second, func(scr []string) bool {
		return strings.Contains(scr[0], "⏸ PAUSED +1 new")
	})
	if n := len(listRows(scr)); n != len(before) {
		t.Fatalf("paused list shows %d rows, want %d", n, len(before))
	}
	a.keys("p")
	a.waitScreen("the held alert shown on resume", 10*time.Second, func(scr []string) bool {
		return !strings.Contains(scr[0], "PAUSED") && len(listRows(scr)) == len(before)+1 && strings.Contains(scr[len(scr)-1], "1 alerts arrived while paused")
	})
	a.quit()
}

// matchBG is a cell run drawn with a background colour (the match style)
// right before the text it highlights.
var matchBG = regexp.MustCompile(`\x1b\[[0-9;]*48;[0-9;]*mworkflow_status`)

// TestTerminalDetailHabits: keys sent in one batch with enter are kept
// (x opens the exception question); in the Raw tab / finds and
// highlights a term; G reaches the audit records; : completes commands.
func TestTerminalDetailHabits(t *testing.T) {
	requireTmux(t)
	a, _, _ := habitApp(t, 100, 30)
	a.keys("Enter", "x") // one send-keys: one read by the program
	// Overview focuses the rule name, an alert field: x answers why no
	// exception can be made there. Before, x in that batch was dropped.
	a.waitScreen("x's answer", 10*time.Second, func(scr []string) bool {
		return strings.Contains(strings.Join(scr, ""), "choose an event field")
	})
	a.keys("BTab", "BTab")
	a.waitTab("Raw", func(string) bool { return true })
	a.keys("/")
	a.typeText("workflow_status")
	a.keys("Enter")
	// The prompt closed (enter read, so every letter was) and the match
	// on screen.
	a.waitScreen("the match on screen", 10*time.Second, func(scr []string) bool {
		return !strings.HasPrefix(scr[len(scr)-1], "/ ") && strings.Contains(below(scr), `"kibana.alert.workflow_status"`)
	})
	if dump := a.screenEscapes(); !matchBG.MatchString(dump) {
		t.Fatalf("the hit is not highlighted in the Raw tab:\n%q", dump)
	}
	a.keys("G")
	a.waitScreen("the audit records at the bottom", 10*time.Second, func(scr []string) bool {
		return strings.Contains(below(scr), "type=PATH") || strings.Contains(below(scr), "type=SYSCALL")
	})
	a.keys("Escape")
	a.waitScreen("the list", 10*time.Second, func(scr []string) bool { return tabBarIndex(scr) < 0 })
	a.keys(":")
	a.typeText("so")
	a.keys("Tab")
	a.waitScreen(": completing sort", 10*time.Second, func(scr []string) bool {
		return strings.HasPrefix(scr[len(scr)-1], ": sort █")
	})
	a.typeText("ip")
	a.keys("Enter")
	a.waitScreen("sorted by source ip", 10*time.Second, func(scr []string) bool {
		return strings.Contains(header(scr), "source ip▲")
	})
	a.quit()
}

// TestTerminalWide: at 200×50 with an alert open the list keeps the room
// the detail pane does not need, and paths are shown whole.
func TestTerminalWide(t *testing.T) {
	requireTmux(t)
	a, rows, _ := habitApp(t, 200, 50)
	a.keys("Enter")
	scr := a.waitScreen("the detail beside the list", 10*time.Second, func(scr []string) bool {
		return strings.Contains(scr[1], "│Overview │ Process │")
	})
	if at := strings.Index(scr[1], "│Overview"); len([]rune(scr[1][:at])) != 200-96-1 {
		t.Errorf("list is %d columns wide, want %d", len([]rune(scr[1][:at])), 200-96-1)
	}
	list := listRows(scr)
	if len(list) < len(rows) {
		t.Fatalf("%d rows on screen, want %d", len(list), len(rows))
	}
	for i, l := range list[:len(rows)] {
		cell := strings.Split(l, "│")[0]
		if !strings.Contains(cell, rows[i].display()) {
			t.Errorf("row %d path cut: %q, want %q whole", i, cell, rows[i].display())
		}
	}
	a.quit()
}

// TestTerminalTimeZones: UTC by default (a Z on every time); with
// XFERHUNT_TIME=local the zone of TZ, named in the header, under two
// zones on either side of UTC.
func TestTerminalTimeZones(t *testing.T) {
	requireTmux(t)
	for _, c := range []struct {
		env        []string
		zone, abbr string
	}{
		{nil, "UTC", "UTC"},
		{[]string{"TZ=America/New_York", "XFERHUNT_TIME=local"}, "America/New_York", "EST"},
		{[]string{"TZ=Asia/Kolkata", "XFERHUNT_TIME=local"}, "Asia/Kolkata", "IST"},
	} {
		t.Run(c.abbr, func(t *testing.T) {
			loc, err := time.LoadLocation(c.zone)
			if err != nil {
				t.Skipf("no zone data for %s: %v", c.zone, err)
			}
			a, rows, _ := habitApp(t, 160, 30, c.env...)
			want := rows[0].when.In(loc).Format("2006-01-02 15:04:05")
			if c.abbr == "UTC" {
				want += "Z"
			}
			scr := a.waitScreen("times in "+c.zone, 10*time.Second, func(scr []string) bool {
				r := listRows(scr)
				return len(r) > 0 && strings.Contains(r[0], want+" ")
			})
			if !strings.Contains(scr[0], c.abbr) {
				t.Errorf("header %q does not name %s", scr[0], c.abbr)
			}
			a.keys("Enter")
			// Side by side at 160 columns: the list keeps the time of day
			// only, so the full time on screen is Overview's.
			a.waitScreen("Overview's event time in "+c.zone, 10*time.Second, func(scr []string) bool {
				all := strings.Join(scr, "\n")
				return strings.Contains(all, "event time") && strings.Contains(all, want)
			})
			a.quit()
		})
	}
}
