package terminal

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
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
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e/terminal:", err)
		return 1
	}
	repoRoot = root
	// A prebuilt binary (e.g. a release build) can be tested instead.
	if b := os.Getenv("XFERHUNT_E2E_BIN"); b != "" {
		if bin, err = filepath.Abs(b); err != nil {
			fmt.Fprintln(os.Stderr, "e2e/terminal:", err)
			return 1
		}
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "xferhunt-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e/terminal:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "xferhunt")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e/terminal: building xferhunt: %v\n%s", err, out)
		return 1
	}
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
