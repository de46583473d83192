package main

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// sftpUpload is a real sftp-server creation (SPEC §3's example) with the
// created name hex-encoded, as auditd writes names with unusual bytes.
const sftpUpload = `type=USER_START msg=audit(1795661110.900:3360): pid=7840 uid=0 auid=1001 ses=2 subj=unconfined msg='op=PAM:session_open grantors=pam_unix acct="victim" exe="/usr/sbin/sshd" hostname=127.0.0.1 addr=127.0.0.1 terminal=ssh res=success'
type=SYSCALL msg=audit(1795661111.044:%[1]d): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55be209674e0 a2=41 a3=1a4 items=2 ppid=7845 pid=7846 auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=(none) ses=2 comm="sftp-server" exe="/usr/lib/openssh/sftp-server" key="xfer"
type=CWD msg=audit(1795661111.044:%[1]d): cwd="/home/victim"
type=PATH msg=audit(1795661111.044:%[1]d): item=0 name="/tmp/" inode=246947 dev=fe:00 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
type=PATH msg=audit(1795661111.044:%[1]d): item=1 name=%[2]s inode=9978498 dev=fe:00 mode=0100644 ouid=1001 ogid=1001 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
type=PROCTITLE msg=audit(1795661111.044:%[1]d): proctitle=2F7573722F6C69622F6F70656E7373682F736674702D736572766572
`

// TestInvalidUTF8PathRecoverable: two files whose names differ only in an
// invalid byte (\xff, \xfe) print the same file.path (U+FFFD, JSON has no
// other way), but xferhunt.file.path_hex holds each one's bytes, so they
// never print the same (before: identical alerts, the file unrecoverable).
// A valid path gets no such field.
func TestInvalidUTF8PathRecoverable(t *testing.T) {
	names := []string{"/tmp/a\xff.bin", "/tmp/a\xfe.bin", "/tmp/plain.bin"}
	var log strings.Builder
	for i, n := range names {
		fmt.Fprintf(&log, sftpUpload, 3375+i, strings.ToUpper(hex.EncodeToString([]byte(n))))
	}
	r := xferhunt(t, []byte(log.String()), "scan", "--ephemeral", "--new-terms-fields", "file.path", "-")
	as := alerts(t, r.stdout)
	if r.code != 0 || len(as) != 3 {
		t.Fatalf("exit %d, %d alerts, want 3: %s", r.code, len(as), r.stderr)
	}
	for i, a := range as {
		got, want := a.str("xferhunt.file.path_hex"), hex.EncodeToString([]byte(names[i]))
		if i == 2 {
			want = "" // valid UTF-8: file.path is exact, nothing added
		}
		if got != want {
			t.Errorf("alert %d: xferhunt.file.path_hex = %q, want %q", i, got, want)
		}
		if i < 2 && a.str("file.path") != "/tmp/a\ufffd.bin" {
			t.Errorf("alert %d: file.path = %q", i, a.str("file.path"))
		}
	}
	if as[0].str("xferhunt.file.path_hex") == as[1].str("xferhunt.file.path_hex") {
		t.Fatal("two different files print the same")
	}
}
