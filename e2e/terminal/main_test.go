package terminal

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/xferhunt/xferhunt/internal/testenv"
)

// bin is the xferhunt binary under test, built once from the repository root
// so every test drives exactly what a user would run.
var bin string

// repoRoot is the module root, where testdata/capture lives.
var repoRoot string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	b, err := testenv.BuildBinary()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e/terminal:", err)
		return 1
	}
	defer b.Close()
	bin, repoRoot = b.Path, b.Root
	return m.Run()
}

// requireTmux skips the test when tmux is not installed, or fails it when
// XFERHUNT_E2E=1 says the environment is supposed to be complete.
func requireTmux(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("tmux")
	if err == nil {
		return p
	}
	if os.Getenv("XFERHUNT_E2E") == "1" {
		t.Fatalf("tmux not found (XFERHUNT_E2E=1 requires it): %v", err)
	}
	t.Skipf("tmux not found, skipping the real-terminal test (set XFERHUNT_E2E=1 to make this a failure): %v", err)
	return ""
}
