package netlink

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/testenv"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditrules"
)

// pathParser stands in for sources/auditd at the netlink boundary: it emits
// one event per CREATE path record, enough to prove records arrive intact.
type pathParser struct {
	emit  func(sources.Event)
	lines *lineLog
}

type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) add(s string) { l.mu.Lock(); l.lines = append(l.lines, s); l.mu.Unlock() }
func (l *lineLog) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func (p *pathParser) Line(line []byte) {
	p.lines.add(string(line))
	if !bytes.HasPrefix(line, []byte("type=PATH msg=audit(")) || !bytes.Contains(line, []byte("nametype=CREATE")) {
		return
	}
	i := bytes.Index(line, []byte(` name="`))
	if i < 0 {
		return
	}
	name := line[i+7:]
	name = name[:bytes.IndexByte(name, '"')]
	d := ecs.Doc{}
	d.Set("file.path", string(name))
	p.emit(sources.Event{Doc: d})
}

func (p *pathParser) Flush() {}

type collector struct {
	mu  sync.Mutex
	evs []sources.Event
}

func (c *collector) emit(b []sources.Event) { c.mu.Lock(); c.evs = append(c.evs, b...); c.mu.Unlock() }
func (c *collector) path(p string) (sources.Event, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.evs {
		if e.Doc.Str("file.path") == p {
			return e, true
		}
	}
	return sources.Event{}, false
}

func newTestSource(mode Mode, rules []string, lines *lineLog) *Source {
	return New(Options{Mode: mode, Rules: rules, NewParser: func(emit func(sources.Event)) LineParser {
		return &pathParser{emit: emit, lines: lines}
	}})
}

func auditctl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("/usr/sbin/auditctl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("auditctl %v: %v: %s", args, err, out)
	}
	return string(out)
}

// statusLine picks one "key value" line out of auditctl -s.
func statusField(out, key string) string {
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), " "); ok && k == key {
			return v
		}
	}
	return ""
}

// createFile makes path with O_CREAT from a separate real process.
func createFile(t *testing.T, path string) {
	t.Helper()
	if out, err := exec.Command("/bin/sh", "-c", `: > "$1"`, "sh", path).CombinedOutput(); err != nil {
		t.Fatalf("create %s: %v: %s", path, err, out)
	}
}

func startSource(t *testing.T, s *Source, c *collector) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, c.emit) }()
	select {
	case <-s.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("source did not start: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("source not ready after 10s")
	}
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func TestUnicastCreateEventAndRestore(t *testing.T) {
	testenv.LockAudit(t)
	before := auditctl(t, "-s")
	if statusField(before, "pid") != "0" {
		t.Skipf("an audit daemon is running (%s); unicast test needs none", statusField(before, "pid"))
	}
	lines := &lineLog{}
	s := newTestSource(Auto, auditrules.Lines(), lines)
	c := &collector{}
	t0 := time.Now()
	stop := startSource(t, s, c)
	t.Logf("start took %v", time.Since(t0))
	if s.Mode() != Unicast {
		t.Fatalf("auto mode chose %v with no daemon, want unicast", s.Mode())
	}
	during := auditctl(t, "-s")
	if got := statusField(during, "pid"); got != itoa(os.Getpid()) {
		t.Errorf("audit pid while running = %s, want ours %d", got, os.Getpid())
	}
	if !strings.Contains(auditctl(t, "-l"), "key=xferhunt") {
		t.Error("auditctl -l shows no xferhunt rule while running")
	}

	path := filepath.Join(t.TempDir(), "netlink-unicast-created")
	start := time.Now()
	createFile(t, path)
	testenv.WaitFor(t, func() bool { _, ok := c.path(path); return ok }, 2*time.Second, "creation event for "+path)
	t.Logf("event after %v", time.Since(start))
	if !lines.has("type=SYSCALL msg=audit(") {
		t.Error("no SYSCALL line rebuilt from netlink records")
	}
	if h := s.Health(); !h.Live || h.Records == 0 || h.Events == 0 {
		t.Errorf("health after an event: %+v", h)
	}

	t0 = time.Now()
	if err := stop(); err != nil {
		t.Fatalf("Run returned %v", err)
	}
	t.Logf("stop took %v", time.Since(t0))
	assertRestored(t, before)
}

func TestPanicInEmitRestores(t *testing.T) {
	testenv.LockAudit(t)
	before := auditctl(t, "-s")
	if statusField(before, "pid") != "0" {
		t.Skip("an audit daemon is running; test needs none")
	}
	s := newTestSource(Unicast, auditrules.Lines(), &lineLog{})
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		done <- s.Run(ctx, func([]sources.Event) { panic("consumer exploded") })
	}()
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("source did not start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	createFile(t, filepath.Join(t.TempDir(), "netlink-panic"))
	var err error
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after emit panicked")
	}
	if err == nil || !strings.Contains(err.Error(), "consumer exploded") {
		t.Fatalf("Run error = %v, want the panic", err)
	}
	assertRestored(t, before)
}

func TestMulticastBesideAuditd(t *testing.T) {
	testenv.LockAudit(t)
	if statusField(auditctl(t, "-s"), "pid") != "0" {
		t.Skip("an audit daemon is already running")
	}
	dir := t.TempDir()
	rules := filepath.Join(dir, "xferhunt.rules")
	if err := os.WriteFile(rules, []byte(auditrules.Text), 0o600); err != nil {
		t.Fatal(err)
	}
	ad := testenv.StartAuditd(t, dir, "RAW", rules)
	daemonRules := auditctl(t, "-l")
	before := auditctl(t, "-s")

	// One extra rule auditd does not hold: ours to add and to remove.
	extra := "-a always,exit -F arch=b64 -S mkdir -F success=1 -k xferhunt"
	lines := &lineLog{}
	s := newTestSource(Auto, append(auditrules.Lines(), extra), lines)
	c := &collector{}
	stop := startSource(t, s, c)
	if s.Mode() != Multicast {
		t.Fatalf("auto mode chose %v beside auditd, want multicast", s.Mode())
	}
	if got := statusField(auditctl(t, "-s"), "pid"); got != itoa(ad.PID) {
		t.Errorf("audit pid = %s while running, want auditd's %d", got, ad.PID)
	}
	if !strings.Contains(auditctl(t, "-l"), "-S mkdir") {
		t.Error("our extra rule is not installed")
	}
	path := filepath.Join(t.TempDir(), "netlink-multicast-created")
	createFile(t, path)
	testenv.WaitFor(t, func() bool { _, ok := c.path(path); return ok }, 2*time.Second, "multicast creation event")
	if err := stop(); err != nil {
		t.Fatalf("Run returned %v", err)
	}
	if got := auditctl(t, "-l"); got != daemonRules {
		t.Errorf("auditd's rules changed:\nbefore:\n%s\nafter:\n%s", daemonRules, got)
	}
	after := auditctl(t, "-s")
	for _, k := range []string{"enabled", "pid", "backlog_limit", "backlog_wait_time"} {
		if statusField(after, k) != statusField(before, k) {
			t.Errorf("%s = %s after stop, want %s", k, statusField(after, k), statusField(before, k))
		}
	}
}

func assertRestored(t *testing.T, before string) {
	t.Helper()
	if rules := auditctl(t, "-l"); strings.Contains(rules, "xferhunt") {
		t.Errorf("xferhunt rules left behind:\n%s", rules)
	}
	after := auditctl(t, "-s")
	for _, k := range []string{"enabled", "pid", "backlog_limit", "backlog_wait_time"} {
		if statusField(after, k) != statusField(before, k) {
			t.Errorf("%s = %s after stop, want %s", k, statusField(after, k), statusField(before, k))
		}
	}
}

func TestBuildRulesCanonicalSet(t *testing.T) {
	wires, skipped, err := BuildRules(auditrules.Lines())
	if err != nil {
		t.Fatal(err)
	}
	if len(wires)+len(skipped) != len(auditrules.Lines()) || len(wires) == 0 {
		t.Fatalf("built %d, skipped %v of %d lines", len(wires), skipped, len(auditrules.Lines()))
	}
	if _, _, err := BuildRules([]string{"-a always,exit -S openat -F a2&0x40 -k"}); err == nil {
		t.Error("a rule with a dangling -k must not build")
	}
	if _, _, err := BuildRules([]string{"-w /etc -p wa"}); err == nil {
		t.Error("a file watch is not supported and must be refused")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// RestoreAll is main's path for exits that do not wait for Run (a panic
// in main, os.Exit): it must restore while the source is still running.
func TestRestoreAllWhileRunning(t *testing.T) {
	testenv.LockAudit(t)
	before := auditctl(t, "-s")
	if statusField(before, "pid") != "0" {
		t.Skip("an audit daemon is running; test needs none")
	}
	s := newTestSource(Unicast, auditrules.Lines(), &lineLog{})
	stop := startSource(t, s, &collector{})
	if !strings.Contains(auditctl(t, "-l"), "key=xferhunt") {
		t.Fatal("rules not installed")
	}
	if err := RestoreAll(); err != nil {
		t.Fatalf("RestoreAll: %v", err)
	}
	assertRestored(t, before)
	if err := RestoreAll(); err != nil {
		t.Fatalf("second RestoreAll: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatalf("Run after RestoreAll: %v", err)
	}
	assertRestored(t, before)
}

// TestBuildRulesNarrowSet: every narrow rule builds for both arches; none is
// skipped for a syscall its arch lacks.
func TestBuildRulesNarrowSet(t *testing.T) {
	lines := auditrules.NarrowLines([]string{"/usr/bin/scp", "/usr/sbin/vsftpd"})
	wires, skipped, err := BuildRules(lines)
	if err != nil || len(skipped) != 0 || len(wires) != len(lines) {
		t.Fatalf("built %d of %d, skipped %v, err %v", len(wires), len(lines), skipped, err)
	}
}

// TestNarrowFiltersInKernel proves on the running kernel that narrow rules
// record creations by the named executable and nothing of another process:
// cp stands in for a transfer program, sh for everything else on the host.
func TestNarrowFiltersInKernel(t *testing.T) {
	before, cp := lockForCP(t)
	lines := &lineLog{}
	s := newTestSource(Unicast, auditrules.NarrowLines(cp), lines)
	c := &collector{}
	stop := startSource(t, s, c)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	createFile(t, src)
	bySh := filepath.Join(dir, "by-sh")
	createFile(t, bySh)
	byCp := filepath.Join(dir, "by-cp")
	if out, err := exec.Command(cp[0], src, byCp).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	testenv.WaitFor(t, func() bool { _, ok := c.path(byCp); return ok }, 2*time.Second, "creation by cp")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// src is named in cp's exec record, so only its creation must be absent;
	// by-sh must not appear in any record.
	for _, p := range []string{src, bySh} {
		if _, ok := c.path(p); ok {
			t.Errorf("%s was created by sh, and narrow rules recorded the creation", p)
		}
	}
	if lines.has(bySh) {
		t.Errorf("a record names %s, created by sh", bySh)
	}
	if !lines.has("type=EXECVE") {
		t.Error("no exec record of cp: narrow rules must keep the transfer program's execs")
	}
	assertRestored(t, before)
}

// installProgram copies src to path the way a package manager does: written
// beside, then renamed over the path.
func installProgram(t *testing.T, src, path string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := path + ".dpkg-new"
	if err := os.WriteFile(tmp, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestNarrowFollowsPrograms: a transfer program installed after the start
// gets its rules at the next refresh, and one upgraded in place (a new
// binary renamed over the path) stays covered.
func TestNarrowFollowsPrograms(t *testing.T) {
	before, cp := lockForCP(t)
	dir := t.TempDir()
	tool := filepath.Join(dir, "tool")
	lines := &lineLog{}
	s := New(Options{Mode: Unicast, Rules: auditrules.NarrowLines(cp),
		Refresh:      func() []string { return auditrules.NarrowLines(auditrules.Executables([]string{cp[0], tool})) },
		RefreshEvery: 50 * time.Millisecond,
		NewParser: func(emit func(sources.Event)) LineParser {
			return &pathParser{emit: emit, lines: lines}
		}})
	c := &collector{}
	stop := startSource(t, s, c)
	src := filepath.Join(dir, "src")
	createFile(t, src)

	installProgram(t, cp[0], tool)
	testenv.WaitFor(t, func() bool { return strings.Contains(auditctl(t, "-l"), "exe="+tool) }, 5*time.Second, "rules for the new program")
	first := filepath.Join(dir, "by-new-program")
	if out, err := exec.Command(tool, src, first).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", tool, err, out)
	}
	testenv.WaitFor(t, func() bool { _, ok := c.path(first); return ok }, 2*time.Second, "creation by the program installed after the start")

	installProgram(t, cp[0], tool) // the upgrade: a new inode at the same path
	second := filepath.Join(dir, "by-upgraded-program")
	if out, err := exec.Command(tool, src, second).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", tool, err, out)
	}
	testenv.WaitFor(t, func() bool { _, ok := c.path(second); return ok }, 2*time.Second, "creation by the upgraded program")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	assertRestored(t, before)
}

// lockForCP takes the audit lock for a test that needs no daemon running and
// cp as a stand-in transfer program; it returns the audit status found and
// cp's real path.
func lockForCP(t *testing.T) (before string, cp []string) {
	t.Helper()
	testenv.LockAudit(t)
	before = auditctl(t, "-s")
	if statusField(before, "pid") != "0" {
		testenv.Need(t, false, "an audit daemon is running (pid %s); the test needs none", statusField(before, "pid"))
	}
	cp = auditrules.Executables([]string{"/usr/bin/cp", "/bin/cp"})
	if len(cp) == 0 {
		t.Fatal("no cp binary")
	}
	return before, cp
}
