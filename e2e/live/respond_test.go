package live

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/internal/liveness"
	"github.com/xferhunt/xferhunt/internal/procid"
	"github.com/xferhunt/xferhunt/internal/testenv"
	"github.com/xferhunt/xferhunt/respond"
	"github.com/xferhunt/xferhunt/sources/netlink"
)

// TestRespondToRealUpload is issue 10's acceptance 1 and 2 on real parts:
// two logins (sshd, kernel audit through a live xferhunt); login A
// uploads over an sftp session it keeps open. The alert is stamped live
// and carries the sftp-server's start time; `xferhunt evidence` bundles
// it (manifest verifies, ausearch -if finds the event in the bundled
// records, a second run reports the same bundle); an upload replaced by
// a symlink afterwards is refused. Then the kill plan of the alert's
// login session, carried out, ends login A and only login A.
func TestRespondToRealUpload(t *testing.T) {
	testenv.LockAudit(t)
	if pid, err := netlink.DaemonPID(); err != nil || pid != 0 {
		testenv.Need(t, false, "no audit daemon may be registered (pid %d, %v)", pid, err)
	}
	testenv.NeedBinary(t, "/usr/bin/sftp")
	testenv.NeedBinary(t, "/usr/sbin/ausearch")
	const port = 22300
	ua := testenv.CreateUser(t, "xfe2k-a")
	ub := testenv.CreateUser(t, "xfe2k-b")
	sshd := testenv.StartSSHD(t, port)
	dir := dropDir(t, "/tmp", "xferhunt-e2e-respond-")
	x, state := startNetlinkHeadless(t, "--new-terms-fields", "file.path,host.id", "--history-window", "1d")

	// Login B: stays up through the whole test.
	bOpts := sshOpts(ub, port, "127.0.0.42")
	for i := range bOpts {
		if bOpts[i] == "-P" {
			bOpts[i] = "-p"
		}
	}
	bLogin := exec.Command("/usr/bin/ssh", append(bOpts, "-T", ub.Name+"@127.0.0.1", "sleep 600")...)
	if err := bLogin.Start(); err != nil {
		t.Fatal(err)
	}
	bDone := make(chan error, 1)
	go func() { bDone <- bLogin.Wait() }()
	t.Cleanup(func() { _ = bLogin.Process.Kill() })

	// Login A: an interactive sftp session that uploads and stays open.
	payload := writePayload(t, "respond-e2e payload\n")
	target := filepath.Join(dir, "kill.bin")
	aLogin := exec.Command("/usr/bin/sftp", append(sshOpts(ua, port, "127.0.0.41"), ua.Name+"@127.0.0.1")...)
	aIn, err := aLogin.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	aLogin.Stdout, aLogin.Stderr = io.Discard, io.Discard
	if err := aLogin.Start(); err != nil {
		t.Fatal(err)
	}
	aDone := make(chan error, 1)
	go func() { aDone <- aLogin.Wait() }()
	t.Cleanup(func() { aIn.Close(); _ = aLogin.Process.Kill() })
	fmt.Fprintf(aIn, "put %s %s\n", payload, target)

	al, ok := x.waitAlert(target, 20*time.Second)
	if !ok {
		t.Fatalf("no alert for %s:%s", target, describe(x.Alerts()))
	}
	// A second upload, replaced by a symlink before the bundle is asked.
	swapped := filepath.Join(dir, "swap.bin")
	sshd.SCP(t, ua, payload, swapped, false, "127.0.0.41")
	sw, ok := x.waitAlert(swapped, 20*time.Second)
	if !ok {
		t.Fatalf("no alert for %s:%s", swapped, describe(x.Alerts()))
	}
	if err := os.Remove(swapped); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/shadow", swapped); err != nil {
		t.Fatal(err)
	}

	st := liveness.Read(al.Doc)
	if st.Origin != liveness.Live || st.Boot != liveness.BootID() {
		t.Fatalf("a live upload's alert is stamped %+v", st)
	}
	if al.Doc.Str("xferhunt.process.start_ticks") == "" || al.Doc.Str("process.start") == "" {
		t.Fatalf("no process start recorded (%s)", al.Doc.Str("xferhunt.process.identity"))
	}
	x.stop(15 * time.Second) // the state is the evidence command's now

	// The evidence bundle.
	id := al.Doc.Str("kibana.alert.uuid")
	out, err := exec.Command(binPath, "evidence", "--state", state, "--tar", id[:12]).CombinedOutput()
	if err != nil {
		t.Fatalf("xferhunt evidence: %v\n%s", err, out)
	}
	bundle := filepath.Join(state, "evidence", id)
	if !strings.Contains(string(out), bundle) {
		t.Fatalf("evidence output does not name %s:\n%s", bundle, out)
	}
	m, err := respond.VerifyBundle(bundle)
	if err != nil {
		t.Errorf("the bundle does not verify: %v", err)
	}
	want := sha256.Sum256([]byte("respond-e2e payload\n"))
	if m.FileSHA != hex.EncodeToString(want[:]) {
		t.Errorf("manifest file sha256 %s, want the upload's", m.FileSHA)
	}
	if _, err := os.Stat(bundle + ".tar"); err != nil {
		t.Errorf("no tar: %v", err)
	}
	au, err := exec.Command("/usr/sbin/ausearch", "-if", filepath.Join(bundle, "audit.log"), "-f", target).CombinedOutput()
	if err != nil || !strings.Contains(string(au), "kill.bin") {
		t.Errorf("ausearch -if audit.log -f %s: %v\n%s", target, err, au)
	}
	proc, _ := os.ReadFile(filepath.Join(bundle, "proc.txt"))
	if pid := al.Doc.Str("process.pid"); !strings.Contains(string(proc), "\n"+pid+" ") && !strings.Contains(string(proc), " "+pid+" sftp-server") {
		t.Errorf("proc.txt does not list the live sftp-server %s:\n%s", pid, proc)
	}
	again, err := exec.Command(binPath, "evidence", "--state", state, id).CombinedOutput()
	if err != nil || !strings.Contains(string(again), "already made") {
		t.Errorf("second evidence run: %v\n%s", err, again)
	}
	sid := sw.Doc.Str("kibana.alert.uuid")
	refused, err := exec.Command(binPath, "evidence", "--state", state, sid).CombinedOutput()
	if err == nil || !strings.Contains(string(refused), "symbolic link") {
		t.Errorf("evidence of a file replaced by a symlink: %v\n%s", err, refused)
	}
	if _, err := os.Stat(filepath.Join(state, "evidence", sid)); !os.IsNotExist(err) {
		t.Errorf("a refused bundle was written: %v", err)
	}
	log, _ := exec.Command(binPath, "responses", "--state", state).CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(log)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "evidence     done") || !strings.Contains(lines[0], id[:12]) ||
		!strings.Contains(lines[1], "evidence     REFUSED") || !strings.Contains(lines[1], sid[:12]) {
		t.Errorf("response log:\n%s", log)
	}
	if ro, err := exec.Command(binPath, "evidence", "--readonly", "--state", state, sid).CombinedOutput(); err == nil || !strings.Contains(string(ro), "--readonly") {
		t.Errorf("evidence --readonly: %v\n%s", err, ro)
	}

	// The kill of login A's session.
	plan := respond.PlanKill(al.Doc, procid.Root(""))
	if plan.ProcessErr != "" || plan.SessionErr != "" {
		t.Fatalf("plan refused: process %q session %q", plan.ProcessErr, plan.SessionErr)
	}
	if b := filepath.Base(plan.Session[0].Exe); b != "sshd" && b != "sshd-session" {
		t.Fatalf("session root %+v is not sshd", plan.Session[0])
	}
	pid, _ := strconv.Atoi(al.Doc.Str("process.pid"))
	found := false
	bSes := ""
	for _, p := range plan.Session {
		found = found || p.PID == pid
	}
	if !found {
		t.Fatalf("the session plan lacks the alert's sftp-server %d:\n%s", pid, respond.Tree(plan.Session))
	}
	// Login B's processes are in another audit session, none in the plan.
	testenv.WaitFor(t, func() bool {
		bSes = sessionOfUser(ub.UID)
		return bSes != ""
	}, 10*time.Second, "login B's session")
	if bSes == plan.Ses {
		t.Fatalf("logins A and B share audit session %s", bSes)
	}
	killed, results := respond.Signal(plan.Session, procid.Root(""))
	if killed == 0 {
		t.Fatalf("nothing killed: %v", results)
	}
	// The interactive client notices only at its next command: a live
	// session would list the directory and wait for more; a dead one ends
	// sftp (pwd would not do: sftp answers it from memory).
	fmt.Fprintf(aIn, "ls\n")
	select {
	case <-aDone:
	case <-time.After(15 * time.Second):
		ss, _ := exec.Command("sh", "-c", "ss -tnp | grep 22300; ps -ef --forest | grep -E 'ssh|sftp' | grep -v grep").CombinedOutput()
		t.Fatalf("login A's sftp client still connected after the session kill: %v\n%s\n%s", results, respond.Tree(plan.Session), ss)
	}
	select {
	case err := <-bDone:
		t.Fatalf("login B ended too: %v", err)
	case <-time.After(time.Second):
	}
	if sessionOfUser(ub.UID) != bSes {
		t.Fatal("login B's session processes are gone")
	}
	testenv.WaitFor(t, func() bool { return sessionOfUser(ua.UID) == "" }, 10*time.Second, "no process of login A left")
}

// sessionOfUser is the audit session of a live (not zombie) process whose
// login uid is uid, "" when none runs.
func sessionOfUser(uid int) string {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if atoi(e.Name()) <= 0 {
			continue
		}
		lu, err := os.ReadFile(filepath.Join("/proc", e.Name(), "loginuid"))
		if err != nil || strings.TrimSpace(string(lu)) != strconv.Itoa(uid) {
			continue
		}
		if id, err := procid.Root("").Read(atoi(e.Name())); err != nil || id.State == 'Z' {
			continue
		}
		if s, err := os.ReadFile(filepath.Join("/proc", e.Name(), "sessionid")); err == nil {
			return strings.TrimSpace(string(s))
		}
	}
	return ""
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}
