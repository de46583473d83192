package terminal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/internal/testenv"
)

// TestReadOnlyAndBackfillRefuseHostKeys is issue 10's acceptance 4 (and
// part of 1) through the real binary in a terminal: an upload already in
// the log at start (backfill) and one appended while it runs (live).
// Without --readonly K, P and Q are offered for the live alert only: on
// the backfilled one they are missing from the help, which says why, and
// a press answers with the reason. With --readonly they are missing and
// refused for both, and the help says --readonly.
func TestReadOnlyAndBackfillRefuseHostKeys(t *testing.T) {
	files := t.TempDir()
	old, live := filepath.Join(files, "old.bin"), filepath.Join(files, "new.bin")
	for _, p := range []string{old, live} {
		if err := os.WriteFile(p, []byte("upload\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, readonly := range []bool{false, true} {
		dir, err := os.MkdirTemp("", "xhr")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		flags := detectFlags
		if readonly {
			flags = append(append([]string{}, detectFlags...), "--readonly")
		}
		now := time.Now()
		a := startAppIn(t, 160, 40, appOptions{noColor: true, initial: testenv.ScpUploadRecords(old, now.Add(-time.Minute), 9201),
			flags: flags, dir: dir, log: "audit.log"})
		a.launch()
		a.waitScreen("the backfilled upload", 15*time.Second, func(scr []string) bool {
			s := strings.Join(scr, "\n")
			return strings.Contains(s, old) && strings.Contains(s, "live")
		})
		a.appendLog(testenv.ScpUploadRecords(live, time.Now(), 9202))
		a.waitScreen("the live upload", 15*time.Second, func(scr []string) bool {
			return strings.Contains(strings.Join(scr, "\n"), live)
		})
		// The live alert is the newest, under the cursor.
		a.keys("?")
		help := strings.Join(a.waitScreen("help", 5*time.Second, func(scr []string) bool {
			return strings.Contains(strings.Join(scr, "\n"), "response log") // help only, not the footer
		}), "\n")
		offered := strings.Contains(help, "kill process or login") && strings.Contains(help, "evidence bundle") && strings.Contains(help, "quarantine")
		if offered == readonly {
			t.Errorf("readonly %v: live alert's help offers K/P/Q: %v\n%s", readonly, offered, help)
		}
		if readonly && !strings.Contains(help, "--readonly") {
			t.Errorf("--readonly help does not say why the keys are off:\n%s", help)
		}
		a.keys("?", "j", "?") // the backfilled alert
		help = strings.Join(a.waitScreen("help of the backfilled alert", 5*time.Second, func(scr []string) bool {
			return strings.Contains(strings.Join(scr, "\n"), "host actions (K P Q) off")
		}), "\n")
		if strings.Contains(help, "kill process or login") || strings.Contains(help, "evidence bundle") {
			t.Errorf("backfilled alert's help offers K/P:\n%s", help)
		}
		a.keys("?", "K")
		want := "backfilled"
		if readonly {
			want = "--readonly"
		}
		a.waitScreen("K refused with the reason", 5*time.Second, func(scr []string) bool {
			s := strings.Join(scr, "\n")
			return strings.Contains(s, "refused") && strings.Contains(s, want)
		})
		a.quit()
	}
	// Nothing was done to the files.
	for _, p := range []string{old, live} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v %v", p, fi, err)
		}
	}
}
