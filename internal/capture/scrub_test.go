package capture

import (
	"slices"
	"testing"
)

func TestScrub(t *testing.T) {
	lines := []string{
		`type=DAEMON_START msg=audit(1.000:1): op=start ver=3.0.9 auid=4294967295 pid=50 res=success`,
		// sshd listener accepts (root of the tree).
		`type=SYSCALL msg=audit(2.000:10): arch=c000003e syscall=43 success=yes ppid=1 pid=100 auid=4294967295 uid=0 comm="sshd" key="xferhunt"`,
		`type=SOCKADDR msg=audit(2.000:10): saddr=02000016`,
		// Unrelated root shell.
		`type=SYSCALL msg=audit(2.100:11): arch=c000003e syscall=257 success=yes ppid=7 pid=8 auid=4294967295 uid=0 comm="bash" key="xferhunt"`,
		`type=PATH msg=audit(2.100:11): item=0 name="/tmp/x" nametype=CREATE`,
		// Session sshd re-exec, child of the listener.
		`type=SYSCALL msg=audit(2.200:12): arch=c000003e syscall=59 success=yes ppid=100 pid=101 auid=4294967295 uid=0 comm="sshd" key="xferhunt"`,
		// Grandchild of the listener, seen only through its parent 101.
		`type=SYSCALL msg=audit(2.300:13): arch=c000003e syscall=59 success=yes ppid=101 pid=102 auid=4294967295 uid=0 comm="sshd" key="xferhunt"`,
		// sftp-server whose parent never logged, kept by the user's auid.
		`type=SYSCALL msg=audit(2.400:14): arch=c000003e syscall=257 success=yes ppid=103 pid=104 auid=1001 uid=1001 comm="sftp-server" key="xferhunt"` + "\x1d" + `AUID="v" UID="v"`,
		`type=PATH msg=audit(2.400:14): item=1 name="/tmp/d" nametype=CREATE`,
		// Unrelated process that reuses a uid-looking number only in the enriched part.
		`type=SYSCALL msg=audit(2.500:15): ppid=7 pid=9 auid=4294967295 uid=0 comm="go"` + "\x1d" + ` uid=1001`,
		`garbage without id`,
	}
	got := Scrub(lines, Tree{Roots: []int{100}, UIDs: []int{1001}})
	want := []string{lines[0], lines[1], lines[2], lines[5], lines[6], lines[7], lines[8]}
	if !slices.Equal(got, want) {
		t.Errorf("Scrub kept:\n%q\nwant:\n%q", got, want)
	}
}
