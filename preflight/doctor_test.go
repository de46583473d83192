package preflight

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/internal/testenv"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditrules"
)

// bin is the real xferhunt binary: these tests run `xferhunt doctor` as a
// responder would.
var bin *testenv.Binary

func TestMain(m *testing.M) {
	b, err := testenv.BuildBinary()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = b
	code := m.Run()
	b.Close()
	os.Exit(code)
}

// doctorBudget is what "a few hundred milliseconds" may take on a loaded
// test machine; the run time is logged for the record.
const doctorBudget = 2 * time.Second

// runDoctor runs `xferhunt doctor args...`, as cred when not nil, checks
// its exit code and returns its stdout.
func runDoctor(t *testing.T, cred *syscall.Credential, path string, wantCode int, args ...string) string {
	t.Helper()
	cmd := exec.Command(path, append([]string{"doctor"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent"}
	}
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run doctor: %v", err)
	}
	t.Logf("xferhunt doctor %s: exit %d in %v\n%s%s", strings.Join(args, " "), code, took.Round(time.Millisecond), out.String(), errb.String())
	if took > doctorBudget {
		t.Errorf("doctor took %v, budget %v", took, doctorBudget)
	}
	if code != wantCode {
		t.Errorf("exit %d, want %d", code, wantCode)
	}
	return out.String()
}

// wantLines fails unless every fragment appears in out.
func wantLines(t *testing.T, out string, fragments ...string) {
	t.Helper()
	for _, f := range fragments {
		if !strings.Contains(out, f) {
			t.Errorf("doctor output lacks %q", f)
		}
	}
}

// unchanged fails when the kernel audit status or rule list differs from
// the lock's snapshot: the doctor must only read.
func unchanged(t *testing.T, l *testenv.AuditLock, wantPID int) {
	t.Helper()
	st, err := testenv.ReadAuditStatus()
	if err != nil {
		t.Fatal(err)
	}
	if st.Enabled != l.Before.Enabled || st.PID != wantPID {
		t.Errorf("audit status after doctor %+v, want enabled %d pid %d", st, l.Before.Enabled, wantPID)
	}
}

func TestDoctorAsRootWithAuditFree(t *testing.T) {
	l := testenv.LockAudit(t)
	testenv.Need(t, l.Before.PID == 0, "an audit daemon (pid %d) is registered outside the tests", l.Before.PID)
	testenv.Need(t, l.Before.Enabled != 2, "audit is immutable here")
	out := runDoctor(t, nil, bin.Path, 0, "--ephemeral")
	wantLines(t, out,
		"ok    root      root with CAP_AUDIT_CONTROL and CAP_AUDIT_READ",
		"ok    audit     kernel audit answers",
		"ok    daemon    audit pid free: xferhunt registers as the audit daemon (unicast)",
		"ok    rules     audit rules can be added",
		"ok    state     --ephemeral",
		"live mode will work: netlink unicast",
	)
	unchanged(t, l, 0)
}

func TestDoctorBesideAuditd(t *testing.T) {
	testenv.LockAudit(t)
	a := testenv.StartAuditd(t, t.TempDir(), "RAW", "")
	out := runDoctor(t, nil, bin.Path, 0, "--ephemeral")
	wantLines(t, out,
		fmt.Sprintf("ok    daemon    auditd (pid %d) holds the audit pid: xferhunt reads beside it by multicast, never displacing it", a.PID),
		fmt.Sprintf("live mode will work: netlink multicast beside auditd (pid %d)", a.PID),
	)
	st, err := testenv.ReadAuditStatus()
	if err != nil || st.PID != a.PID {
		t.Errorf("after doctor the audit pid is %d (%v), want auditd's %d", st.PID, err, a.PID)
	}

	// The same facts through the package: the daemon's real log is
	// recognised, and the holder is named from /proc.
	f := Gather(Options{Logs: []string{a.LogPath}, Ephemeral: true, Coverage: auditrules.Narrow})
	if f.Holder.Comm != "auditd" || !f.Holder.Alive || int(f.Audit.PID) != a.PID {
		t.Errorf("Gather: holder %+v pid %d, want auditd pid %d", f.Holder, f.Audit.PID, a.PID)
	}
	if len(f.Logs) != 1 || f.Logs[0].Err != nil || f.Logs[0].Format != sources.AuditdRaw {
		t.Errorf("Gather: log %+v, want %s readable as auditd-raw", f.Logs, a.LogPath)
	}
}

func TestDoctorUnprivileged(t *testing.T) {
	// It sends one status request that the kernel refuses; the lock keeps
	// even that from overlapping another engineer's audit test.
	testenv.LockAudit(t)
	// A copy nobody can execute: the test binary's own directory is 0700.
	dir, err := os.MkdirTemp("", "xferhunt-doctor-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	exe := filepath.Join(dir, "xferhunt")
	data, err := os.ReadFile(bin.Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := runDoctor(t, &syscall.Credential{Uid: 65534, Gid: 65534}, exe, 1)
	wantLines(t, out,
		"fail  root      not root (uid 65534)",
		"→ sudo ./xferhunt, or copy the audit logs off the host and run `xferhunt scan PATH...`",
		"fail  audit     kernel audit needs root",
		"offline only: copy the audit logs off this host and run `xferhunt scan PATH...` (exit 1)",
	)
	if strings.Contains(out, "live mode will work") {
		t.Error("unprivileged doctor promised live mode")
	}

	// The live start runs the same checks and names the first failure.
	live := exec.Command(exe, "--headless", "--ephemeral")
	live.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	live.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent"}
	stderr, err := live.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Errorf("unprivileged live start: %v, want exit 2\n%s", err, stderr)
	}
	if want := "(xferhunt doctor: root: not root (uid 65534)"; !strings.Contains(string(stderr), want) {
		t.Errorf("unprivileged live start says %q, want it to contain %q", stderr, want)
	}
}
