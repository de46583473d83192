package testenv

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Vsftpd is a running vsftpd started by StartVsftpd.
type Vsftpd struct {
	// Port is the control port on 127.0.0.1.
	Port int
	// PID is the listener's pid: every session process descends from it.
	PID int
	// XferLog is vsftpd's transfer log.
	XferLog string
	// LogPath holds vsftpd's stderr.
	LogPath string
	d       *daemon
}

// StartVsftpd runs /usr/sbin/vsftpd in the foreground on 127.0.0.1:port with local
// users allowed to write, passive ports pasvMin..pasvMax on 127.0.0.1, and PAM (so
// login records carry the client address). Stopped at cleanup.
func StartVsftpd(t testing.TB, port, pasvMin, pasvMax int) *Vsftpd {
	t.Helper()
	NeedRoot(t)
	NeedBinary(t, "/usr/sbin/vsftpd")
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	// vsftpd creates its transfer logs itself, as the process "vsftpd": under /tmp that
	// would be vsftpd's first file creation (a new_terms alert) before any upload, so
	// the logs live under /run, which the detection rule excludes.
	logDir, err := os.MkdirTemp("/run", "xferhunt-vsftpd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(logDir) })
	xferlog := filepath.Join(logDir, "xferlog")
	logPath := filepath.Join(dir, "vsftpd.log")
	conf := filepath.Join(dir, "vsftpd.conf")
	text := fmt.Sprintf(`listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=%d
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
chroot_local_user=NO
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port=%d
pasv_max_port=%d
port_enable=NO
connect_from_port_20=NO
seccomp_sandbox=NO
secure_chroot_dir=%s
pam_service_name=vsftpd
xferlog_enable=YES
xferlog_std_format=YES
xferlog_file=%s
dual_log_enable=YES
vsftpd_log_file=%s
ssl_enable=NO
`, port, pasvMin, pasvMax, empty, xferlog, filepath.Join(logDir, "vsftpd.log"))
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "vsftpd", logPath, port, "/usr/sbin/vsftpd", conf)
	return &Vsftpd{Port: port, PID: d.pid(), XferLog: xferlog, LogPath: logPath, d: d}
}

// Stop stops vsftpd now (it also stops at cleanup).
func (v *Vsftpd) Stop(t testing.TB) { t.Helper(); v.d.stop(t) }

// FTPPut uploads srcFile to the absolute path dest as user u with curl, from source
// address iface (a 127.0.0.x address), in passive mode.
func (v *Vsftpd) FTPPut(t testing.TB, u *User, srcFile, dest, iface string) {
	t.Helper()
	NeedBinary(t, "/usr/bin/curl")
	if !strings.HasPrefix(dest, "/") {
		t.Fatalf("FTPPut: dest %q must be absolute", dest)
	}
	// A leading %2F makes curl address the path from the root, not the login directory.
	parts := strings.Split(strings.TrimPrefix(dest, "/"), "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	target := fmt.Sprintf("ftp://127.0.0.1:%d/%%2F%s", v.Port, strings.Join(parts, "/"))
	args := []string{"--silent", "--show-error", "--max-time", "60", "--ftp-pasv", "-T", srcFile, "--user", u.Name + ":" + u.Password, target}
	if iface != "" {
		args = append([]string{"--interface", iface}, args...)
	}
	mustRun(t, 90*time.Second, "/usr/bin/curl", args...)
}
