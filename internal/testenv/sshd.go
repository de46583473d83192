package testenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SSHD is a running OpenSSH server started by StartSSHD.
type SSHD struct {
	// Port is the listening port on 127.0.0.1.
	Port int
	// PID is the listener's pid: every session process descends from it.
	PID int
	// LogPath holds sshd's stderr log (-e).
	LogPath string
	d       *daemon
}

// SSHDOptions configure StartSSHDOpts.
type SSHDOptions struct {
	// InternalSFTP names users whose logins are confined to sshd's built-in
	// SFTP server: a `Match User` block with `ForceCommand internal-sftp`, as
	// chroot and upload-only setups use. Their files are created by sshd
	// itself, not by an sftp-server process.
	InternalSFTP []string
}

// StartSSHD runs /usr/sbin/sshd -D -e on 127.0.0.1:port with its own host key and
// config, UsePAM (so pam_loginuid gives each login an audit session) and the real
// sftp-server executable as the sftp subsystem. Stopped at cleanup.
func StartSSHD(t testing.TB, port int) *SSHD {
	t.Helper()
	return StartSSHDOpts(t, port, SSHDOptions{})
}

// StartSSHDOpts is StartSSHD with options.
func StartSSHDOpts(t testing.TB, port int, o SSHDOptions) *SSHD {
	t.Helper()
	NeedRoot(t)
	NeedBinary(t, "/usr/sbin/sshd")
	NeedBinary(t, "/usr/lib/openssh/sftp-server")
	dir := t.TempDir()
	// sshd refuses to start without its privilege separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "ssh_host_ed25519_key")
	mustRun(t, 30*time.Second, "/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
	conf := filepath.Join(dir, "sshd_config")
	text := fmt.Sprintf(`ListenAddress 127.0.0.1:%d
HostKey %s
PidFile %s
UsePAM yes
StrictModes no
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile .ssh/authorized_keys
Subsystem sftp /usr/lib/openssh/sftp-server
LogLevel VERBOSE
`, port, key, filepath.Join(dir, "sshd.pid"))
	if len(o.InternalSFTP) > 0 {
		// Match blocks last: every keyword after Match belongs to it.
		text += fmt.Sprintf("Match User %s\n\tForceCommand internal-sftp\n", strings.Join(o.InternalSFTP, ","))
	}
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "sshd.log")
	d := startDaemon(t, "sshd", logPath, port, "/usr/sbin/sshd", "-D", "-e", "-f", conf)
	return &SSHD{Port: port, PID: d.pid(), LogPath: logPath, d: d}
}

// Stop stops sshd now (it also stops at cleanup).
func (s *SSHD) Stop(t testing.TB) { t.Helper(); s.d.stop(t) }

// sshOpts are the client options shared by scp and sftp: key-only, no host key
// prompts or files, a source address, and bounded connect time.
func sshOpts(u *User, port int, bindAddr string) []string {
	opts := []string{
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10",
		"-o", "LogLevel=ERROR", "-i", u.KeyFile, "-P", strconv.Itoa(port),
	}
	if bindAddr != "" {
		opts = append(opts, "-o", "BindAddress="+bindAddr)
	}
	return opts
}

// SCP copies srcFile to dest on this server as user u with scp, in SFTP mode or, with
// legacy, in the old scp/rcp protocol (-O, which runs `scp -t` on the server). bindAddr
// is the client source address (any 127.0.0.x works on lo). In legacy mode the server
// runs dest through the user's shell, so only SFTP mode takes hostile names verbatim.
func (s *SSHD) SCP(t testing.TB, u *User, srcFile, dest string, legacy bool, bindAddr string) {
	t.Helper()
	NeedBinary(t, "/usr/bin/scp")
	args := sshOpts(u, s.Port, bindAddr)
	if legacy {
		args = append(args, "-O")
	}
	args = append(args, srcFile, u.Name+"@127.0.0.1:"+dest)
	mustRun(t, 60*time.Second, "/usr/bin/scp", args...)
}

// SFTPPut uploads srcFile to dest with an sftp batch `put` as user u.
func (s *SSHD) SFTPPut(t testing.TB, u *User, srcFile, dest, bindAddr string) {
	t.Helper()
	NeedBinary(t, "/usr/bin/sftp")
	for _, p := range []string{srcFile, dest} {
		// sftp's batch syntax has no escapes for these; use SCP for hostile names.
		if strings.ContainsAny(p, "\"\\") || strings.IndexFunc(p, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
			t.Fatalf("SFTPPut: path %q has a quote, backslash or control character", p)
		}
	}
	batch := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(batch, []byte(fmt.Sprintf("put %q %q\n", srcFile, dest)), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append(sshOpts(u, s.Port, bindAddr), "-b", batch, u.Name+"@127.0.0.1")
	mustRun(t, 60*time.Second, "/usr/bin/sftp", args...)
}

// SSH runs command on this server as user u through ssh without a pty (as
// `ssh host 'cat > x'` does), with stdin as its standard input, and returns
// what it wrote.
func (s *SSHD) SSH(t testing.TB, u *User, bindAddr string, stdin io.Reader, command string) string {
	t.Helper()
	NeedBinary(t, "/usr/bin/ssh")
	args := append(sshOpts(u, s.Port, bindAddr), "-T", u.Name+"@127.0.0.1", command)
	for i := range args {
		if args[i] == "-P" {
			args[i] = "-p" // scp and sftp's port flag is ssh's -p
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/ssh", args...)
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ssh %s: %v: %s", command, err, out)
	}
	return string(out)
}

// Rsync copies src (a file, or a directory with a trailing slash to copy
// its contents) to dest on this server as user u with rsync over ssh; the
// server side is `rsync --server`, run in the user's login session. extra
// flags go before the paths (e.g. -r, --inplace).
func (s *SSHD) Rsync(t testing.TB, u *User, src, dest, bindAddr string, extra ...string) {
	t.Helper()
	NeedBinary(t, "/usr/bin/rsync")
	NeedBinary(t, "/usr/bin/ssh")
	ssh := []string{"/usr/bin/ssh"}
	for _, o := range sshOpts(u, s.Port, bindAddr) {
		if o == "-P" {
			o = "-p"
		}
		ssh = append(ssh, o)
	}
	for _, w := range ssh {
		if strings.ContainsAny(w, " \t'\"\\") {
			t.Fatalf("Rsync: ssh argument %q cannot be passed through rsync -e", w)
		}
	}
	args := append([]string{"-e", strings.Join(ssh, " ")}, extra...)
	args = append(args, src, u.Name+"@127.0.0.1:"+dest)
	mustRun(t, 60*time.Second, "/usr/bin/rsync", args...)
}
