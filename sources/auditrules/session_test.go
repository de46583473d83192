package auditrules_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	libaudit "github.com/elastic/go-libaudit/v2"
	"github.com/elastic/go-libaudit/v2/rule"
	"github.com/elastic/go-libaudit/v2/rule/flags"

	"github.com/xferhunt/xferhunt/internal/testenv"
	"github.com/xferhunt/xferhunt/sources/auditrules"
)

// build parses a line with go-libaudit's own auditctl-syntax parser (not
// netlink's) and builds the kernel rule from it: a line both accept is one
// auditctl users and the netlink source read alike.
func build(t *testing.T, l string) rule.WireFormat {
	t.Helper()
	r, err := flags.Parse(l)
	if err != nil {
		t.Errorf("flags.Parse(%q): %v", l, err)
		return nil
	}
	w, err := rule.Build(r)
	if err != nil {
		t.Errorf("rule.Build(%q): %v", l, err)
	}
	return w
}

// syscalls returns the -S list of a line.
func syscalls(l string) []string {
	f := strings.Fields(l)
	for i := range f[:len(f)-1] {
		if f[i] == "-S" {
			return strings.Split(f[i+1], ",")
		}
	}
	return nil
}

func TestSessionLines(t *testing.T) {
	lines := auditrules.SessionLines(4242)
	if len(lines) == 0 {
		t.Fatal("no session lines")
	}
	got := map[string][]string{} // arch → syscalls
	for _, l := range lines {
		build(t, l)
		for _, want := range []string{" -F auid!=unset ", " -F pid!=4242 "} {
			if !strings.Contains(l, want) {
				t.Errorf("session rule without%s: %s", want, l)
			}
		}
		if !strings.Contains(l, " -F success=1 ") && !strings.Contains(l, " -S connect -F auid!=unset -F pid!=4242 -F exit=-EINPROGRESS ") {
			t.Errorf("session rule records failures: %s", l)
		}
		if !strings.HasSuffix(l, " -k "+auditrules.Key) || strings.Contains(l, "exe=") {
			t.Errorf("session rule without the key, or limited to a program: %s", l)
		}
		arch := strings.Fields(l)[3]
		for _, sc := range syscalls(l) {
			switch {
			case sc == "open" && !strings.Contains(l, "a1&0x40"), sc == "openat" && !strings.Contains(l, "a2&0x40"):
				t.Errorf("%s records every open, not only creating ones: %s", sc, l)
			}
			got[arch] = append(got[arch], sc)
		}
	}
	if runtime.GOARCH != "amd64" {
		t.Skipf("the expected syscall lists are x86's; got %v", got)
	}
	// x86 has every one of them on both arches (i386 too: chmod, unlink,
	// fchmodat2); an arm64 host would keep the *at forms only.
	want := []string{"execve", "execveat", "openat2", "creat", "mknod", "mknodat", "link", "linkat", "symlink", "symlinkat",
		"rename", "renameat", "renameat2", "chmod", "fchmod", "fchmodat", "fchmodat2", "unlink", "unlinkat", "rmdir", "connect", "open", "openat", "connect"}
	for _, arch := range []string{"arch=b64", "arch=b32"} {
		if !slices.Equal(got[arch], want) {
			t.Errorf("%s syscalls %v, want %v", arch, got[arch], want)
		}
	}
	for _, l := range auditrules.SessionLines(0) {
		if strings.Contains(l, "pid!=") {
			t.Errorf("no pid to leave out, yet: %s", l)
		}
	}
}

// TestForParses: every line of both coverages on this host parses with
// go-libaudit's flags parser and builds into a kernel rule (the broad file
// lists x86 syscalls: elsewhere the netlink source skips its lines naming
// a syscall the arch lacks).
func TestForParses(t *testing.T) {
	narrow := auditrules.For(auditrules.Narrow, os.Getpid())
	session := auditrules.SessionLines(os.Getpid())
	if len(narrow) < len(session) || !slices.Equal(narrow[len(narrow)-len(session):], session) {
		t.Errorf("narrow coverage does not end with the session lines:\n%s", strings.Join(narrow, "\n"))
	}
	for _, l := range narrow {
		build(t, l)
	}
	if runtime.GOARCH == "amd64" {
		for _, l := range auditrules.For(auditrules.Broad, os.Getpid()) {
			build(t, l)
		}
	}
	t.Logf("narrow coverage on this host, %d lines:\n%s", len(narrow), strings.Join(narrow, "\n"))
}

func TestKnown(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("x86 syscall tables")
	}
	if got := auditrules.Known("b64", []string{"accept", "nosuch", "fchmodat2"}); !slices.Equal(got, []string{"accept", "fchmodat2"}) {
		t.Errorf("Known(b64) = %v", got)
	}
	if got := auditrules.Known("b32", []string{"accept", "chmod"}); !slices.Equal(got, []string{"chmod"}) {
		t.Errorf("Known(b32) = %v: i386 accepts through socketcall", got)
	}
}

// TestSessionRulesLive installs the session rules in the kernel (as the
// netlink source does: go-libaudit's client; auditctl before 3.1 does not
// know fchmodat2) beside a private auditd and checks what they record: a
// login session's creation, chmod, removals, connect and exec; not its
// read-only open, nothing of a process with no login uid, nothing of the
// excluded pid although it is in a login session.
func TestSessionRulesLive(t *testing.T) {
	testenv.LockAudit(t)
	testenv.NeedBinary(t, "/bin/bash")
	dir := t.TempDir()
	ad := testenv.StartAuditd(t, filepath.Join(dir, "auditd"), "ENRICHED", "")
	work := t.TempDir()

	// self stands for xferhunt: in a login session, its pid in the rules.
	self := exec.Command("/bin/bash", "-c", `echo 1001 >/proc/self/loginuid || exit 3; read -r _; : >"$1/self-created"`, "self", work)
	release, err := self.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := self.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = self.Process.Kill(); _ = self.Wait() }()
	testenv.WaitFor(t, func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/loginuid", self.Process.Pid))
		return string(b) == "1001"
	}, 10*time.Second, "the stand-in's login uid")

	client, err := libaudit.NewAuditClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	var added []rule.WireFormat
	t.Cleanup(func() { // before LockAudit's own clean-up, which checks it
		defer client.Close()
		for _, w := range added {
			if err := client.DeleteRule(w); err != nil {
				t.Errorf("delete rule: %v", err)
			}
		}
	})
	for _, l := range auditrules.SessionLines(self.Process.Pid) {
		w := build(t, l)
		if err := client.AddRule(w); err != nil {
			t.Fatalf("add %s: %v", l, err)
		}
		added = append(added, w)
	}

	// A daemon: no login uid (made so if this test runs inside a session).
	daemon := exec.Command("/bin/bash", "-c", `read -r l </proc/self/loginuid; [ "$l" = 4294967295 ] || echo 4294967295 >/proc/self/loginuid || exit 3
: >"$1/daemon-created"; chmod 755 "$1/daemon-created"; exec /bin/true daemon-marker`, "daemon", work)
	if out, err := daemon.CombinedOutput(); err != nil {
		t.Fatalf("daemon: %v %s", err, out)
	}
	if _, err := release.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
	if err := self.Wait(); err != nil {
		t.Fatalf("stand-in: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	story := filepath.Join(work, "story")
	session := exec.Command("/bin/bash", "-c", `echo 1001 >/proc/self/loginuid || exit 3
f=$1/story; : >"$f"; cat "$f"; chmod 755 "$f"; rm "$f"; mkdir "$1/d"; rmdir "$1/d"
exec 3<>/dev/tcp/127.0.0.1/$2; exec 3>&-
XFERHUNT_DIAL=127.0.0.1:$2 "$3" -test.run='^TestDialHelper$' || exit 4
exec /bin/true session-marker`, "session", work, strconv.Itoa(port), os.Args[0])
	if out, err := session.CombinedOutput(); err != nil {
		t.Fatalf("session: %v %s", err, out)
	}

	// The exec is the session's last act: once it is logged, all is.
	testenv.WaitFor(t, func() bool {
		b, _ := os.ReadFile(ad.LogPath)
		return strings.Contains(string(b), "session-marker")
	}, 10*time.Second, "the session's last exec in the log")
	ad.Stop(t)
	b, err := os.ReadFile(ad.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	events := eventsOf(string(b))
	find := func(parts ...string) int {
		n := 0
		for _, e := range events {
			if !strings.Contains(e, `key="xferhunt"`) {
				continue
			}
			all := true
			for _, p := range parts {
				all = all && strings.Contains(e, p)
			}
			if all {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		what  string
		parts []string
	}{
		{"creation", []string{"SYSCALL=openat", pathField(story) + " ", "auid=1001 "}},
		{"chmod", []string{"SYSCALL=fchmodat", pathField(story) + " "}},
		{"unlink", []string{"SYSCALL=unlinkat", pathField(story) + " "}},
		{"rmdir", []string{"SYSCALL=rmdir", pathField(filepath.Join(work, "d")) + " "}},
		{"connect", []string{"SYSCALL=connect", "success=yes", fmt.Sprintf("lport=%d ", port)}},
		{"non-blocking connect", []string{"SYSCALL=connect", "exit=-115 ", fmt.Sprintf("lport=%d ", port)}},
		{"exec with args", []string{"SYSCALL=execve", `a1="session-marker"`}},
	} {
		if find(c.parts...) == 0 {
			t.Errorf("session %s not recorded (want an event with %q)", c.what, c.parts)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", b)
	}
	// Create, chmod, unlink: cat's read-only open is not a fourth.
	if n := countEventsNaming(string(b), story); n != 3 {
		t.Errorf("%s named by %d events, want 3 (read-only open logged?)", story, n)
	}
	for _, quiet := range []string{"daemon-created", "daemon-marker", "self-created"} {
		if n := find(quiet); n != 0 {
			t.Errorf("%d events about %s, want none", n, quiet)
		}
	}
}

// TestDialHelper, run by TestSessionRulesLive inside its login session,
// connects as Go does (a non-blocking socket: connect returns EINPROGRESS).
func TestDialHelper(t *testing.T) {
	addr := os.Getenv("XFERHUNT_DIAL")
	if addr == "" {
		t.Skip("helper of TestSessionRulesLive")
	}
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// eventsOf groups a log's records by event id.
func eventsOf(log string) map[string]string {
	ev := map[string]string{}
	for _, l := range strings.Split(log, "\n") {
		i := strings.Index(l, "msg=audit(")
		if i < 0 {
			continue
		}
		j := strings.Index(l[i:], ")")
		if j < 0 {
			continue
		}
		id := l[i : i+j]
		ev[id] += l + "\n"
	}
	return ev
}

// --coverage transfers is narrow without the session rules.
func TestTransfersCoverage(t *testing.T) {
	c, err := auditrules.ParseCoverage("transfers")
	if err != nil || c != auditrules.Transfers || c.String() != "transfers" {
		t.Fatalf("%v %v", c, err)
	}
	narrow, transfers := auditrules.For(auditrules.Narrow, 4242), auditrules.For(auditrules.Transfers, 4242)
	session := auditrules.SessionLines(4242)
	if len(session) == 0 || len(narrow) != len(transfers)+len(session) {
		t.Fatalf("narrow %d lines, transfers %d, session %d", len(narrow), len(transfers), len(session))
	}
	for _, l := range transfers {
		if strings.Contains(l, "auid") {
			t.Errorf("a session rule in transfers coverage: %s", l)
		}
	}
}
