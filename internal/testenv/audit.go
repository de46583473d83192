package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/sources/auditrules"
)

// LockPath is the flock that serializes every audit-touching test and tool run on the
// host: the kernel has one audit configuration, so two users of it must never overlap.
const LockPath = "/run/xferhunt-audit.lock"

const auditctl = "/usr/sbin/auditctl"

// AuditStatus is the part of `auditctl -s` that tests change and must restore.
type AuditStatus struct {
	Enabled      int
	PID          int
	BacklogLimit int
}

// AuditLock is held for the duration of one test; it records the audit state found
// at the start so that cleanup can restore and verify it.
type AuditLock struct {
	// Before is the kernel audit status when the lock was taken.
	Before AuditStatus
	// Rules is the `auditctl -l` output when the lock was taken.
	Rules string
}

// lockHeld counts tests of this process currently holding the audit lock; StartAuditd
// refuses to run without it.
var (
	lockMu   sync.Mutex
	lockHeld int
)

// LockAudit takes the exclusive host-wide audit lock for the rest of the test and
// snapshots the audit status and rule list. At cleanup it removes every rule keyed
// xferhunt, restores the enabled flag and backlog limit, and fails the test if the
// state differs from the snapshot (a rule left behind, a stray audit pid).
func LockAudit(t testing.TB) *AuditLock {
	t.Helper()
	NeedRoot(t)
	NeedBinary(t, auditctl)
	f, err := os.OpenFile(LockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("open audit lock: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("flock %s: %v", LockPath, err)
	}
	st, err := ReadAuditStatus()
	if err != nil {
		f.Close()
		Need(t, false, "kernel audit unavailable: %v", err)
	}
	rules, err := run(10*time.Second, auditctl, "-l")
	if err != nil {
		f.Close()
		t.Fatalf("list audit rules: %v", err)
	}
	lockMu.Lock()
	lockHeld++
	lockMu.Unlock()
	l := &AuditLock{Before: st, Rules: rules}
	t.Cleanup(func() {
		defer f.Close() // closing releases the flock
		defer func() { lockMu.Lock(); lockHeld--; lockMu.Unlock() }()
		l.restore(t)
	})
	return l
}

func (l *AuditLock) restore(t testing.TB) {
	t.Helper()
	if err := DeleteKeyedRules(); err != nil {
		t.Errorf("audit cleanup: %v", err)
	}
	now, err := ReadAuditStatus()
	if err != nil {
		t.Errorf("audit cleanup: %v", err)
		return
	}
	// The kernel clears the audit pid itself once the registered socket closes, so a
	// non-matching pid that belongs to a dead process is given a moment to clear.
	if now.PID != l.Before.PID {
		Poll(func() bool {
			now, err = ReadAuditStatus()
			return err == nil && now.PID == l.Before.PID
		}, 3*time.Second)
	}
	if now.Enabled != l.Before.Enabled {
		if _, err := run(10*time.Second, auditctl, "-e", strconv.Itoa(l.Before.Enabled)); err != nil {
			t.Errorf("audit cleanup: %v", err)
		}
	}
	if now.BacklogLimit != l.Before.BacklogLimit {
		if _, err := run(10*time.Second, auditctl, "-b", strconv.Itoa(l.Before.BacklogLimit)); err != nil {
			t.Errorf("audit cleanup: %v", err)
		}
	}
	after, err := ReadAuditStatus()
	if err != nil {
		t.Errorf("audit cleanup: %v", err)
		return
	}
	if after != l.Before {
		t.Errorf("audit status not restored: before %+v, after %+v", l.Before, after)
	}
	rules, err := run(10*time.Second, auditctl, "-l")
	if err != nil {
		t.Errorf("audit cleanup: %v", err)
	} else if rules != l.Rules {
		t.Errorf("audit rules changed by the test:\nbefore:\n%s\nafter:\n%s", l.Rules, rules)
	}
}

// DeleteKeyedRules removes every audit rule carrying the xferhunt key and no other.
func DeleteKeyedRules() error {
	out, err := run(10*time.Second, auditctl, "-l")
	if err != nil {
		return err
	}
	if !strings.Contains(out, "key="+auditrules.Key) {
		return nil
	}
	_, err = run(10*time.Second, auditctl, "-D", "-k", auditrules.Key)
	return err
}

// ReadAuditStatus parses `auditctl -s`.
func ReadAuditStatus() (AuditStatus, error) {
	out, err := run(10*time.Second, auditctl, "-s")
	if err != nil {
		return AuditStatus{}, err
	}
	return ParseAuditStatus(out)
}

// ParseAuditStatus extracts enabled, pid and backlog_limit from `auditctl -s` output.
func ParseAuditStatus(out string) (AuditStatus, error) {
	var st AuditStatus
	seen := 0
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		var dst *int
		switch k {
		case "enabled":
			dst = &st.Enabled
		case "pid":
			dst = &st.PID
		case "backlog_limit":
			dst = &st.BacklogLimit
		default:
			continue
		}
		n, err := strconv.Atoi(strings.Fields(v)[0])
		if err != nil {
			return st, fmt.Errorf("auditctl -s: bad %s %q: %w", k, v, err)
		}
		*dst = n
		seen++
	}
	if seen != 3 {
		return st, fmt.Errorf("auditctl -s: missing enabled/pid/backlog_limit in %q", out)
	}
	return st, nil
}

// AuditdOptions configures StartAuditdOpts.
type AuditdOptions struct {
	// Dir receives auditd.conf, the log and auditd's stderr.
	Dir string
	// Format is the log_format: "RAW" or "ENRICHED".
	Format string
	// RulesFile is loaded with auditctl -R once auditd is the audit daemon; empty loads none.
	RulesFile string
	// MaxLogFileMB, when > 0, enables rotation (max_log_file_action=ROTATE) at that size.
	MaxLogFileMB int
	// NumLogs is how many rotated files auditd keeps (default 5).
	NumLogs int
}

// Auditd is a running auditd started by StartAuditd.
type Auditd struct {
	// LogPath is auditd's log_file.
	LogPath string
	// PID is auditd's process id.
	PID  int
	cmd  *exec.Cmd
	done chan struct{}
}

// StartAuditd runs /usr/sbin/auditd in the foreground with its own configuration in dir,
// log_format format ("RAW" or "ENRICHED"), and loads rulesFile with auditctl -R. The
// test must hold LockAudit. Cleanup deletes the xferhunt-keyed rules and stops auditd.
func StartAuditd(t testing.TB, dir, format, rulesFile string) *Auditd {
	t.Helper()
	return StartAuditdOpts(t, AuditdOptions{Dir: dir, Format: format, RulesFile: rulesFile})
}

// StartAuditdOpts is StartAuditd with rotation options.
func StartAuditdOpts(t testing.TB, o AuditdOptions) *Auditd {
	t.Helper()
	NeedRoot(t)
	NeedBinary(t, "/usr/sbin/auditd")
	lockMu.Lock()
	held := lockHeld > 0
	lockMu.Unlock()
	if !held {
		t.Fatal("StartAuditd: call LockAudit first")
	}
	if o.Format != "RAW" && o.Format != "ENRICHED" {
		t.Fatalf("StartAuditd: format %q, want RAW or ENRICHED", o.Format)
	}
	if st, err := ReadAuditStatus(); err != nil {
		t.Fatal(err)
	} else if st.PID != 0 {
		t.Fatalf("StartAuditd: another audit daemon (pid %d) is registered", st.PID)
	}
	if err := os.MkdirAll(filepath.Join(o.Dir, "plugins.d"), 0o750); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(o.Dir, "audit.log")
	conf := auditdConf(o, logPath)
	if err := os.WriteFile(filepath.Join(o.Dir, "auditd.conf"), []byte(conf), 0o640); err != nil {
		t.Fatal(err)
	}
	stderr, err := os.Create(filepath.Join(o.Dir, "auditd.stderr"))
	if err != nil {
		t.Fatal(err)
	}
	// -n: no fork, so we own the pid; -s enable: auditd enables audit and disables it
	// again on exit; -c: our config dir (auditd.conf and an empty plugins.d).
	cmd := exec.Command("/usr/sbin/auditd", "-n", "-s", "enable", "-c", o.Dir)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		stderr.Close()
		t.Fatalf("start auditd: %v", err)
	}
	a := &Auditd{LogPath: logPath, PID: cmd.Process.Pid, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); stderr.Close(); close(a.done) }()
	t.Cleanup(func() { a.stop(t) })
	ok := Poll(func() bool {
		st, err := ReadAuditStatus()
		return err == nil && st.PID == a.PID
	}, 15*time.Second)
	if !ok {
		errText, _ := os.ReadFile(filepath.Join(o.Dir, "auditd.stderr"))
		t.Fatalf("auditd (pid %d) did not register as audit daemon: %s", a.PID, errText)
	}
	if o.RulesFile != "" {
		mustRun(t, 30*time.Second, auditctl, "-R", o.RulesFile)
	}
	WaitFor(t, func() bool {
		b, err := os.ReadFile(logPath)
		return err == nil && strings.Contains(string(b), "DAEMON_START")
	}, 10*time.Second, "auditd DAEMON_START in "+logPath)
	return a
}

func auditdConf(o AuditdOptions, logPath string) string {
	action, size, num := "IGNORE", 0, o.NumLogs
	if o.MaxLogFileMB > 0 {
		action, size = "ROTATE", o.MaxLogFileMB
	}
	if num <= 0 {
		num = 5
	}
	return fmt.Sprintf(`local_events = yes
write_logs = yes
log_file = %s
log_group = root
log_format = %s
flush = INCREMENTAL_ASYNC
freq = 1
max_log_file = %d
max_log_file_action = %s
num_logs = %d
priority_boost = 0
name_format = NONE
space_left = 2
space_left_action = IGNORE
admin_space_left = 1
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
plugin_dir = %s
q_depth = 2000
overflow_action = IGNORE
end_of_event_timeout = 2
`, logPath, o.Format, size, action, num, filepath.Join(o.Dir, "plugins.d"))
}

// Stop deletes our rules and stops auditd (SIGTERM, then SIGKILL after 10 s); it is
// idempotent and also runs at cleanup.
func (a *Auditd) Stop(t testing.TB) { t.Helper(); a.stop(t) }

func (a *Auditd) stop(t testing.TB) {
	t.Helper()
	if err := DeleteKeyedRules(); err != nil {
		t.Errorf("stop auditd: %v", err)
	}
	select {
	case <-a.done:
		return
	default:
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(10 * time.Second):
		_ = a.cmd.Process.Kill()
		<-a.done
		t.Errorf("auditd pid %d ignored SIGTERM", a.PID)
	}
}

// Rotate asks auditd to rotate its log now (SIGUSR1) and waits until the previous log
// is audit.log.1 and a fresh audit.log exists; for tests of log followers.
func (a *Auditd) Rotate(t testing.TB) {
	t.Helper()
	rotated := a.LogPath + ".1"
	before, _ := os.Stat(rotated)
	if err := a.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatalf("rotate auditd: %v", err)
	}
	WaitFor(t, func() bool {
		st, err := os.Stat(rotated)
		if err != nil || (before != nil && os.SameFile(before, st)) {
			return false
		}
		_, err = os.Stat(a.LogPath)
		return err == nil
	}, 10*time.Second, "auditd log rotation")
}
