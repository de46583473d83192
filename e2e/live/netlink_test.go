package live

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/internal/testenv"
	"github.com/xferhunt/xferhunt/sources/netlink"
)

// alertBound is the acceptance latency from the end of an upload command to
// its alert line on stdout.
const alertBound = 2 * time.Second

// ports are one test's servers; each test has its own block in 22240–22259.
type ports struct{ ssh, ftp, pasvMin, pasvMax int }

// wantAlert is what an upload that is a new term must produce.
type wantAlert struct{ exe, ip, user string }

// upload is one real transfer of the scenario and the alert it must raise
// (nil: none).
type upload struct {
	name string
	dest string
	do   func()
	want *wantAlert
}

// uploadScenario runs the uploads of the netlink acceptance against a
// running xferhunt (seed rule: new terms are process.executable+host.id)
// and checks that exactly the new-terms alerts arrive, each within
// alertBound of its upload, attributed to the right user and client
// address. It returns the paths uploaded, for checks on other consumers.
func uploadScenario(t *testing.T, x *xfer, p ports, prefix string) []string {
	t.Helper()
	ua := testenv.CreateUser(t, prefix+"-a")
	ub := testenv.CreateUser(t, prefix+"-b")
	sshd := testenv.StartSSHD(t, p.ssh)
	ftpd := testenv.StartVsftpd(t, p.ftp, p.pasvMin, p.pasvMax)
	payload := writePayload(t, "#!/bin/sh\necho dropped\n")
	dir := dropDir(t, "/tmp", "xferhunt-e2e-"+prefix+"-")
	runDir := dropDir(t, "/run", "xferhunt-e2e-"+prefix+"-")

	sftpExe, scpExe, ftpExe := "/usr/lib/openssh/sftp-server", "/usr/bin/scp", "/usr/sbin/vsftpd"
	var ups []upload
	add := func(name, dest string, want *wantAlert, do func(dest string)) {
		ups = append(ups, upload{name: name, dest: dest, want: want, do: func() { do(dest) }})
	}
	// First, so that if /run were not excluded it would take sftp-server's
	// term and the next upload's alert would be missing.
	add("sftp-mode scp into /run (excluded)", filepath.Join(runDir, "into-run.bin"), nil,
		func(d string) { sshd.SCP(t, ua, payload, d, false, "127.0.0.5") })
	add("scp in SFTP mode", filepath.Join(dir, "sftp-mode.bin"), &wantAlert{sftpExe, "127.0.0.5", ua.Name},
		func(d string) { sshd.SCP(t, ua, payload, d, false, "127.0.0.5") })
	add("legacy scp -O", filepath.Join(dir, "legacy-scp.bin"), &wantAlert{scpExe, "127.0.0.6", ua.Name},
		func(d string) { sshd.SCP(t, ua, payload, d, true, "127.0.0.6") })
	// Same executable and host as the SFTP-mode upload: not a new term.
	add("sftp put by another user", filepath.Join(dir, "other-user-put.bin"), nil,
		func(d string) { sshd.SFTPPut(t, ub, payload, d, "127.0.0.7") })
	add("FTP upload to vsftpd", filepath.Join(dir, "via-ftp.bin"), &wantAlert{ftpExe, "127.0.0.8", ub.Name},
		func(d string) { ftpd.FTPPut(t, ub, payload, d, "127.0.0.8") })

	var paths []string
	for _, u := range ups {
		u.do()
		done := time.Now()
		paths = append(paths, u.dest)
		if _, err := os.Stat(u.dest); err != nil {
			t.Fatalf("%s: upload did not land: %v", u.name, err)
		}
		if u.want == nil {
			continue
		}
		// Wait past the bound so a late alert is measured, not just missed.
		a, ok := x.waitAlert(u.dest, alertBound+3*time.Second)
		if !ok {
			t.Errorf("%s: no alert for %s within %v; alerts so far:%s", u.name, u.dest, alertBound+3*time.Second, describe(x.Alerts()))
			continue
		}
		lat := a.At.Sub(done)
		t.Logf("%s: alert %v after the upload command returned", u.name, lat.Round(time.Millisecond))
		if lat > alertBound {
			t.Errorf("%s: alert arrived %v after the upload, want <= %v", u.name, lat, alertBound)
		}
		d := a.Doc
		for field, want := range map[string]string{
			"process.executable":     u.want.exe,
			"source.ip":              u.want.ip,
			"user.name":              u.want.user,
			"file.path":              u.dest,
			"event.action":           "creation",
			"kibana.alert.rule.type": "new_terms",
		} {
			if got := d.Str(field); got != want {
				t.Errorf("%s: %s = %q, want %q", u.name, field, got, want)
			}
		}
		if nt := d.Values("kibana.alert.new_terms"); len(nt) != 2 || nt[0] != u.want.exe {
			t.Errorf("%s: kibana.alert.new_terms = %v, want [%s, host.id]", u.name, nt, u.want.exe)
		}
	}
	// Give an alert the excluded or repeated uploads should not have raised
	// the same time the real ones got to arrive.
	time.Sleep(alertBound)
	return paths
}

// checkScenarioAlerts asserts that the run raised exactly the scenario's
// three alerts, once each, and nothing else, with clean source counters;
// it returns the known product bugs it saw, for knownBugs at the test's end.
func checkScenarioAlerts(t *testing.T, x *xfer, paths []string) []string {
	t.Helper()
	as := x.Alerts()
	want := map[string]bool{}
	for _, p := range paths {
		if strings.Contains(p, "sftp-mode") || strings.Contains(p, "legacy-scp") || strings.Contains(p, "via-ftp") {
			want[p] = true
		}
	}
	seen := map[string]int{}
	for _, a := range as {
		seen[a.Path]++
	}
	for p := range want {
		if seen[p] != 1 {
			t.Errorf("%d alerts for %s, want exactly 1", seen[p], p)
		}
	}
	if len(as) != len(want) {
		t.Errorf("%d alerts, want exactly %d (sftp-server, scp, vsftpd):%s", len(as), len(want), describe(as))
	}
	st := x.finalStatus()
	if st.Alerts != int64(len(want)) {
		t.Errorf("final status counts %d alerts, want %d: %s", st.Alerts, len(want), x.lastStatus())
	}
	var bugs []string
	for _, s := range st.Sources {
		if s.Lost != 0 || s.Dropped != 0 || s.Malformed != 0 {
			t.Errorf("source %s: lost %d, dropped %d, malformed %d on an idle host, want none", s.Name, s.Lost, s.Dropped, s.Malformed)
		}
		// A split event that cost a creation shows in the exact alert
		// check above; a wrapped count is the bug this guards against.
		if s.Gaps >= 1<<31 {
			bugs = append(bugs, gapsBug(s.Gaps))
		} else if s.Gaps != 0 {
			t.Logf("source %s: %d reassembly gaps", s.Name, s.Gaps)
		}
	}
	return bugs
}

// TestUnicast is the acceptance of `xferhunt --headless --source netlink`:
// xferhunt is the audit daemon, real uploads by new users raise exactly
// the new-terms alerts within 2 s, and SIGTERM leaves the kernel as found.
func TestUnicast(t *testing.T) {
	lock := testenv.LockAudit(t)
	if pid, err := netlink.DaemonPID(); err != nil || pid != 0 {
		testenv.Need(t, false, "no audit daemon may be registered for unicast (pid %d, %v)", pid, err)
	}
	before := auditSettings(t)
	if hasXferhuntRule(lock.Rules) {
		t.Fatalf("xferhunt rules present before the test:\n%s", lock.Rules)
	}

	x := startXferhunt(t, xferOptions{Netlink: true}, "--headless", "--ephemeral", "--source", "netlink")
	x.waitReady(15 * time.Second)
	running := auditSettings(t)
	if running["pid"] != fmt.Sprint(x.PID()) {
		t.Errorf("while running, audit pid is %s, want xferhunt's %d", running["pid"], x.PID())
	}
	if rules, err := auditRules(); err != nil || !hasXferhuntRule(rules) {
		t.Errorf("while running, no xferhunt rule is installed (%v):\n%s", err, rules)
	}

	paths := uploadScenario(t, x, ports{22240, 22241, 22242, 22244}, "xfe2u")

	took := x.stop(5 * time.Second)
	t.Logf("exit %v after SIGTERM; %s", took.Round(time.Millisecond), x.lastStatus())
	bugs := checkScenarioAlerts(t, x, paths)
	st := x.finalStatus()
	if len(st.Sources) != 1 || st.Sources[0].Name != "netlink:unicast" {
		t.Errorf("final status names %+v, want one netlink:unicast source", st.Sources)
	}
	rules, err := auditRules()
	if err != nil {
		t.Fatal(err)
	}
	if hasXferhuntRule(rules) {
		t.Errorf("xferhunt rules left after exit:\n%s", rules)
	}
	if rules != lock.Rules {
		t.Errorf("audit rules changed:\nbefore:\n%s\nafter:\n%s", lock.Rules, rules)
	}
	if after := auditSettings(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("audit settings not restored:\nbefore %v\nafter  %v", before, after)
	}
	knownBugs(t, bugs)
}

// ownRulesKey tags the rules the multicast test's auditd loads itself.
const ownRulesKey = "e2e-own"

// TestMulticast is the acceptance of the default source beside a running
// auditd with rules of its own: xferhunt joins the multicast group,
// auditd keeps its pid, rules and log, and the same alerts arrive.
func TestMulticast(t *testing.T) {
	testenv.LockAudit(t)
	if pid, err := netlink.DaemonPID(); err != nil || pid != 0 {
		testenv.Need(t, false, "the test starts its own auditd; another audit daemon is registered (pid %d, %v)", pid, err)
	}
	// Runs after auditd stops (cleanups are LIFO) and before LockAudit
	// compares the rule list: auditd never deletes its rules itself.
	t.Cleanup(func() {
		if out, err := exec.Command("/usr/sbin/auditctl", "-D", "-k", ownRulesKey).CombinedOutput(); err != nil {
			t.Errorf("delete own rules: %v: %s", err, out)
		}
	})
	dir := t.TempDir()
	markerDir := dropDir(t, "/tmp", "xferhunt-e2e-marker-")
	marker := filepath.Join(markerDir, "marker")
	own := fmt.Sprintf("-w %s -p wa -k %s\n-a always,exit -F arch=b64 -S sethostname -k %s\n", marker, ownRulesKey, ownRulesKey)
	rulesFile := filepath.Join(dir, "own.rules")
	if err := os.WriteFile(rulesFile, []byte(own), 0o600); err != nil {
		t.Fatal(err)
	}
	ad := testenv.StartAuditd(t, filepath.Join(dir, "auditd"), "RAW", rulesFile)
	ownRules, err := auditRules()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(ownRules, ownRulesKey) != 2 {
		t.Fatalf("auditd did not load its own rules:\n%s", ownRules)
	}
	before := auditSettings(t)

	x := startXferhunt(t, xferOptions{Netlink: true}, "--headless", "--ephemeral")
	x.waitReady(15 * time.Second)
	if st := auditSettings(t); st["pid"] != fmt.Sprint(ad.PID) {
		t.Errorf("while xferhunt runs, audit pid is %s, want auditd's %d", st["pid"], ad.PID)
	}
	if rules, err := auditRules(); err != nil || !hasXferhuntRule(rules) || !strings.Contains(rules, ownRulesKey) {
		t.Errorf("while running, want both auditd's and xferhunt's rules (%v):\n%s", err, rules)
	}

	paths := uploadScenario(t, x, ports{22245, 22246, 22247, 22249}, "xfe2m")

	// auditd kept logging through the run: it has the uploads' records.
	log, err := os.ReadFile(ad.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		// vsftpd opens a name relative to its working directory.
		if !strings.Contains(string(log), `name="`+p+`"`) && !strings.Contains(string(log), `name="`+filepath.Base(p)+`"`) {
			t.Errorf("auditd's log lacks the creation of %s", p)
		}
	}

	took := x.stop(5 * time.Second)
	t.Logf("exit %v after SIGTERM; %s", took.Round(time.Millisecond), x.lastStatus())
	bugs := checkScenarioAlerts(t, x, paths)
	st := x.finalStatus()
	if len(st.Sources) != 1 || st.Sources[0].Name != "netlink:multicast" {
		t.Errorf("auto chose %+v beside auditd, want one netlink:multicast source", st.Sources)
	}

	after := auditSettings(t)
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("audit settings changed by xferhunt beside auditd:\nbefore %v\nafter  %v", before, after)
	}
	rules, err := auditRules()
	if err != nil {
		t.Fatal(err)
	}
	if rules != ownRules {
		t.Errorf("after exit, rules differ from auditd's own:\nwant:\n%s\ngot:\n%s", ownRules, rules)
	}
	// auditd is alive and its own rule still feeds it after xferhunt left.
	if err := syscall.Kill(ad.PID, 0); err != nil {
		t.Fatalf("auditd pid %d gone after xferhunt exited: %v", ad.PID, err)
	}
	if err := os.WriteFile(marker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, func() bool {
		b, _ := os.ReadFile(ad.LogPath)
		return strings.Contains(string(b), `key="`+ownRulesKey+`"`) && strings.Contains(string(b), `name="`+marker+`"`)
	}, 10*time.Second, "auditd logging its own rule's record after xferhunt exited")
	knownBugs(t, bugs)
}

// TestFatalErrorRestoresAudit: a Go fatal error (here a real stack
// overflow, set off by a hidden debug variable a second after the unicast
// source starts changing the kernel) ends the process at once, past every
// deferred restore; before the watchdog the rules, the audit pid and the
// settings stayed until the next start. The watchdog copy sees the
// process end and undoes its journal: no xferhunt rule is left and the
// settings are as found. The exit status stays Go's 2 (README Known
// limits).
func TestFatalErrorRestoresAudit(t *testing.T) {
	lock := testenv.LockAudit(t)
	if pid, err := netlink.DaemonPID(); err != nil || pid != 0 {
		testenv.Need(t, false, "no audit daemon may be registered for unicast (pid %d, %v)", pid, err)
	}
	before := auditSettings(t)
	cmd := exec.Command(binPath, "--headless", "--ephemeral", "--source", "netlink:unicast")
	cmd.Env = append(os.Environ(), "XFERHUNT_DEBUG_FATAL=stack-overflow")
	x := startCommand(t, xferOptions{Netlink: true}, cmd)
	x.waitReady(15 * time.Second)
	if rules, err := auditRules(); err != nil || !hasXferhuntRule(rules) {
		t.Fatalf("no xferhunt rule while running (%v): the test would prove nothing", err)
	}
	select {
	case <-x.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("the debug fatal error did not end xferhunt; stderr:\n%s", x.stderrText())
	}
	stderr := x.stderrText()
	if code := x.state.ExitCode(); code != 2 || !strings.Contains(stderr, "fatal error: stack overflow") {
		t.Fatalf("exit %d, want Go's 2 after a fatal error; stderr:\n%.2000s", code, stderr)
	}
	if want := fmt.Sprintf("xferhunt: watchdog: pid %d ended without restoring kernel audit; its rules and settings are restored", x.PID()); !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%.2000s", want, stderr)
	}
	rules, err := auditRules()
	if err != nil {
		t.Fatal(err)
	}
	if hasXferhuntRule(rules) || rules != lock.Rules {
		t.Errorf("audit rules after the fatal error:\n%s\nbefore:\n%s", rules, lock.Rules)
	}
	testenv.WaitFor(t, func() bool { return fmt.Sprint(auditSettings(t)) == fmt.Sprint(before) }, 3*time.Second, "audit settings restored")
	if _, err := os.Stat(filepath.Join(netlink.JournalDir, fmt.Sprintf("netlink-%d.json", x.PID()))); !os.IsNotExist(err) {
		t.Errorf("journal of the dead run still there: %v", err)
	}
}
