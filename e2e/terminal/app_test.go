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

// detectFlags make every upload outside /run alert (file.path is new for
// each), including the one whose name carries an OSC title sequence, and
// put the capture's old timestamps inside the history window. The TUI and
// the reference `scan` get the same flags.
var detectFlags = []string{"--ephemeral", "--history-window", "1000d", "--new-terms-fields", "file.path,host.id"}

// app is xferhunt's TUI running in a tmux pane over an auditd log that the
// test grows while it runs.
type app struct {
	*session
	dir  string // short temporary directory: log, gate, exit status, stderr
	log  string // the auditd log the TUI follows
	gate string // the pane's shell waits for this file before starting xferhunt
}

// startApp prepares a w×h pane that will run the TUI over log with the
// given initial content; the program starts only when launch is called, so
// the test can set the pane up first.
func startApp(t *testing.T, w, h int, noColor bool, initial []byte) *app {
	t.Helper()
	dir, err := os.MkdirTemp("", "xha")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return startAppIn(t, w, h, appOptions{noColor: noColor, initial: initial, flags: detectFlags, dir: dir, log: "audit.log"})
}

// appOptions say how startAppIn runs the TUI: flags, and the directory
// that holds the log and the state (XDG_STATE_HOME), so that a second run
// in the same directory finds what the first left.
type appOptions struct {
	noColor bool
	initial []byte
	flags   []string
	dir     string
	log     string   // the log's name in dir
	cwd     string   // the working directory xferhunt starts in (E exports there); tmux's when empty
	env     []string // NAME=value pairs added to xferhunt's environment
}

func startAppIn(t *testing.T, w, h int, o appOptions) *app {
	t.Helper()
	requireTmux(t)
	dir := o.dir
	for _, f := range []string{"go", "exit", "stderr"} {
		_ = os.Remove(filepath.Join(dir, f)) // a previous run's
	}
	a := &app{dir: dir, log: filepath.Join(dir, o.log), gate: filepath.Join(dir, "go")}
	if err := os.WriteFile(a.log, o.initial, 0o600); err != nil {
		t.Fatal(err)
	}
	colour := "env -u NO_COLOR"
	if o.noColor {
		colour = "env NO_COLOR=1"
	}
	args := []string{shellQuote(bin), "--source", shellQuote("auditlog:" + a.log)}
	for _, f := range o.flags {
		args = append(args, shellQuote(f))
	}
	// The exit status is written to a temporary name and renamed so a
	// reader never sees a half-written file.
	cd := ":"
	if o.cwd != "" {
		cd = "cd " + shellQuote(o.cwd)
	}
	for _, e := range o.env {
		colour += " " + shellQuote(e)
	}
	script := fmt.Sprintf(`while [ ! -e %[1]s ]; do sleep 0.02; done
%[7]s || exit 1
TZ=UTC XDG_STATE_HOME=%[2]s %[3]s %[4]s 2>%[5]s
echo "EXIT=$?" >%[6]s.tmp && mv %[6]s.tmp %[6]s
`, shellQuote(a.gate), shellQuote(filepath.Join(dir, "state")), colour, strings.Join(args, " "),
		shellQuote(filepath.Join(dir, "stderr")), shellQuote(filepath.Join(dir, "exit")), cd)
	scriptPath := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(scriptPath, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	a.session = newSession(t, w, h, "/bin/sh "+shellQuote(scriptPath))
	a.onFail = a.diagnostics
	return a
}

// launch lets the pane's shell start xferhunt.
func (a *app) launch() {
	a.t.Helper()
	if err := os.WriteFile(a.gate, nil, 0o600); err != nil {
		a.t.Fatal(err)
	}
}

// appendLog appends data to the followed log, as auditd would.
func (a *app) appendLog(data []byte) {
	a.t.Helper()
	f, err := os.OpenFile(a.log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		a.t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		a.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		a.t.Fatal(err)
	}
}

// quit presses q and checks that xferhunt exits with status 0 within 3 s.
func (a *app) quit() {
	a.t.Helper()
	a.keys("q")
	b, err := waitFile(filepath.Join(a.dir, "exit"), 3*time.Second)
	if err != nil {
		a.t.Fatalf("after q: %v\n%s", err, a.diagnostics())
	}
	if got := strings.TrimSpace(string(b)); got != "EXIT=0" {
		a.t.Fatalf("after q: %s, want EXIT=0\n%s", got, a.diagnostics())
	}
}

// diagnostics is what explains a failed wait: the program's stderr and, if
// it ended, its exit status.
func (a *app) diagnostics() string {
	stderr, _ := os.ReadFile(filepath.Join(a.dir, "stderr"))
	exit, _ := os.ReadFile(filepath.Join(a.dir, "exit"))
	return fmt.Sprintf("xferhunt stderr: %q\nxferhunt exit: %q", stderr, exit)
}

// waitRows waits until the list shows exactly want, in order, and returns
// the screen.
func (a *app) waitRows(what string, want []alertRow) []string {
	a.t.Helper()
	var last []string
	a.waitFunc(what, 15*time.Second, func() (bool, string) {
		scr, err := a.screen()
		if err != nil {
			return false, err.Error()
		}
		last = scr
		why := rowsMatch(listRows(scr), want)
		return why == "", why + "\n" + strings.Join(scr, "\n")
	})
	return last
}

// waitTab waits until name is the underlined tab and cond accepts the text
// below the tab bar, and returns that text.
func (a *app) waitTab(name string, cond func(content string) bool) string {
	a.t.Helper()
	var content string
	a.waitFunc("tab "+name, 10*time.Second, func() (bool, string) {
		dump := a.screenEscapes()
		active, err := activeTab(dump)
		if err != nil || active != name {
			return false, fmt.Sprintf("active tab %q (%v)\n%s", active, err, dump)
		}
		scr, err := a.screen()
		if err != nil {
			return false, err.Error()
		}
		content = below(scr)
		return cond(content), strings.Join(scr, "\n")
	})
	return content
}

var auditID = regexp.MustCompile(`msg=audit\(([0-9.]+:[0-9]+)\)`)

// splitBefore cuts an auditd log before the first record of the event that
// contains marker, so that event (and all after it) can arrive live.
func splitBefore(t *testing.T, log []byte, marker string) (head, tail []byte) {
	t.Helper()
	lines := strings.SplitAfter(string(log), "\n")
	id := ""
	for _, l := range lines {
		if strings.Contains(l, marker) {
			m := auditID.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("record holding %q has no audit id: %q", marker, l)
			}
			id = m[1]
			break
		}
	}
	if id == "" {
		t.Fatalf("no record holds %q", marker)
	}
	for i, l := range lines {
		if strings.Contains(l, "msg=audit("+id+")") {
			return []byte(strings.Join(lines[:i], "")), []byte(strings.Join(lines[i:], ""))
		}
	}
	panic("unreachable")
}
