package preflight

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	libaudit "github.com/elastic/go-libaudit/v2"
	"github.com/elastic/go-libaudit/v2/rule"
	"golang.org/x/sys/unix"

	"github.com/xferhunt/xferhunt/internal/safefile"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditrules"
	"github.com/xferhunt/xferhunt/sources/catalog"
	"github.com/xferhunt/xferhunt/sources/netlink"
)

// Options are the live run's settings that change what is checked.
type Options struct {
	// StateDir is the state directory the live run would open.
	StateDir string
	// Ephemeral is --ephemeral.
	Ephemeral bool
	// Coverage is --coverage.
	Coverage auditrules.Coverage
	// Logs are the audit logs auto falls back to, in order.
	Logs []string
	// SSHDConfig is sshd's main configuration file; files of an
	// sshd_config.d directory beside it are read too.
	SSHDConfig string
}

// auditTimeout bounds each kernel audit request: the kernel answers at
// once, and a doctor that hangs would be worse than one that says "no
// answer".
const auditTimeout = 2 * time.Second

// Gather observes the host. It only reads: no audit setting, rule or
// directory is changed or created.
func Gather(opt Options) Facts {
	f := Facts{EUID: os.Geteuid(), Coverage: opt.Coverage}
	f.CapEff, f.CapErr = readCapEff("/proc/self/status")
	if b, err := os.ReadFile("/proc/cmdline"); err == nil {
		f.Cmdline = strings.TrimSpace(string(b))
	}
	f.UserNS = inUserNamespace()
	f.Audit, f.AuditErr = withTimeout(func() (AuditStatus, error) { return readAuditStatus() })
	if f.AuditErr == nil && f.Audit.PID != 0 {
		f.Holder = holder(int(f.Audit.PID))
	}
	if f.AuditErr == nil && f.Audit.Enabled == 2 {
		f.Rules, f.RulesErr = withTimeout(readRules)
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		f.KernelRelease = unix.ByteSliceToString(u.Release[:])
	}
	for _, p := range opt.Logs {
		f.Logs = append(f.Logs, readLog(p))
	}
	f.State = stateOf(opt.StateDir, opt.Ephemeral)
	f.Programs = auditrules.Executables(auditrules.Programs)
	f.InternalSFTP = internalSFTP(opt.SSHDConfig)
	return f
}

// ParseCapEff reads the CapEff line of a /proc/PID/status text.
func ParseCapEff(status string) (uint64, error) {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, errors.New("no CapEff line")
}

func readCapEff(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return ParseCapEff(string(b))
}

// inUserNamespace reports whether uid_map maps less than the whole uid
// range: only the initial user namespace maps 0 to 0 for 4294967295 ids.
func inUserNamespace() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	return strings.Join(strings.Fields(string(b)), " ") != "0 0 4294967295"
}

// withTimeout runs a kernel audit request on its own goroutine: go-libaudit's
// socket reads block without a deadline, and the doctor must answer.
func withTimeout[T any](f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	c := make(chan result, 1)
	go func() { v, err := f(); c <- result{v, err} }()
	select {
	case r := <-c:
		return r.v, r.err
	case <-time.After(auditTimeout):
		var zero T
		return zero, fmt.Errorf("no answer from kernel audit in %v", auditTimeout)
	}
}

// readAuditStatus asks the kernel for its audit status (AUDIT_GET), which
// changes nothing: the same read the netlink source makes before it chooses
// a mode.
func readAuditStatus() (AuditStatus, error) {
	st, err := netlink.Status()
	if err != nil {
		return AuditStatus{}, err
	}
	return AuditStatus{Enabled: st.Enabled, PID: st.PID}, nil
}

// readRules lists the loaded rules (AUDIT_LIST_RULES) as auditctl -l prints them.
func readRules() ([]string, error) {
	c, err := libaudit.NewAuditClient(nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	wires, err := c.GetRules()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, w := range wires {
		s, err := rule.ToCommandLine(w, true)
		if err != nil {
			s = "(unreadable rule: " + err.Error() + ")"
		}
		out = append(out, s)
	}
	return out, nil
}

func holder(pid int) Holder {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		// No /proc entry: the daemon died without unregistering. The kernel
		// drops a stale pid on its next send.
		return Holder{}
	}
	return Holder{Comm: strings.TrimSpace(string(b)), Alive: true}
}

// readLog opens a log as the live run's tail would and sniffs its head.
func readLog(path string) Log {
	l := Log{Path: path}
	fh, err := safefile.Open(path)
	if err != nil {
		l.Err = err
		return l
	}
	defer fh.Close()
	head := make([]byte, sources.SniffHeadSize)
	n, err := io.ReadFull(fh, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		l.Err = err
		return l
	}
	if n == 0 {
		l.Empty = true
		return l
	}
	l.Format, _ = catalog.Formats().Sniff(head[:n])
	return l
}

// stateOf checks the state directory without creating it: an existing one
// must pass safefile's checks (ours, private, no symlink); a missing one
// needs a writable, symlink-free nearest ancestor for MkdirAll to create it.
func stateOf(dir string, ephemeral bool) State {
	s := State{Dir: dir, Ephemeral: ephemeral}
	if ephemeral {
		return s
	}
	if _, err := os.Lstat(dir); err == nil {
		s.Exists = true
		d, err := safefile.OpenDir(dir)
		if err != nil {
			s.Err = err
			return s
		}
		d.Close()
		if err := unix.Access(dir, unix.W_OK); err != nil {
			s.Err = fmt.Errorf("%s: not writable: %w", dir, err)
		}
		return s
	}
	parent := filepath.Dir(filepath.Clean(dir))
	for {
		if _, err := os.Lstat(parent); err == nil || parent == filepath.Dir(parent) {
			break
		}
		parent = filepath.Dir(parent)
	}
	fh, err := safefile.Open(parent)
	if err != nil {
		s.Err = err
		return s
	}
	fh.Close()
	if err := unix.Access(parent, unix.W_OK); err != nil {
		s.Err = fmt.Errorf("%s cannot be created: %s is not writable: %w", dir, parent, err)
	}
	return s
}

// internalSFTP finds the lines of sshd_config (and its sshd_config.d/*.conf)
// that make sshd serve SFTP itself: its uploads are then created by an
// sshd process, not by sftp-server.
func internalSFTP(config string) []string {
	if config == "" {
		return nil
	}
	files := []string{config}
	more, _ := filepath.Glob(filepath.Join(filepath.Dir(config), "sshd_config.d", "*.conf"))
	files = append(files, more...)
	var out []string
	for _, p := range files {
		fh, err := os.Open(p)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for n := 1; sc.Scan(); n++ {
			if IsInternalSFTP(sc.Text()) {
				out = append(out, fmt.Sprintf("%s:%d: %s", p, n, strings.Join(strings.Fields(sc.Text()), " ")))
			}
		}
		fh.Close()
	}
	return out
}

// IsInternalSFTP reports whether an sshd_config line selects internal-sftp:
// `Subsystem sftp internal-sftp …` or `ForceCommand internal-sftp …`
// (keywords are case-insensitive, comments ignored).
func IsInternalSFTP(line string) bool {
	line, _, _ = strings.Cut(line, "#")
	f := strings.Fields(line)
	switch {
	case len(f) >= 3 && strings.EqualFold(f[0], "Subsystem") && f[1] == "sftp":
		return f[2] == "internal-sftp"
	case len(f) >= 2 && strings.EqualFold(f[0], "ForceCommand"):
		return f[1] == "internal-sftp"
	}
	return false
}
