// Package pipeline wires sources, detection and outputs together for each
// command: scan, live (TUI or headless), demo and rules. It owns no parsing or
// detection logic of its own.
package pipeline

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/xferhunt/xferhunt/sources/auditrules"
)

// ErrUsage marks errors that are the caller's to fix (bad flag, unusable
// input, rule that does not load); the command exits 2 on them.
var ErrUsage = errors.New("usage")

// usageError wraps err so that errors.Is(err, ErrUsage) holds while the
// message stays the original one line.
type usageError struct{ err error }

func (e usageError) Error() string   { return e.err.Error() }
func (e usageError) Unwrap() []error { return []error{ErrUsage, e.err} }
func usage(err error) error          { return usageError{err} }

// ErrInternal marks errors that are xferhunt's bug (a panic a source
// recovered from, so the kernel restore and state flush still ran); the
// command exits 3 (internal/crash.Code) on them.
var ErrInternal = errors.New("internal error")

// internalError keeps err's message and makes errors.Is(err, ErrInternal) hold.
type internalError struct{ err error }

func (e internalError) Error() string   { return e.err.Error() }
func (e internalError) Unwrap() []error { return []error{ErrInternal, e.err} }

// Config is everything the command line says.
type Config struct {
	// orderFree asks for offline new_terms judgement (scan: the input is
	// complete, so the alerts need not depend on its order).
	orderFree bool
	Sources   []string
	Rules     []string
	StateDir  string
	Ephemeral bool
	// StateRepair sets a damaged state.db aside (state.db.damaged-TIME)
	// and starts with empty state instead of refusing to run.
	StateRepair    bool
	HistoryWindow  time.Duration
	NewTermsFields []string
	HostID         string
	Exceptions     string
	Headless       bool
	// Coverage is the kernel audit rule set a live netlink source installs.
	Coverage auditrules.Coverage
	// StoryBudget bounds the event store's memory in bytes (0: story.DefaultBudget).
	StoryBudget int64
	// HideOwn leaves the alerts of the responder's own login session out
	// of the output (they are still kept and counted).
	HideOwn bool
	// ReadOnly disables every action that changes the host: kill,
	// evidence (it writes), quarantine (--readonly).
	ReadOnly bool
	// LocalTime shows the TUI's times in the local zone (TZ) instead of
	// UTC (--time local, or XFERHUNT_TIME=local).
	LocalTime bool

	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// StatePath resolves the state directory: --state, else the default of
// SPEC §1. `xferhunt doctor` checks the same directory the live run opens.
func (c *Config) StatePath() string {
	if c.StateDir != "" {
		return c.StateDir
	}
	if os.Geteuid() == 0 {
		return "/var/lib/xferhunt"
	}
	if x := os.Getenv("XDG_STATE_HOME"); x != "" {
		return filepath.Join(x, "xferhunt")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "xferhunt")
	}
	return filepath.Join(home, ".local", "state", "xferhunt")
}

// hostID returns --host-id, else /etc/machine-id, else "unknown".
func (c *Config) hostID() string {
	if c.HostID != "" {
		return c.HostID
	}
	if b, err := os.ReadFile("/etc/machine-id"); err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id
		}
	}
	return "unknown"
}

func hostName() string {
	h, _ := os.Hostname()
	return h
}
