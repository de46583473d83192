package terminal

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// hostileHex is how auditd logs the step-6 file name
// "/tmp/evil ESC ]0;pwned BEL name NEWLINE line2.bin" (hex, since it holds
// control characters); the event carrying it is held back and appended
// while the TUI runs.
const hostileHex = "2F746D702F6576696C1B5D303B70776E656407"

// hostileShown is the escaped form the SPEC promises for that name.
const hostileShown = `/tmp/evil\x1b]0;pwned\x07 name\nline2.bin`

// knownTitle is set on the pane before xferhunt starts.
const knownTitle = "e2e-before"

// capture reads the recorded auditd logs from testdata/capture.
func capture(t *testing.T) (raw, enriched []byte) {
	t.Helper()
	var err error
	dir := filepath.Join(repoRoot, "testdata", "capture")
	if raw, err = os.ReadFile(filepath.Join(dir, "raw.log")); err != nil {
		t.Fatal(err)
	}
	if enriched, err = os.ReadFile(filepath.Join(dir, "enriched.log")); err != nil {
		t.Fatal(err)
	}
	return raw, enriched
}

// expectations runs `xferhunt scan` with the TUI's flags over the initial log
// and over the complete one, giving the rows the TUI must show before and
// after the appends, and the event count after them.
func expectations(t *testing.T, initial, final []byte) (before, after []alertRow, events int) {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	before, _ = scanAlerts(t, write("initial.log", initial), detectFlags...)
	after, events = scanAlerts(t, write("final.log", final), detectFlags...)
	// Guard the premise of the test: the held-back event is the only new
	// alert, it is the hostile name, and it is the newest (so it lands on
	// top, under the cursor).
	if len(after) != len(before)+1 || len(before) < 2 {
		t.Fatalf("scan gives %d alerts before and %d after the appends; the test expects one more after", len(before), len(after))
	}
	if after[0].display() != hostileShown {
		t.Fatalf("newest alert is %v, want the hostile name %s", after[0], hostileShown)
	}
	if len(filterRows(after, "scp")) == 0 || len(filterRows(after, "scp")) == len(after) {
		t.Fatalf("scan alerts %v: the filter step needs some scp rows and some others", after)
	}
	return before, after, events
}

// TestTerminalFlow is the acceptance flow in a real terminal at two sizes:
// backfill, live appends (including a name carrying an OSC title sequence),
// drill-down through every tab, KQL filter, quit.
func TestTerminalFlow(t *testing.T) {
	requireTmux(t)
	for _, size := range []struct{ w, h int }{{120, 40}, {80, 24}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			testFlow(t, size.w, size.h)
		})
	}
}

func testFlow(t *testing.T, w, h int) {
	raw, enriched := capture(t)
	initial, rest := splitBefore(t, raw, hostileHex)
	final := append(append(append([]byte{}, initial...), rest...), enriched...)
	before, after, events := expectations(t, initial, final)
	hostile := after[0]

	a := startApp(t, w, h, false, initial)
	a.must("select-pane", "-t", a.target, "-T", knownTitle)
	if got := a.title(); got != knownTitle {
		t.Fatalf("pane title %q after select-pane -T, want %q", got, knownTitle)
	}
	a.launch()

	// Backfill: the rows scan finds in the initial log.
	a.waitRows("the backfilled alerts", before)
	title0 := a.title()
	if title0 != knownTitle && title0 != "xferhunt" {
		t.Errorf("pane title %q after start, want %q or xferhunt's own title", title0, knownTitle)
	}

	// Live: the tailer must pick up what is appended; the hostile event
	// arrives first, then a whole second capture (which adds events but,
	// with these new-terms fields, no alerts).
	a.appendLog(rest)
	a.appendLog(enriched)
	scr := a.waitRows("the live alerts", after)
	a.waitScreen(fmt.Sprintf("status bar counting %d events", events), 10*time.Second, func(scr []string) bool {
		return statusLine(scr, a.log, events) != ""
	})

	// The hostile name: escaped text on screen, no terminal control.
	if !strings.HasPrefix(listRows(scr)[0], "▸") {
		t.Errorf("newest row is not selected: %q", listRows(scr)[0])
	}
	if w >= 120 && !strings.Contains(strings.Join(scr, "\n"), hostileShown) {
		t.Errorf("list does not show %s in full at %d columns", hostileShown, w)
	}
	checkNoControl(t, a, title0)
	dump := a.screenEscapes()
	if len(colorParams(dump)) == 0 {
		t.Errorf("colour run: no colour SGR in capture-pane -e, so the NO_COLOR test proves nothing:\n%q", dump)
	}

	// Drill-down into the hostile alert, every tab in order and back round.
	a.keys("Enter")
	c := a.waitTab("Overview", func(c string) bool {
		return strings.Contains(c, "New term") && strings.Contains(c, hostileShown)
	})
	if strings.Contains(c, "Query clauses") && strings.Contains(c, "raised during backfill") {
		t.Errorf("Overview marks the live alert as historical:\n%s", c)
	}
	tabs := []struct {
		name   string
		want   []string
		scroll bool // the text may be below the first screenful
	}{
		{"Process", []string{hostile.executable, hostile.pid}, false},
		{"User", []string{hostile.user}, false},
		{"File", []string{hostileShown}, false},
		{"Connection", []string{hostile.ip + ":" + hostile.port}, false},
		{"Raw", []string{"type=SYSCALL"}, true},
		{"Guide", []string{"Triage and analysis"}, false},
		{"Overview", []string{"New term"}, false},
	}
	for _, tab := range tabs {
		a.keys("Tab")
		if tab.scroll {
			a.waitTab(tab.name, func(string) bool { return true })
			scrollUntil(t, a, tab.name, tab.want)
		} else {
			a.waitTab(tab.name, func(c string) bool { return containsAll(c, tab.want) })
		}
		if tab.name == "Connection" {
			checkConnection(t, a, hostile)
		}
		checkNoControl(t, a, title0)
	}

	// Back to the list; a backfilled alert says so in its Overview.
	a.keys("Escape")
	a.waitScreen("the list without the detail pane", 10*time.Second, func(scr []string) bool {
		return tabBarIndex(scr) < 0 && rowsMatch(listRows(scr), after) == ""
	})
	if w >= 120 {
		a.keys("j", "Enter")
		a.waitTab("Overview", func(c string) bool {
			return strings.Contains(c, after[1].display()) && strings.Contains(c, "raised during backfill")
		})
		// Wait for the detail to close: ESC and k sent together would
		// arrive as one alt+k.
		a.keys("Escape")
		a.waitScreen("the detail pane closed", 10*time.Second, func(scr []string) bool {
			return tabBarIndex(scr) < 0
		})
		a.keys("k")
		a.waitScreen("the hostile row selected again", 10*time.Second, func(scr []string) bool {
			rows := listRows(scr)
			return tabBarIndex(scr) < 0 && len(rows) > 0 && strings.HasPrefix(rows[0], "▸")
		})
	}

	// KQL filter: only the scp rows remain; then clear it.
	scp := filterRows(after, "scp")
	a.keys("/")
	a.waitScreen("the filter prompt", 10*time.Second, func(scr []string) bool {
		return strings.HasPrefix(scr[len(scr)-1], "/ ")
	})
	a.typeText("process.name:scp")
	a.keys("Enter")
	a.waitRows("only the scp rows", scp)
	shown := fmt.Sprintf("%d/%d shown", len(scp), len(after))
	a.waitScreen(shown+" in the header", 10*time.Second, func(scr []string) bool {
		return strings.Contains(scr[0], shown)
	})
	a.keys("/")
	a.waitScreen("the filter prompt holding the filter", 10*time.Second, func(scr []string) bool {
		return strings.HasPrefix(scr[len(scr)-1], "/ process.name:scp")
	})
	a.keys("C-u", "Enter")
	a.waitRows("all rows after clearing the filter", after)
	all := fmt.Sprintf("%d/%d shown", len(after), len(after))
	a.waitScreen(all+" and no filter in the header", 10*time.Second, func(scr []string) bool {
		return strings.Contains(scr[0], all) && !strings.Contains(scr[0], "process.name:scp")
	})

	checkNoControl(t, a, title0)
	a.quit()
}

// TestTerminalNoColor checks that NO_COLOR=1 leaves no colour in what the
// terminal holds, while selection and the active tab stay visible through
// attributes alone.
func TestTerminalNoColor(t *testing.T) {
	requireTmux(t)
	raw, _ := capture(t)
	rows, _ := scanAlerts(t, filepath.Join(repoRoot, "testdata", "capture", "raw.log"), detectFlags...)
	a := startApp(t, 80, 24, true, raw)
	a.launch()
	scr := a.waitRows("the alerts", rows)
	if !strings.HasPrefix(listRows(scr)[0], "▸") {
		t.Errorf("NO_COLOR: selected row lacks the ▸ marker: %q", listRows(scr)[0])
	}
	if bad := colorParams(a.screenEscapes()); len(bad) > 0 {
		t.Errorf("NO_COLOR=1: colour SGR in the list view: %q", bad)
	}
	a.keys("Enter")
	a.waitTab("Overview", func(c string) bool { return strings.Contains(c, "New term") })
	a.keys("Tab")
	a.waitTab("Process", func(c string) bool { return strings.Contains(c, rows[0].executable) })
	if bad := colorParams(a.screenEscapes()); len(bad) > 0 {
		t.Errorf("NO_COLOR=1: colour SGR in the detail view: %q", bad)
	}
	a.quit()
}

// TestTitleProbe proves the title check can fail: a pane that really
// receives ESC ] 0 ; pwned BEL gets the title "pwned" from tmux.
func TestTitleProbe(t *testing.T) {
	s := newSession(t, 80, 24, `printf '\033]0;pwned\007'; sleep 30`)
	s.waitFunc("the pane title to become pwned", 5*time.Second, func() (bool, string) {
		got := s.title()
		return got == "pwned", got
	})
}

// checkNoControl asserts that the pane title is still what xferhunt left it
// at and that the screen holds nothing but text and SGR attributes.
func checkNoControl(t *testing.T, a *app, title string) {
	t.Helper()
	if got := a.title(); got != title || strings.Contains(got, "pwned") {
		t.Errorf("pane title changed to %q (was %q): a file name reached the terminal raw", got, title)
	}
	if bad := escapeProblems(a.screenEscapes()); len(bad) > 0 {
		t.Errorf("raw control sequences on screen: %v", bad)
	}
}

// checkConnection asserts the Connection tab names the session the upload
// came through (SPEC §7: session, sshd/vsftpd pid, login time), as the
// enrichment attributed it; the open tab must be Connection.
func checkConnection(t *testing.T, a *app, want alertRow) {
	t.Helper()
	if want.leaderPID == "" || want.terminal == "" {
		t.Fatalf("scan gives no session leader for %v: the capture should attribute every upload", want)
	}
	scr, err := a.screen()
	if err != nil {
		t.Fatal(err)
	}
	c := below(scr)
	var missing []string
	for _, re := range []string{`(?m)^session +\d+$`, `(?m)^daemon pid +` + want.leaderPID + `$`, `(?m)^terminal +` + want.terminal + `$`} {
		if !regexp.MustCompile(re).MatchString(c) {
			missing = append(missing, re)
		}
	}
	if len(missing) > 0 {
		t.Errorf("Connection tab lacks %q (scan attributes the upload to %s session leader pid %s):\n%s",
			missing, want.terminal, want.leaderPID, c)
	}
}

// scrollUntil presses ↓ until every want is in the tab's text, giving up after
// a bounded number of presses.
func scrollUntil(t *testing.T, a *app, tab string, want []string) {
	t.Helper()
	for i := 0; i < 60; i++ {
		scr, err := a.screen()
		if err != nil {
			t.Fatal(err)
		}
		if containsAll(below(scr), want) {
			return
		}
		prev := below(scr)
		a.keys("Down")
		// Wait for the press to redraw the tab before looking again.
		a.waitFunc("tab "+tab+" to scroll", 5*time.Second, func() (bool, string) {
			scr, err := a.screen()
			if err != nil {
				return false, err.Error()
			}
			return below(scr) != prev, below(scr)
		})
	}
	t.Fatalf("tab %s: %q not found after scrolling", tab, want)
}

// statusLine returns the status-bar line that names the log source as live
// with n events, or "".
func statusLine(scr []string, log string, n int) string {
	for _, l := range scr {
		if strings.Contains(l, "auditlog:"+log) && strings.Contains(l, " live ") && strings.HasSuffix(strings.TrimSpace(l), fmt.Sprintf(" %d ev", n)) {
			return l
		}
	}
	return ""
}

func containsAll(s string, want []string) bool {
	for _, w := range want {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}
