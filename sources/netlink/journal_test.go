package netlink

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	libaudit "github.com/elastic/go-libaudit/v2"

	"github.com/xferhunt/xferhunt/internal/testenv"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditrules"
)

// childEnv makes the test binary run a unicast source until it is killed.
const childEnv = "XFERHUNT_NETLINK_KILL_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runKillChild())
	}
	os.Exit(m.Run())
}

func runKillChild() int {
	s := New(Options{Mode: Unicast, Rules: auditrules.Lines(), NewParser: func(emit func(sources.Event)) LineParser {
		return &pathParser{emit: emit, lines: &lineLog{}}
	}})
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background(), func([]sources.Event) {}) }()
	select {
	case <-s.Ready():
		fmt.Println("ready")
	case err := <-done:
		fmt.Println("failed:", err)
		return 1
	}
	select {} // until SIGKILL
}

// TestKilledSourceIsRecovered: a source killed with SIGKILL cannot restore
// the kernel; the next start finds its journal and does.
func TestKilledSourceIsRecovered(t *testing.T) {
	testenv.LockAudit(t)
	before := auditctl(t, "-s")
	if statusField(before, "pid") != "0" {
		testenv.Need(t, false, "an audit daemon is running (pid %s); the test needs none", statusField(before, "pid"))
	}
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"=1")
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("child source: %q", line)
	}
	if got := statusField(auditctl(t, "-s"), "pid"); got != itoa(child.Process.Pid) {
		t.Fatalf("audit pid %s, want the child's %d", got, child.Process.Pid)
	}
	if _, err := os.Stat(journalPath(child.Process.Pid)); err != nil {
		t.Fatalf("no journal while running: %v", err)
	}

	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	if !strings.Contains(auditctl(t, "-l"), "key=xferhunt") {
		t.Fatal("the killed source's rules are gone already: nothing left to recover, the test proves nothing")
	}

	sock, err := newSocket(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	n, err := RecoverStale(&libaudit.AuditClient{Netlink: sock})
	if err != nil || n != 1 {
		t.Fatalf("RecoverStale = %d, %v; want 1 journal recovered", n, err)
	}
	// The kernel may take a moment to drop a dead pid's registration.
	testenv.WaitFor(t, func() bool { return statusField(auditctl(t, "-s"), "pid") == statusField(before, "pid") }, 2*time.Second, "audit pid restored")
	assertRestored(t, before)
	if _, err := os.Stat(journalPath(child.Process.Pid)); !os.IsNotExist(err) {
		t.Fatalf("journal still there after recovery: %v", err)
	}
}
