package testenv

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/sources/auditrules"
)

func TestParseAuditStatus(t *testing.T) {
	out := "enabled 1\nfailure 1\npid 4242\nrate_limit 0\nbacklog_limit 8192\nlost 3\nbacklog 0\n"
	got, err := ParseAuditStatus(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := (AuditStatus{Enabled: 1, PID: 4242, BacklogLimit: 8192}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := ParseAuditStatus("enabled 1\npid 3\n"); err == nil {
		t.Error("missing backlog_limit accepted")
	}
	if _, err := ParseAuditStatus("enabled x\npid 3\nbacklog_limit 1\n"); err == nil {
		t.Error("non-numeric enabled accepted")
	}
}

func TestAuditdConfRotation(t *testing.T) {
	c := auditdConf(AuditdOptions{Dir: "/d", Format: "ENRICHED", MaxLogFileMB: 1, NumLogs: 3}, "/d/audit.log")
	for _, want := range []string{"log_file = /d/audit.log\n", "log_format = ENRICHED\n", "max_log_file = 1\n", "max_log_file_action = ROTATE\n", "num_logs = 3\n", "plugin_dir = /d/plugins.d\n"} {
		if !strings.Contains(c, want) {
			t.Errorf("auditd.conf lacks %q", want)
		}
	}
	c = auditdConf(AuditdOptions{Dir: "/d", Format: "RAW"}, "/d/audit.log")
	if !strings.Contains(c, "max_log_file_action = IGNORE\n") {
		t.Error("rotation enabled without MaxLogFileMB")
	}
}

// TestServers runs every helper for real: auditd with the xferhunt rules, a user,
// sshd and vsftpd, one legacy scp and one FTP upload, and checks auditd logged both
// creations with the server executables.
func TestServers(t *testing.T) {
	LockAudit(t)
	dir := t.TempDir()
	rules := filepath.Join(dir, "xferhunt.rules")
	if err := os.WriteFile(rules, []byte(auditrules.Text), 0o600); err != nil {
		t.Fatal(err)
	}
	ad := StartAuditd(t, filepath.Join(dir, "auditd"), "RAW", rules)
	u := CreateUser(t, "xftestenv")
	if u.UID < 1001 {
		t.Errorf("uid %d, want >= 1001", u.UID)
	}
	sshd := StartSSHD(t, 22226)
	ftpd := StartVsftpd(t, 22227, 22228, 22229)

	src := filepath.Join(dir, "payload")
	if err := os.WriteFile(src, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// t.TempDir's parent is private to root; the user needs a reachable directory.
	dropDir, err := os.MkdirTemp("/tmp", "xferhunt-testenv-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dropDir) })
	if err := os.Chmod(dropDir, 0o1777); err != nil {
		t.Fatal(err)
	}
	scpDest := filepath.Join(dropDir, "via-scp.bin")
	ftpDest := filepath.Join(dropDir, "via-ftp.bin")
	sftpDest := filepath.Join(dropDir, "via sftp.bin")
	sshd.SFTPPut(t, u, src, sftpDest, "127.0.0.9")
	sshd.SCP(t, u, src, scpDest, true, "127.0.0.9")
	ftpd.FTPPut(t, u, src, ftpDest, "127.0.0.9")
	for _, p := range []string{scpDest, ftpDest, sftpDest} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if owner := st.Sys().(*syscall.Stat_t).Uid; int(owner) != u.UID {
			t.Errorf("%s owned by uid %d, want %d", p, owner, u.UID)
		}
	}
	WaitFor(t, func() bool {
		b, _ := os.ReadFile(ad.LogPath)
		return strings.Contains(string(b), `name="via-ftp.bin"`) || strings.Contains(string(b), `name="`+ftpDest+`"`)
	}, 10*time.Second, "the FTP creation in the audit log")
	ad.Rotate(t)
	if err := os.WriteFile(filepath.Join(dropDir, "after-rotation"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	WaitFor(t, func() bool {
		b, _ := os.ReadFile(ad.LogPath)
		return strings.Contains(string(b), "after-rotation")
	}, 10*time.Second, "a record in the fresh log after rotation")
	ad.Stop(t)
	b, err := os.ReadFile(ad.LogPath + ".1")
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	uid := " uid=" + strconv.Itoa(u.UID) + " "
	for exe, name := range map[string]string{"/usr/bin/scp": scpDest, "/usr/sbin/vsftpd": "via-ftp.bin", "/usr/lib/openssh/sftp-server": sftpDest} {
		found := false
		for _, l := range strings.Split(log, "\n") {
			if strings.Contains(l, `exe="`+exe+`"`) && strings.Contains(l, uid) && strings.Contains(l, "syscall=257 ") {
				id := l[strings.Index(l, "msg=audit("):strings.Index(l, "):")]
				found = strings.Contains(log, "type=PATH "+id+"): item=1 "+nameField(name)+" ")
				if found {
					break
				}
			}
		}
		if !found {
			t.Errorf("no openat creation of %s by %s as uid %d", name, exe, u.UID)
		}
	}
	if !strings.Contains(log, "addr=127.0.0.9 terminal=ssh") || !strings.Contains(log, "addr=127.0.0.9 terminal=ftp") {
		t.Error("PAM records lack the client address 127.0.0.9 for ssh and ftp")
	}
}

// nameField is how auditd logs a path: quoted, or hex when it holds a space, a quote
// or a byte outside printable ASCII.
func nameField(p string) string {
	for _, c := range []byte(p) {
		if c <= ' ' || c >= 0x7f || c == '"' {
			return "name=" + strings.ToUpper(hex.EncodeToString([]byte(p)))
		}
	}
	return `name="` + p + `"`
}
