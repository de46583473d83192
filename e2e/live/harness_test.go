package live

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/testenv"
	"github.com/xferhunt/xferhunt/sources/netlink"
)

// binPath is the xferhunt binary TestMain builds once for every test.
var binPath string

// repoRoot is the module root, found through go.mod so the tests run from
// any working directory.
var repoRoot string

func TestMain(m *testing.M) {
	if os.Getenv(creatorDirEnv) != "" {
		os.Exit(runCreator())
	}
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	b, err := testenv.BuildBinary()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e/live:", err)
		return 1
	}
	defer b.Close()
	binPath, repoRoot = b.Path, b.Root
	return m.Run()
}

// alert is one JSON line of xferhunt's stdout and when the test read it.
type alert struct {
	// At is when the reader goroutine got the whole line.
	At time.Time
	// Doc is the parsed alert (nil in light mode, see xferOptions.Light).
	Doc ecs.Doc
	// Path is file.path, filled in both modes.
	Path string
	// EventTime is kibana.alert.original_time (the audit record's time) and
	// Created the alert's @timestamp: with At they split latency into
	// detection and output.
	EventTime, Created time.Time
	// UUID is kibana.alert.uuid; Updated is when a later line with the
	// same uuid (the file facts settled, README "File facts once the
	// upload is done") replaced this one, zero when none did.
	UUID    string
	Updated time.Time
	// Lines counts the lines read for this uuid (1 without update).
	Lines int
}

// lightAlert is the part of an alert the load test needs: decoding into a
// struct skips the rest of an ~11 kB document far faster than a map would,
// so the reader keeps up with thousands of alerts a second.
type lightAlert struct {
	File struct {
		Path string `json:"path"`
	} `json:"file"`
	Created   time.Time `json:"@timestamp"`
	EventTime time.Time `json:"kibana.alert.original_time"`
	UUID      string    `json:"kibana.alert.uuid"`
}

// xferOptions configure startXferhunt.
type xferOptions struct {
	// Light keeps only file.path and arrival time of each alert.
	Light bool
	// Netlink says the run touches kernel audit, so a forced stop at cleanup
	// must be followed by a check that no xferhunt rule was left.
	Netlink bool
}

// xfer is a running `xferhunt --headless` whose stdout and stderr are read
// line by line as they come.
type xfer struct {
	t     testing.TB
	cmd   *exec.Cmd
	opt   xferOptions
	start time.Time

	mu      sync.Mutex
	alerts  []alert
	byUUID  map[string]int // index in alerts
	stderr  []string
	badJSON int
	// changed is closed and replaced whenever a line arrives, waking waiters.
	changed chan struct{}

	ioDone chan struct{} // both pipes at EOF
	done   chan struct{} // process reaped
	exitAt time.Time
	state  *os.ProcessState
}

// startXferhunt runs the built binary with args and reads its output.
// Cleanup stops it (SIGTERM, then SIGKILL) if the test did not.
func startXferhunt(t testing.TB, opt xferOptions, args ...string) *xfer {
	t.Helper()
	return startCommand(t, opt, exec.Command(binPath, args...))
}

// startNetlinkHeadless runs xferhunt --headless over netlink with its state
// in a fresh directory and the extra args (rules, fields), waits until it
// is ready, and returns it with the state directory.
func startNetlinkHeadless(t testing.TB, args ...string) (*xfer, string) {
	t.Helper()
	state := filepath.Join(t.TempDir(), "state")
	x := startXferhunt(t, xferOptions{Netlink: true},
		append([]string{"--headless", "--source", "netlink", "--state", state}, args...)...)
	x.waitReady(15 * time.Second)
	return x, state
}

// startCommand runs cmd (xferhunt, or a wrapper that execs it) as
// startXferhunt does.
func startCommand(t testing.TB, opt xferOptions, cmd *exec.Cmd) *xfer {
	t.Helper()
	args := cmd.Args[1:]
	// If the test binary dies, xferhunt still gets a signal it handles by
	// restoring the kernel's audit settings.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	x := &xfer{t: t, cmd: cmd, opt: opt, changed: make(chan struct{}), ioDone: make(chan struct{}), done: make(chan struct{})}
	x.start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start xferhunt: %v", err)
	}
	t.Logf("xferhunt pid %d: %s", cmd.Process.Pid, strings.Join(args, " "))
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); x.readStdout(stdout) }()
	go func() { defer wg.Done(); x.readStderr(stderr) }()
	go func() {
		wg.Wait()
		close(x.ioDone)
		// Wait only after the pipes are drained: it closes them.
		_ = cmd.Wait()
		x.mu.Lock()
		x.exitAt = time.Now()
		x.state = cmd.ProcessState
		x.mu.Unlock()
		close(x.done)
		x.notify()
	}()
	t.Cleanup(x.cleanup)
	return x
}

func (x *xfer) notify() {
	x.mu.Lock()
	close(x.changed)
	x.changed = make(chan struct{})
	x.mu.Unlock()
}

func (x *xfer) readStdout(r io.Reader) {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			a := alert{At: time.Now()}
			var perr error
			if x.opt.Light {
				var la lightAlert
				perr = json.Unmarshal(line, &la)
				a.Path, a.EventTime, a.Created, a.UUID = la.File.Path, la.EventTime, la.Created, la.UUID
			} else {
				var m map[string]any
				perr = json.Unmarshal(line, &m)
				a.Doc = ecs.Doc(m)
				a.Path = a.Doc.Str("file.path")
				a.EventTime, _ = time.Parse(time.RFC3339Nano, a.Doc.Str("kibana.alert.original_time"))
				a.Created, _ = time.Parse(time.RFC3339Nano, a.Doc.Str("@timestamp"))
				a.UUID = a.Doc.Str("kibana.alert.uuid")
			}
			x.mu.Lock()
			if perr != nil {
				x.badJSON++
			} else if i, ok := x.byUUID[a.UUID]; ok && a.UUID != "" {
				// An update of an alert already read: it replaces it, as
				// the README tells readers to; latency stays the first's.
				a.At, a.Updated, a.Lines = x.alerts[i].At, a.At, x.alerts[i].Lines+1
				x.alerts[i] = a
			} else {
				if x.byUUID == nil {
					x.byUUID = map[string]int{}
				}
				x.byUUID[a.UUID] = len(x.alerts)
				a.Lines = 1
				x.alerts = append(x.alerts, a)
			}
			close(x.changed)
			x.changed = make(chan struct{})
			x.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

func (x *xfer) readStderr(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		x.mu.Lock()
		x.stderr = append(x.stderr, sc.Text())
		close(x.changed)
		x.changed = make(chan struct{})
		x.mu.Unlock()
	}
}

// PID is xferhunt's process id.
func (x *xfer) PID() int { return x.cmd.Process.Pid }

// exited reports whether the process has been reaped.
func (x *xfer) exited() bool {
	select {
	case <-x.done:
		return true
	default:
		return false
	}
}

// waitUntil blocks until cond (called under the lock) holds, the process
// exits or timeout passes; it reports whether cond held.
func (x *xfer) waitUntil(cond func() bool, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		x.mu.Lock()
		ok, ch := cond(), x.changed
		x.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-x.done:
			x.mu.Lock()
			ok := cond()
			x.mu.Unlock()
			return ok
		case <-deadline.C:
			return false
		}
	}
}

// waitReady waits for the `ready` line on stderr.
func (x *xfer) waitReady(timeout time.Duration) {
	x.t.Helper()
	ok := x.waitUntil(func() bool {
		for _, l := range x.stderr {
			if l == "ready" {
				return true
			}
		}
		return false
	}, timeout)
	if !ok {
		x.t.Fatalf("xferhunt not ready after %v (exited: %v); stderr:\n%s", timeout, x.exited(), x.stderrText())
	}
}

// waitAlert waits for an alert on path and returns it.
func (x *xfer) waitAlert(path string, timeout time.Duration) (alert, bool) {
	var found alert
	ok := x.waitUntil(func() bool {
		for _, a := range x.alerts {
			if a.Path == path {
				found = a
				return true
			}
		}
		return false
	}, timeout)
	return found, ok
}

// waitCount waits until n alerts satisfy match. It scans each alert once:
// a rescan per line would cost the load test O(n²) CPU beside xferhunt.
func (x *xfer) waitCount(match func(alert) bool, n int, timeout time.Duration) bool {
	scanned, count := 0, 0
	return x.waitUntil(func() bool {
		for ; scanned < len(x.alerts); scanned++ {
			if match(x.alerts[scanned]) {
				count++
			}
		}
		return count >= n
	}, timeout)
}

// Alerts returns a copy of the alerts read so far.
func (x *xfer) Alerts() []alert {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]alert(nil), x.alerts...)
}

func (x *xfer) stderrText() string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return strings.Join(x.stderr, "\n")
}

// lastStatus is the last `status:` line on stderr.
func (x *xfer) lastStatus() string {
	x.mu.Lock()
	defer x.mu.Unlock()
	for i := len(x.stderr) - 1; i >= 0; i-- {
		if strings.HasPrefix(x.stderr[i], "status:") {
			return x.stderr[i]
		}
	}
	return ""
}

// stop sends SIGTERM and requires a clean exit 0 within limit; it returns
// how long the exit took.
func (x *xfer) stop(limit time.Duration) time.Duration {
	x.t.Helper()
	sent := time.Now()
	if err := x.cmd.Process.Signal(syscall.SIGTERM); err != nil && !x.exited() {
		x.t.Fatalf("SIGTERM xferhunt: %v", err)
	}
	select {
	case <-x.done:
	case <-time.After(limit):
		x.t.Fatalf("xferhunt did not exit within %v of SIGTERM; stderr:\n%s", limit, x.stderrText())
	}
	took := x.exitAt.Sub(sent)
	if code := x.state.ExitCode(); code != 0 {
		x.t.Fatalf("xferhunt exit status %d (%v) after SIGTERM, want 0; stderr:\n%s", code, x.state, x.stderrText())
	}
	x.mu.Lock()
	bad := x.badJSON
	x.mu.Unlock()
	if bad > 0 {
		x.t.Errorf("%d stdout lines were not JSON", bad)
	}
	return took
}

// cleanup stops a process the test left running and, for netlink runs,
// checks that it took its audit rules with it.
func (x *xfer) cleanup() {
	if x.exited() {
		return
	}
	_ = x.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-x.done:
		if x.opt.Netlink {
			if rules, err := auditRules(); err == nil && hasXferhuntRule(rules) {
				x.t.Errorf("xferhunt exited on SIGTERM at cleanup but left its audit rules:\n%s", rules)
			}
		}
	case <-time.After(10 * time.Second):
		x.t.Errorf("xferhunt pid %d ignored SIGTERM for 10 s; killing it", x.PID())
		_ = x.cmd.Process.Kill()
		<-x.done
	}
	x.t.Logf("xferhunt stderr:\n%s", x.stderrText())
}

// sourceStatus is one source's bracket of a status line.
type sourceStatus struct {
	Name, State                                     string
	Records, Events, Malformed, Lost, Gaps, Dropped int64
}

// engineStatus is the tail of a status line.
type engineStatus struct {
	Sources                                    []sourceStatus
	Matches, Alerts, HeldBack, Excepted, Terms int64
}

var (
	srcStatusRE = regexp.MustCompile(`\[(\S+) (live|starting|error: [^\]]*) records=(\d+) events=(\d+) malformed=(\d+) lost=(\d+) gaps=(\d+) dropped=(\d+)\]`)
	engStatusRE = regexp.MustCompile(`matches=(\d+) alerts=(\d+) held_back=(\d+) excepted=(\d+) terms=(\d+)(?: |$)`)
)

// parseStatus reads a headless `status:` line.
func parseStatus(line string) (engineStatus, error) {
	var st engineStatus
	n := func(s string) int64 { v, _ := strconv.ParseInt(s, 10, 64); return v }
	for _, m := range srcStatusRE.FindAllStringSubmatch(line, -1) {
		st.Sources = append(st.Sources, sourceStatus{Name: m[1], State: m[2], Records: n(m[3]), Events: n(m[4]),
			Malformed: n(m[5]), Lost: n(m[6]), Gaps: n(m[7]), Dropped: n(m[8])})
	}
	m := engStatusRE.FindStringSubmatch(line)
	if len(st.Sources) == 0 || m == nil {
		return st, fmt.Errorf("not a status line: %q", line)
	}
	st.Matches, st.Alerts, st.HeldBack, st.Excepted, st.Terms = n(m[1]), n(m[2]), n(m[3]), n(m[4]), n(m[5])
	return st, nil
}

// statusEventsLocked is the first source's event count in the newest
// status line (headless prints one every 10 s), 0 before the first. The
// caller holds x.mu, as waitUntil's conditions do.
func (x *xfer) statusEventsLocked() int64 {
	for i := len(x.stderr) - 1; i >= 0; i-- {
		if strings.HasPrefix(x.stderr[i], "status:") {
			if st, err := parseStatus(x.stderr[i]); err == nil {
				return st.Sources[0].Events
			}
			return 0
		}
	}
	return 0
}

// finalStatus parses the status line printed at exit.
func (x *xfer) finalStatus() engineStatus {
	x.t.Helper()
	line := x.lastStatus()
	st, err := parseStatus(line)
	if err != nil {
		x.t.Fatalf("final status: %v; stderr:\n%s", err, x.stderrText())
	}
	return st
}

// auditRules is `auditctl -l`.
func auditRules() (string, error) {
	out, err := exec.Command("/usr/sbin/auditctl", "-l").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("auditctl -l: %w: %s", err, out)
	}
	return string(out), nil
}

// hasXferhuntRule reports whether an `auditctl -l` listing holds a rule
// keyed exactly xferhunt.
func hasXferhuntRule(rules string) bool {
	for _, l := range strings.Split(rules, "\n") {
		f := strings.Fields(l)
		for i, w := range f {
			if w == "key=xferhunt" || w == "-k" && i+1 < len(f) && f[i+1] == "xferhunt" {
				return true
			}
		}
	}
	return false
}

// auditSettings is every `auditctl -s` value xferhunt may change and must
// restore (testenv.AuditStatus has three; unicast also sets the wait time).
func auditSettings(t testing.TB) map[string]string {
	t.Helper()
	out, err := exec.Command("/usr/sbin/auditctl", "-s").CombinedOutput()
	if err != nil {
		t.Fatalf("auditctl -s: %v: %s", err, out)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(l), " ")
		switch {
		case !ok:
		case k == "enabled", k == "failure", k == "pid", k == "rate_limit", k == "backlog_limit", k == "backlog_wait_time":
			m[k] = v
		}
	}
	return m
}

// dropDir makes a world-writable directory under base that the test users
// can upload into (t.TempDir's parents are private to root).
func dropDir(t testing.TB, base, pattern string) string {
	t.Helper()
	d, err := os.MkdirTemp(base, pattern)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if err := os.Chmod(d, 0o1777); err != nil {
		t.Fatal(err)
	}
	return d
}

// sshOpts mirrors testenv's client options for transfers the helpers do not
// cover (multi-file sftp batches, recursive scp).
func sshOpts(u *testenv.User, port int, bindAddr string) []string {
	return []string{
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10",
		"-o", "LogLevel=ERROR", "-o", "BindAddress=" + bindAddr, "-i", u.KeyFile, "-P", strconv.Itoa(port),
	}
}

// sftpBatch runs an sftp batch of `put src dest` lines in one session.
func sftpBatch(u *testenv.User, port int, bindAddr, batchFile string) error {
	args := append(sshOpts(u, port, bindAddr), "-b", batchFile, u.Name+"@127.0.0.1")
	out, err := exec.Command("/usr/bin/sftp", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("sftp -b %s: %w: %s", batchFile, err, out)
	}
	return nil
}

// writePayload writes a small file the uploads copy.
func writePayload(t testing.TB, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "payload.bin")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// knownBugs fails the test on the product bugs it names. They were found
// by these tests and fixed; the check stays so that they cannot return
// unnoticed.
func knownBugs(t *testing.T, bugs []string) {
	t.Helper()
	if len(bugs) > 0 {
		t.Fatal("BUG: " + strings.Join(bugs, "; "))
	}
}

// gapsBug describes a non-zero reassembler gap count: one of 2³¹ or more
// is a wrapped uint32 sequence difference (a record older than the last
// event handed on), never that many missing events.
func gapsBug(g int64) string {
	if g >= 1<<31 {
		return fmt.Sprintf("status gaps=%d: a wrapped sequence difference counted as missing events", g)
	}
	return fmt.Sprintf("status gaps=%d on a run that lost nothing in the kernel", g)
}

// describe lists alerts compactly for failure messages.
func describe(as []alert) string {
	var b strings.Builder
	for _, a := range as {
		if a.Doc != nil {
			fmt.Fprintf(&b, "\n  %s by %s (%s) from %q", a.Path, a.Doc.Str("process.executable"), a.Doc.Str("user.name"), a.Doc.Str("source.ip"))
		} else {
			fmt.Fprintf(&b, "\n  %s", a.Path)
		}
	}
	return b.String()
}

// lockAuditAlone takes the audit lock (testenv.LockAudit) and needs no
// audit daemon registered: these tests run xferhunt as the audit daemon
// (unicast) or start auditd themselves.
func lockAuditAlone(t *testing.T) {
	t.Helper()
	testenv.LockAudit(t)
	if pid, err := netlink.DaemonPID(); err != nil || pid != 0 {
		testenv.Need(t, false, "no audit daemon may be registered (pid %d, %v)", pid, err)
	}
}
