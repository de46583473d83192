// Package testenv starts real servers (auditd, sshd, vsftpd), creates real users and
// performs real uploads for end-to-end tests. Every helper cleans up through t.Cleanup
// and skips when a prerequisite is missing, unless XFERHUNT_E2E=1 demands it, in which
// case a missing prerequisite fails the test instead of hiding it.
package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// E2E reports whether XFERHUNT_E2E=1 is set, i.e. whether missing prerequisites must
// fail tests rather than skip them.
func E2E() bool { return os.Getenv("XFERHUNT_E2E") == "1" }

// Need skips (or, under XFERHUNT_E2E=1, fails) the test when ok is false.
func Need(t testing.TB, ok bool, format string, args ...any) {
	t.Helper()
	if ok {
		return
	}
	msg := "prerequisite missing: " + fmt.Sprintf(format, args...)
	if E2E() {
		t.Fatal(msg + " (XFERHUNT_E2E=1)")
	}
	t.Skip(msg)
}

// NeedRoot requires the test to run as root.
func NeedRoot(t testing.TB) {
	t.Helper()
	Need(t, os.Geteuid() == 0, "must run as root")
}

// NeedBinary requires an executable at path.
func NeedBinary(t testing.TB, path string) {
	t.Helper()
	st, err := os.Stat(path)
	Need(t, err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0, "%s not installed", path)
}

// WaitFor polls cond every 20 ms until it returns true, failing the test after timeout.
func WaitFor(t testing.TB, cond func() bool, timeout time.Duration, what string) {
	t.Helper()
	if !Poll(cond, timeout) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// Poll is WaitFor without a test: it reports whether cond became true in time.
func Poll(cond func() bool, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// run executes a command with a timeout and returns its combined output; a failure
// error carries the command line and output so the test log explains it in one place.
func run(timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// mustRun is run that fails the test on error.
func mustRun(t testing.TB, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	out, err := run(timeout, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runAccounts runs an account tool (useradd, userdel, chpasswd), retrying while another
// process holds the /etc/passwd or /etc/shadow lock: tests of several packages create
// users at the same time.
func runAccounts(name string, args ...string) (string, error) {
	var out string
	var err error
	Poll(func() bool {
		out, err = run(30*time.Second, name, args...)
		return err == nil || !strings.Contains(out, "lock")
	}, 20*time.Second)
	return out, err
}

// runStdin runs a command feeding stdin, with a 30 s timeout.
func runStdin(stdin *strings.Reader, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = stdin
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}
