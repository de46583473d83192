package terminal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTerminalRestart is issue 8's acceptance 3: a TUI run over the story
// capture with a state directory acknowledges an alert and quits; a second
// run on the same state, over an empty log (nothing to backfill, so only
// the state can tell), shows the same alerts, the acknowledgement, and the
// same stories.
func TestTerminalRestart(t *testing.T) {
	requireTmux(t)
	logPath := filepath.Join(repoRoot, "testdata", "story", "raw.log")
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	flags := []string{"--history-window", "36500d", "--rule", "seed", "--rule", "upload-exec"}
	rows, _ := scanAlerts(t, logPath, append([]string{"--ephemeral"}, flags...)...)
	if len(rows) != 3 {
		t.Fatalf("the capture gives %d alerts, the test expects the upload and its two chain alerts", len(rows))
	}
	address := runStory(t, logPath, "--ip", "127.0.0.21")

	dir, err := os.MkdirTemp("", "xhr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	opts := appOptions{initial: data, flags: flags, dir: dir, log: "audit.log"}

	a := startAppIn(t, 120, 40, opts)
	a.launch()
	a.waitRows("the alerts", rows)
	a.keys("a") // acknowledge the newest
	a.waitScreen("one acknowledged", 5*time.Second, func(scr []string) bool {
		return len(scr) > 0 && strings.Contains(scr[0], "ack 1")
	})
	a.quit()
	a.run("kill-server") //nolint:errcheck // the pane's program has exited

	opts.initial, opts.log = nil, "empty.log"
	b := startAppIn(t, 120, 40, opts)
	b.launch()
	b.waitRows("the alerts of the last run", rows)
	b.waitScreen("the acknowledgement kept", 5*time.Second, func(scr []string) bool {
		return len(scr) > 0 && strings.Contains(scr[0], "open 2 · ack 1")
	})
	// The upload's story by address, from the state's journal alone.
	for i := range rows {
		if rows[i].path == "/tmp/xferhunt-e2e-story-1300739224/tool.part" {
			for range i {
				b.keys("j")
			}
		}
	}
	b.keys("t")
	b.waitStory("the session story", "session 221")
	b.keys("Tab")
	scr := b.waitStory("the address story", address.storyTitle())
	if !strings.Contains(strings.Join(scr, "\n"), "login") {
		t.Errorf("restored address story without its logins:\n%s", strings.Join(scr, "\n"))
	}
	b.keys("Escape")
	b.waitScreen("the list", 10*time.Second, func(scr []string) bool { return tabBarIndex(scr) < 0 && len(listRows(scr)) == len(rows) })
	b.quit()
}
