package terminal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pollEvery is how often a wait re-reads the pane. Waits are bounded by a
// deadline; the interval only limits how busy the polling is.
const pollEvery = 40 * time.Millisecond

// session is one detached tmux session on a private server: its own socket
// in a temporary directory and no configuration file, so the test neither
// sees nor disturbs a user's tmux.
type session struct {
	t      *testing.T
	tmux   string
	sock   string
	target string
	// onFail, when set, adds context (the program's stderr, its exit
	// status) to a failed wait.
	onFail func() string
}

// newSession starts a private tmux server with one w×h session running
// argv, with the status line off so the pane is exactly w×h. The server is
// killed when the test ends.
func newSession(t *testing.T, w, h int, argv ...string) *session {
	t.Helper()
	tm := requireTmux(t)
	// Unix socket paths are limited to ~100 bytes: keep it short rather
	// than under a long t.TempDir().
	dir, err := os.MkdirTemp("", "xht")
	if err != nil {
		t.Fatal(err)
	}
	s := &session{t: t, tmux: tm, sock: filepath.Join(dir, "s"), target: "e2e"}
	t.Cleanup(func() {
		// The server may already be gone (its only pane exited): ignore.
		_, _ = s.run("kill-server")
		os.RemoveAll(dir)
	})
	args := []string{"new-session", "-d", "-s", s.target, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h)}
	args = append(args, argv...)
	if _, err := s.run(args...); err != nil {
		t.Fatalf("starting tmux: %v", err)
	}
	if _, err := s.run("set-option", "-t", s.target, "status", "off"); err != nil {
		t.Fatalf("tmux status off: %v", err)
	}
	want := fmt.Sprintf("%dx%d", w, h)
	s.waitFunc("pane size "+want, 5*time.Second, func() (bool, string) {
		got, err := s.run("display-message", "-p", "-t", s.target, "#{pane_width}x#{pane_height}")
		return err == nil && got == want, got
	})
	return s
}

// run executes one tmux command against the private server and returns its
// trimmed stdout.
func (s *session) run(args ...string) (string, error) {
	cmd := exec.Command(s.tmux, append([]string{"-S", s.sock, "-f", "/dev/null"}, args...)...)
	// A test started from inside tmux must not talk to that tmux.
	cmd.Env = withoutEnv(os.Environ(), "TMUX", "TMUX_PANE")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("tmux %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimRight(stdout.String(), "\n"), nil
}

// must is run that fails the test on error.
func (s *session) must(args ...string) string {
	s.t.Helper()
	out, err := s.run(args...)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// keys sends tmux key names (Enter, Tab, Escape, C-u, q …).
func (s *session) keys(k ...string) {
	s.t.Helper()
	s.must(append([]string{"send-keys", "-t", s.target}, k...)...)
}

// typeText sends text literally, one key per character.
func (s *session) typeText(text string) {
	s.t.Helper()
	s.must("send-keys", "-t", s.target, "-l", text)
}

// screen is the pane's visible text, one string per row.
func (s *session) screen() ([]string, error) {
	out, err := s.run("capture-pane", "-p", "-t", s.target)
	if err != nil {
		return nil, err
	}
	return strings.Split(out, "\n"), nil
}

// screenEscapes is the pane's content with the SGR attributes tmux holds for
// each cell (capture-pane -e).
func (s *session) screenEscapes() string {
	s.t.Helper()
	return s.must("capture-pane", "-p", "-e", "-t", s.target)
}

// title is the pane title, which OSC 0/2 sequences written to the pane set.
func (s *session) title() string {
	s.t.Helper()
	return s.must("display-message", "-p", "-t", s.target, "#{pane_title}")
}

// waitScreen polls the pane until cond accepts it or the timeout passes, and
// returns the accepted screen. On timeout the test fails showing the last
// screen and, through onFail, whatever else explains it.
func (s *session) waitScreen(what string, timeout time.Duration, cond func([]string) bool) []string {
	s.t.Helper()
	var last []string
	s.waitFunc(what, timeout, func() (bool, string) {
		scr, err := s.screen()
		if err != nil {
			return false, err.Error()
		}
		last = scr
		return cond(scr), strings.Join(scr, "\n")
	})
	return last
}

// waitFunc polls check until it reports true or the timeout passes.
func (s *session) waitFunc(what string, timeout time.Duration, check func() (bool, string)) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := check()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			extra := ""
			if s.onFail != nil {
				extra = s.onFail()
			}
			s.t.Fatalf("timed out after %v waiting for %s; last state:\n%s\n%s", timeout, what, state, extra)
		}
		time.Sleep(pollEvery)
	}
}

// waitFile polls until path exists and returns its content.
func waitFile(path string, timeout time.Duration) ([]byte, error) {
	deadline := time.Now().Add(timeout)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s did not appear within %v", path, timeout)
		}
		time.Sleep(pollEvery)
	}
}

// withoutEnv returns env minus the named variables.
func withoutEnv(env []string, names ...string) []string {
	out := env[:0:0]
next:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
