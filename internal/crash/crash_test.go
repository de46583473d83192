package crash

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestGuardExitCode runs a panicking goroutine in a child process: with
// Guard the process exits Code with a one-line report before the stack;
// without it Go exits 2, the code xferhunt uses for bad input — the
// difference this package exists for.
func TestGuardExitCode(t *testing.T) {
	if mode := os.Getenv("CRASH_CHILD"); mode != "" {
		done := make(chan struct{})
		go func() {
			if mode == "guarded" {
				defer Guard()
			}
			panic("boom \x1b]0;title\x07")
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
		return
	}
	for mode, want := range map[string]int{"guarded": Code, "bare": 2} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestGuardExitCode$")
		cmd.Env = append(os.Environ(), "CRASH_CHILD="+mode)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != want {
			t.Fatalf("%s: %v, want exit %d: %s", mode, err, want, out)
		}
		if mode == "guarded" {
			first, _, _ := strings.Cut(string(out), "\n")
			if first != `xferhunt: internal error (a bug; exit 3): panic: boom \x1b]0;title\x07` {
				t.Fatalf("first line %q", first)
			}
		}
	}
}

// TestProtect: a panic on the calling goroutine becomes Code, reported.
func TestProtect(t *testing.T) {
	var b strings.Builder
	if c := Protect(&b, func() int { return 1 }); c != 1 || b.Len() != 0 {
		t.Fatalf("no panic: code %d, report %q", c, b.String())
	}
	c := Protect(&b, func() int {
		var m map[string]int
		m["x"] = 1 //lint:ignore SA5000 a nil-map write: a runtime panic, recoverable
		return 0
	})
	if c != Code || !strings.HasPrefix(b.String(), "xferhunt: internal error (a bug; exit 3): panic: assignment to entry in nil map\n") {
		t.Fatalf("code %d, report %.200q", c, b.String())
	}
}
