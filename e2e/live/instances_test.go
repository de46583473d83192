package live

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/internal/testenv"
	"github.com/xferhunt/xferhunt/sources/netlink"
)

// journals lists the netlink journals left in /run/xferhunt.
func journals(t *testing.T) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(netlink.JournalDir, "netlink-*.json*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTwoInstances: two xferhunt started at the same moment share kernel
// audit — one as the daemon, one reading beside it — and when the daemon
// exits, the other notices its feed stopped, takes over and keeps alerting;
// at the end the kernel is as found and no journal is left.
func TestTwoInstances(t *testing.T) {
	lockAuditAlone(t)
	before := auditSettings(t)
	u := testenv.CreateUser(t, "xfe2i-a")
	sshd := testenv.StartSSHD(t, 22257)
	payload := writePayload(t, "two instances\n")
	dir := dropDir(t, "/tmp", "xferhunt-e2e-inst-")

	args := []string{"--headless", "--ephemeral", "--source", "netlink", "--new-terms-fields", "file.path,host.id"}
	a := startXferhunt(t, xferOptions{Netlink: true}, args...)
	b := startXferhunt(t, xferOptions{Netlink: true}, args...)
	a.waitReady(15 * time.Second)
	b.waitReady(15 * time.Second)
	owner, reader := a, b
	if pid := auditSettings(t)["pid"]; pid == fmt.Sprint(b.PID()) {
		owner, reader = b, a
	} else if pid != fmt.Sprint(a.PID()) {
		t.Fatalf("audit pid %s is neither instance (%d, %d)", pid, a.PID(), b.PID())
	}

	first := filepath.Join(dir, "first.bin")
	sshd.SFTPPut(t, u, payload, first, "127.0.0.9")
	for _, x := range []*xfer{owner, reader} {
		if _, ok := x.waitAlert(first, 5*time.Second); !ok {
			t.Errorf("instance %d: no alert for %s:%s", x.PID(), first, describe(x.Alerts()))
		}
	}

	owner.stop(5 * time.Second)
	testenv.WaitFor(t, func() bool { return auditSettings(t)["pid"] == fmt.Sprint(reader.PID()) },
		5*time.Second, "the reader taking over as the audit daemon")
	second := filepath.Join(dir, "second.bin")
	sshd.SFTPPut(t, u, payload, second, "127.0.0.9")
	if _, ok := reader.waitAlert(second, 5*time.Second); !ok {
		t.Errorf("after the owner left, no alert for %s:%s\nstderr:\n%s", second, describe(reader.Alerts()), reader.stderrText())
	}
	reader.stop(5 * time.Second)
	if st := reader.finalStatus(); len(st.Sources) != 1 || !strings.HasPrefix(st.Sources[0].Name, "netlink:") {
		t.Errorf("reader's final status: %+v", st)
	}
	rules, err := auditRules()
	if err != nil {
		t.Fatal(err)
	}
	if hasXferhuntRule(rules) {
		t.Errorf("xferhunt rules left after both exited:\n%s", rules)
	}
	if after := auditSettings(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("audit settings not restored:\nbefore %v\nafter  %v", before, after)
	}
	if j := journals(t); len(j) != 0 {
		t.Errorf("journals left: %v", j)
	}
}

// TestSecondUnicastRefused: a second instance that insists on unicast fails
// with a clear message and touches nothing of the first's.
func TestSecondUnicastRefused(t *testing.T) {
	lockAuditAlone(t)
	before := auditSettings(t)
	args := []string{"--headless", "--ephemeral", "--source", "netlink:unicast"}
	a := startXferhunt(t, xferOptions{Netlink: true}, args...)
	a.waitReady(15 * time.Second)
	during := auditSettings(t)
	rulesDuring, err := auditRules()
	if err != nil {
		t.Fatal(err)
	}
	b := startXferhunt(t, xferOptions{Netlink: true}, args...)
	select {
	case <-b.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("second unicast instance still running; stderr:\n%s", b.stderrText())
	}
	if code := b.state.ExitCode(); code == 0 {
		t.Errorf("second unicast instance exited 0; stderr:\n%s", b.stderrText())
	}
	if msg := b.stderrText(); !strings.Contains(msg, fmt.Sprintf("pid %d holds the audit socket", a.PID())) {
		t.Errorf("second instance's error does not name the holder %d:\n%s", a.PID(), msg)
	}
	if now := auditSettings(t); fmt.Sprint(now) != fmt.Sprint(during) {
		t.Errorf("the failed start changed audit settings under the first:\nbefore %v\nafter  %v", during, now)
	}
	if rules, _ := auditRules(); rules != rulesDuring {
		t.Errorf("the failed start changed the rules:\nbefore:\n%s\nafter:\n%s", rulesDuring, rules)
	}
	if j := journals(t); len(j) != 1 || !strings.Contains(j[0], fmt.Sprintf("-%d.json", a.PID())) {
		t.Errorf("journals %v, want only the first instance's", j)
	}
	a.stop(5 * time.Second)
	if after := auditSettings(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("audit settings not restored:\nbefore %v\nafter  %v", before, after)
	}
	if j := journals(t); len(j) != 0 {
		t.Errorf("journals left: %v", j)
	}
}
