package terminal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExceptionRoundTrip is acceptance 3 of issue 10 for exceptions, in a
// real terminal: an exception saved from the TUI's editor (x on the
// newest alert's process.name), exported from the list of exceptions (X,
// E) as a Kibana exception-list file, then given to `xferhunt scan
// --exceptions`, which leaves out exactly the alerts of that process. With
// --ephemeral the TUI says the exception lasts for this run only.
func TestExceptionRoundTrip(t *testing.T) {
	requireTmux(t)
	raw, _ := capture(t)
	dir, err := os.MkdirTemp("", "xhx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	exportDir := t.TempDir()
	a := startAppIn(t, 160, 48, appOptions{noColor: true, initial: raw, flags: detectFlags, dir: dir, log: "audit.log", cwd: exportDir})
	before, _ := scanAlerts(t, a.log, detectFlags...)
	proc := before[0].process
	if n := len(filterRows(before, proc)); n == 0 || n == len(before) {
		t.Fatalf("the capture's alerts %v: the test needs some of %s and some others", before, proc)
	}
	a.launch()
	a.waitRows("the backfilled alerts", before)

	// Process tab: the focused field is process.name.
	a.keys("Enter", "Tab", "x")
	a.waitScreen("the exception editor", 10*time.Second, func(scr []string) bool {
		s := strings.Join(scr, "\n")
		return strings.Contains(s, "Add exception") && strings.Contains(s, "process.name") && strings.Contains(s, "would have excepted")
	})
	a.keys("Enter")
	a.waitScreen("saved for this run only", 10*time.Second, func(scr []string) bool {
		return strings.Contains(strings.Join(scr, "\n"), "for this run only")
	})
	// esc and X apart: ESC followed at once by X reads as alt+X.
	a.keys("Escape")
	a.waitScreen("the list again", 10*time.Second, func(scr []string) bool {
		return !strings.Contains(strings.Join(scr, "\n"), "Overview")
	})
	a.keys("X")
	a.waitScreen("the list of exceptions", 10*time.Second, func(scr []string) bool {
		s := strings.Join(scr, "\n")
		return strings.Contains(s, "(saved here)") && strings.Contains(s, "process.name is "+proc)
	})
	a.keys("E")
	a.waitScreen("the export", 10*time.Second, func(scr []string) bool {
		return strings.Contains(strings.Join(scr, "\n"), "exported 1 exceptions")
	})
	a.keys("Escape")
	a.waitScreen("the list again", 10*time.Second, func(scr []string) bool {
		return !strings.Contains(strings.Join(scr, "\n"), "(saved here)")
	})
	a.quit()

	files, _ := filepath.Glob(filepath.Join(exportDir, "xferhunt-exceptions-*.ndjson"))
	if len(files) != 1 {
		t.Fatalf("exported files %v", files)
	}
	after, _ := scanAlerts(t, a.log, append(append([]string{}, detectFlags...), "--exceptions", files[0])...)
	var want []alertRow
	for _, r := range before {
		if r.process != proc {
			want = append(want, r)
		}
	}
	if len(after) != len(want) {
		t.Fatalf("scan --exceptions: %d alerts, want the %d not of %s:\n%v", len(after), len(want), proc, after)
	}
	for i := range want {
		if after[i].path != want[i].path || after[i].process == proc {
			t.Errorf("alert %d: %v, want %v", i, after[i], want[i])
		}
	}
}
