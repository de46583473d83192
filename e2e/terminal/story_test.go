package terminal

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cliStory is a story as `xferhunt story` prints it for the same input:
// the oracle the story view is checked against.
type cliStory struct {
	label  string   // "address 127.0.0.5"
	events int      // events in the story
	lines  []string // its event lines
}

var storyHeader = regexp.MustCompile(`^# story of (.+): (\d+) events?,`)

// runStory runs `xferhunt story SELECTOR VALUE path`.
func runStory(t *testing.T, path, selector, value string) cliStory {
	t.Helper()
	cmd := exec.Command(bin, "story", selector, value, path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("xferhunt story %s %s: %v\n%s", selector, value, err, stderr.String())
	}
	lines := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
	m := storyHeader.FindStringSubmatch(lines[0])
	if m == nil || len(lines) < 2 {
		t.Fatalf("xferhunt story: no header in %q", stdout.String())
	}
	n, _ := strconv.Atoi(m[2])
	if len(lines)-2 != n {
		t.Fatalf("xferhunt story: header says %d events, %d lines follow", n, len(lines)-2)
	}
	return cliStory{label: m[1], events: n, lines: lines[2:]}
}

// matching counts the story lines holding s, ignoring case, as the story
// view's search does.
func (c cliStory) matching(s string) int {
	n := 0
	for _, l := range c.lines {
		if strings.Contains(strings.ToLower(l), strings.ToLower(s)) {
			n++
		}
	}
	return n
}

// storyTitle is the scope line the story view shows for c.
func (c cliStory) storyTitle() string { return fmt.Sprintf("%s · %d events", c.label, c.events) }

// highlighted finds a search match drawn with a background colour in a
// capture-pane -e dump.
// (tmux writes each attribute as its own SGR, so a background SGR may be
// followed by others before the text.)
var highlighted = regexp.MustCompile(`\x1b\[(?:[0-9:]*;)*48[;:][0-9;:]*m(?:\x1b\[[0-9;:]*m)*(?i:uname)`)

// TestTerminalStory is the story view's acceptance flow in a real
// terminal at 80×24, over the capture read as a live log: open the
// newest alert (the hostile name), tell its story, switch to its address,
// pivot from the User tab's user field, search the story. Every count is
// the one `xferhunt story` prints for the same log.
func TestTerminalStory(t *testing.T) {
	requireTmux(t)
	_, enriched := capture(t)
	logPath := filepath.Join(repoRoot, "testdata", "capture", "enriched.log")
	rows, _ := scanAlerts(t, logPath, detectFlags...)
	alert := rows[0] // newest first: the one under the cursor
	if alert.display() != hostileShown || alert.session == "" {
		t.Fatalf("newest alert %v (session %q): the test expects the hostile upload of a login session", alert, alert.session)
	}
	session := runStory(t, logPath, "--session", alert.session)
	address := runStory(t, logPath, "--ip", alert.ip)
	user := runStory(t, logPath, "--user", alert.user)
	search := user.matching("uname")
	if address.events <= session.events || user.events <= session.events || search < 2 {
		t.Fatalf("the capture's stories (session %d, address %d, user %d events, %d uname lines) cannot show the switch", session.events, address.events, user.events, search)
	}

	a := startApp(t, 80, 24, false, enriched)
	a.launch()
	a.waitRows("the alerts", rows)
	// Every event must be in the store before the counts can match: the
	// source says live once the log is read to its end.
	a.waitScreen("the log read to its end", 10*time.Second, func(scr []string) bool {
		for _, l := range scr {
			if strings.Contains(l, "auditlog:"+a.log+" live ") {
				return true
			}
		}
		return false
	})
	title0 := a.title()

	// The newest alert, its story: the session, the upload marked.
	a.keys("Enter")
	a.waitTab("Overview", func(c string) bool { return strings.Contains(c, "New term") })
	a.keys("t")
	scr := a.waitStory("the session story", session.storyTitle())
	if !hasAlertMark(scr, alert.when.UTC().Format("15:04:05.000")+"Z") {
		t.Errorf("the alert's own event is not marked ◆ at %s:\n%s", alert.when.UTC().Format("15:04:05.000"), strings.Join(scr, "\n"))
	}
	if !strings.Contains(strings.Join(scr, "\n"), "login  "+alert.user+" from "+alert.ip+":"+alert.port) {
		t.Errorf("no login header for %s from %s:%s:\n%s", alert.user, alert.ip, alert.port, strings.Join(scr, "\n"))
	}
	checkNoControl(t, a, title0)

	// Switch scope: the address, all its logins.
	a.keys("Tab")
	scr = a.waitStory("the address story", address.storyTitle())
	if !hasAlertMark(scr, alert.when.UTC().Format("15:04:05.000")+"Z") {
		t.Errorf("address story: the alert's event not marked:\n%s", strings.Join(scr, "\n"))
	}
	checkNoControl(t, a, title0)

	// Back to the detail; pivot from the User tab's user field.
	a.keys("Escape")
	a.waitTab("Overview", func(string) bool { return true })
	a.keys("Tab")
	a.waitTab("Process", func(string) bool { return true })
	a.keys("Tab")
	a.waitTab("User", func(c string) bool { return strings.Contains(c, alert.user) })
	a.keys("Down") // uid → user
	a.waitScreen("the t hint naming the user", 10*time.Second, func(scr []string) bool {
		return strings.Contains(scr[len(scr)-1], "t story of this user")
	})
	a.keys("t")
	a.waitStory("the user story", user.label+" (from user.name) · "+strconv.Itoa(user.events)+" events")

	// Search: every matching event counted, the matches highlighted, n
	// moves to the next one.
	a.keys("/")
	a.waitScreen("the search prompt", 10*time.Second, func(scr []string) bool {
		return strings.HasPrefix(scr[len(scr)-1], "/ ")
	})
	a.typeText("uname")
	a.keys("Enter")
	var first int
	a.waitFunc("the search result in the scope bar", 10*time.Second, func() (bool, string) {
		scr, err := a.screen()
		if err != nil {
			return false, err.Error()
		}
		m := regexp.MustCompile(`match (\d+)/(\d+)`).FindStringSubmatch(scr[1])
		if m == nil || m[2] != strconv.Itoa(search) {
			return false, fmt.Sprintf("want match i/%d\n%s", search, strings.Join(scr, "\n"))
		}
		first, _ = strconv.Atoi(m[1])
		return true, ""
	})
	if dump := a.screenEscapes(); !highlighted.MatchString(dump) {
		t.Errorf("no highlighted uname in the pane:\n%q", dump)
	}
	a.keys("n")
	next := fmt.Sprintf("match %d/%d", first%search+1, search)
	a.waitScreen(next, 10*time.Second, func(scr []string) bool { return strings.Contains(scr[1], next) })
	checkNoControl(t, a, title0)

	// esc: back to the detail, then the list; q quits cleanly.
	a.keys("Escape")
	a.waitTab("User", func(string) bool { return true })
	a.keys("Escape")
	a.waitScreen("the list", 10*time.Second, func(scr []string) bool { return tabBarIndex(scr) < 0 && len(listRows(scr)) == len(rows) })
	a.quit()
}

// waitStory waits until the story view names title (scope, event count)
// on its scope line and returns the screen.
func (a *app) waitStory(what, title string) []string {
	a.t.Helper()
	return a.waitScreen(what, 10*time.Second, func(scr []string) bool {
		return len(scr) > 2 && strings.HasPrefix(scr[1], "Story ") && strings.HasPrefix(scr[2], title)
	})
}

// hasAlertMark reports whether an event row at clock (UTC, ms) carries
// the alert's own mark.
func hasAlertMark(scr []string, clock string) bool {
	for _, l := range scr {
		if strings.HasPrefix(l, "◆ "+clock+" ") {
			return true
		}
	}
	return false
}
