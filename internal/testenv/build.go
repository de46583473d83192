package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Binary is an xferhunt binary for end-to-end tests, built once per test
// package from the module root so that tests drive exactly what a user
// runs. XFERHUNT_E2E_BIN names a prebuilt binary (a release build) to test
// instead.
type Binary struct {
	Path string // the executable
	Root string // the module root (testdata/capture lives there)
	dir  string
}

// BuildBinary builds xferhunt; call it from TestMain and Close the result
// after m.Run.
func BuildBinary() (*Binary, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return nil, fmt.Errorf("cannot find the module root (go env GOMOD: %q, %v)", gomod, err)
	}
	b := &Binary{Root: filepath.Dir(gomod)}
	if p := os.Getenv("XFERHUNT_E2E_BIN"); p != "" {
		b.Path, err = filepath.Abs(p)
		return b, err
	}
	if b.dir, err = os.MkdirTemp("", "xferhunt-e2e-bin-"); err != nil {
		return nil, err
	}
	b.Path = filepath.Join(b.dir, "xferhunt")
	build := exec.Command("go", "build", "-o", b.Path, ".")
	build.Dir = b.Root
	if out, err := build.CombinedOutput(); err != nil {
		b.Close()
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	return b, nil
}

// Close removes the binary BuildBinary built.
func (b *Binary) Close() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}
