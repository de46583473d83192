package capture

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/internal/testenv"
)

var update = flag.Bool("update", false, "record testdata/capture/*.log anew with real servers (root, kernel audit)")

const dataDir = "../../testdata/capture"

// Ports of this package (22220–22229 are reserved for the capture).
const (
	sshPort  = 22220
	ftpPort  = 22221
	pasvMin  = 22222
	pasvMax  = 22225
	runDir   = "/run/xferhunt-test"
	stepGap  = 1500 * time.Millisecond
	evilName = "/tmp/evil\x1b]0;pwned\a name\nline2.bin"
)

func TestCapture(t *testing.T) {
	if !*update {
		checkCommitted(t)
		return
	}
	testenv.NeedRoot(t)
	exp := Expected{
		Date:    time.Now().UTC().Format(time.RFC3339),
		Kernel:  strings.TrimSpace(cmdOut("uname", "-r")),
		OpenSSH: strings.TrimSpace(cmdOut("ssh", "-V")),
		Vsftpd:  strings.TrimSpace(cmdOut("dpkg-query", "-W", "-f", "${Version}", "vsftpd")),
		Auditd:  strings.TrimSpace(cmdOut("dpkg-query", "-W", "-f", "${Version}", "auditd")),
		Curl:    strings.TrimSpace(cmdOut("dpkg-query", "-W", "-f", "${Version}", "curl")),
		SSHPort: sshPort, FTPPort: ftpPort,
	}
	for _, f := range []struct{ format, log string }{{"RAW", "raw.log"}, {"ENRICHED", "enriched.log"}} {
		var run Run
		t.Run(f.format, func(t *testing.T) { run = record(t, f.format, f.log) })
		if t.Failed() {
			return
		}
		exp.Runs = append(exp.Runs, run)
	}
	for _, u := range exp.Runs[0].Uploads {
		if u.Alert {
			exp.ExpectedAlerts++
		}
	}
	evid := map[string][]string{}
	for _, r := range exp.Runs {
		data, err := os.ReadFile(filepath.Join(dataDir, r.Log))
		if err != nil {
			t.Fatal(err)
		}
		events := groupEvents(string(data))
		for _, u := range r.Uploads {
			evid[r.Log] = append(evid[r.Log], evidence(events, u))
		}
	}
	readme := renderReadme(exp, evid)
	if err := os.WriteFile(filepath.Join(dataDir, "README.md"), []byte(readme), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(exp, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "expected.json"), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	checkCommitted(t)
}

// record performs one full capture with auditd in the given log format and writes the
// scrubbed log to testdata/capture/name.
func record(t *testing.T, format, name string) Run {
	testenv.LockAudit(t)
	dir := t.TempDir()
	rules, err := filepath.Abs("../../sources/auditrules/xferhunt.rules")
	if err != nil {
		t.Fatal(err)
	}
	dropped := []string{"/tmp/dropped-sftpmode.bin", "/tmp/dropped-legacy.bin", "/tmp/dropped-sftp-put.bin", "/tmp/dropped-ftp.bin", runDir + "/dropped-run.bin", evilName}
	removeAll := func() {
		for _, p := range dropped {
			_ = os.Remove(p)
		}
		_ = os.Remove(runDir)
	}
	removeAll() // a file that already exists would be logged as NORMAL, not CREATE
	t.Cleanup(removeAll)
	if err := os.Mkdir(runDir, 0o1777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(runDir, 0o1777); err != nil {
		t.Fatal(err)
	}
	payload := filepath.Join(dir, "payload.bin")
	if err := os.WriteFile(payload, []byte("xferhunt capture payload\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	ad := testenv.StartAuditd(t, filepath.Join(dir, "auditd"), format, rules)
	victim := testenv.CreateUser(t, "xfvictim")
	other := testenv.CreateUser(t, "xfother")
	sshd := testenv.StartSSHD(t, sshPort)
	ftpd := testenv.StartVsftpd(t, ftpPort, pasvMin, pasvMax)

	var ups []Upload
	step := func(u *testenv.User, tool, server, exe, ip, path string, alert bool, why string, do func()) {
		time.Sleep(stepGap) // spacing the uploads in time is part of what is captured
		at := time.Now().UTC()
		do()
		ups = append(ups, Upload{Step: len(ups) + 1, User: u.Name, UID: u.UID, Tool: tool, Server: server,
			ServerExe: exe, SourceIP: ip, Path: path, Time: at.Format(time.RFC3339Nano), Alert: alert, Why: why})
	}
	const sftpSrv, scpExe, ftpExe = "/usr/lib/openssh/sftp-server", "/usr/bin/scp", "/usr/sbin/vsftpd"
	step(victim, "scp", "sshd", sftpSrv, "127.0.0.5", dropped[0], true, "first creation by sftp-server: new term", func() {
		sshd.SCP(t, victim, payload, dropped[0], false, "127.0.0.5")
	})
	step(victim, "scp -O", "sshd", scpExe, "127.0.0.6", dropped[1], true, "first creation by scp: new term", func() {
		sshd.SCP(t, victim, payload, dropped[1], true, "127.0.0.6")
	})
	step(other, "sftp put", "sshd", sftpSrv, "127.0.0.7", dropped[2], false, "sftp-server already seen", func() {
		sshd.SFTPPut(t, other, payload, dropped[2], "127.0.0.7")
	})
	step(victim, "curl ftp", "vsftpd", ftpExe, "127.0.0.8", dropped[3], true, "first creation by vsftpd: new term", func() {
		ftpd.FTPPut(t, victim, payload, dropped[3], "127.0.0.8")
	})
	step(victim, "scp", "sshd", sftpSrv, "127.0.0.5", dropped[4], false, "file.path /run/* excluded by the query", func() {
		sshd.SCP(t, victim, payload, dropped[4], false, "127.0.0.5")
	})
	step(victim, "scp", "sshd", sftpSrv, "127.0.0.5", evilName, false, "hostile name; sftp-server already seen", func() {
		sshd.SCP(t, victim, payload, evilName, false, "127.0.0.5")
	})
	for _, p := range dropped {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("upload did not land: %v", err)
		}
	}
	// auditd logs names with control characters hex-encoded; wait for the last one.
	lastName := strings.ToUpper(hex.EncodeToString([]byte(evilName)))
	testenv.WaitFor(t, func() bool {
		b, err := os.ReadFile(ad.LogPath)
		return err == nil && strings.Contains(string(b), lastName)
	}, 20*time.Second, "the last upload in the audit log")

	sshd.Stop(t)
	ftpd.Stop(t)
	ad.Stop(t)
	raw, err := os.ReadFile(ad.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(raw), "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	kept := Scrub(lines, Tree{Roots: []int{sshd.PID, ftpd.PID}, UIDs: []int{victim.UID, other.UID}})
	t.Logf("%s: kept %d of %d lines", format, len(kept), len(lines))
	if err := os.WriteFile(filepath.Join(dataDir, name), []byte(strings.Join(kept, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	return Run{Log: name, Format: format, Uploads: ups}
}

func cmdOut(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	return string(out)
}
