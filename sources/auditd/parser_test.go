package auditd

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/internal/sharedtest"
	"github.com/xferhunt/xferhunt/sources"
)

// parseAll feeds text line by line and flushes.
func parseAll(t *testing.T, text string) ([]sources.Event, Stats) {
	t.Helper()
	var evs []sources.Event
	p := NewParser(Options{HostID: "host1", HostName: "srv", Emit: func(ev sources.Event) { evs = append(evs, ev) }})
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		p.Line([]byte(l))
	}
	p.Flush()
	return evs, p.Stats()
}

func only(t *testing.T, evs []sources.Event) sources.Event {
	t.Helper()
	if len(evs) != 1 {
		for _, e := range evs {
			t.Logf("event: %s %s", e.Doc.Str("event.action"), e.Doc.Str("file.path"))
		}
		t.Fatalf("got %d events, want 1", len(evs))
	}
	return evs[0]
}

func wantStr(t *testing.T, ev sources.Event, field, want string) {
	t.Helper()
	if got := ev.Doc.Str(field); got != want {
		t.Errorf("%s = %q, want %q", field, got, want)
	}
}

// specExample is SPEC §3's real sftp-server creation, preceded by the
// session's USER_START (SPEC §4).
const specExample = `type=USER_START msg=audit(1795661110.900:3360): pid=7840 uid=0 auid=1001 ses=2 subj=unconfined msg='op=PAM:session_open grantors=pam_selinux,pam_loginuid,pam_keyinit,pam_permit,pam_umask,pam_unix,pam_systemd,pam_mail,pam_limits,pam_env,pam_env,pam_selinux acct="victim" exe="/usr/sbin/sshd" hostname=127.0.0.1 addr=127.0.0.1 terminal=ssh res=success'
type=SYSCALL msg=audit(1795661111.044:3375): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55be209674e0 a2=41 a3=1a4 items=2 ppid=7845 pid=7846 auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=(none) ses=2 comm="sftp-server" exe="/usr/lib/openssh/sftp-server" key="xfer"
type=CWD msg=audit(1795661111.044:3375): cwd="/home/victim"
type=PATH msg=audit(1795661111.044:3375): item=0 name="/tmp/" inode=246947 dev=fe:00 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
type=PATH msg=audit(1795661111.044:3375): item=1 name="/tmp/dropped-sftpmode.bin" inode=9978498 dev=fe:00 mode=0100644 ouid=1001 ogid=1001 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
type=PROCTITLE msg=audit(1795661111.044:3375): proctitle=62617368002D63002F7573722F6C69622F6F70656E7373682F736674702D736572766572`

func TestSpecExample(t *testing.T) {
	evs, st := parseAll(t, specExample)
	ev := only(t, evs)
	for _, c := range []struct{ field, want string }{
		{"@timestamp", "2026-11-26T02:45:11.044Z"},
		{"event.ingested", "2026-11-26T02:45:11.044Z"},
		{"event.action", "creation"},
		{"event.type", "creation"},
		{"event.category", "file"},
		{"event.kind", "event"},
		{"event.module", "auditd"},
		{"event.dataset", "xferhunt.auditd"},
		{"event.id", "3375"},
		{"host.id", "host1"},
		{"host.name", "srv"},
		{"host.os.type", "linux"},
		{"process.pid", "7846"},
		{"process.name", "sftp-server"},
		{"process.executable", "/usr/lib/openssh/sftp-server"},
		{"process.title", "bash -c /usr/lib/openssh/sftp-server"},
		{"process.command_line", "bash -c /usr/lib/openssh/sftp-server"},
		{"process.working_directory", "/home/victim"},
		{"process.parent.pid", "7845"},
		{"user.id", "1001"},
		{"user.audit.id", "1001"},
		{"user.audit.name", "victim"},
		{"group.id", "1001"},
		{"file.path", "/tmp/dropped-sftpmode.bin"},
		{"file.name", "dropped-sftpmode.bin"},
		{"file.directory", "/tmp"},
		{"file.extension", "bin"},
		{"file.inode", "9978498"},
		{"file.mode", "0644"},
		{"file.uid", "1001"},
		{"file.type", "file"},
		{"source.ip", "127.0.0.1"},
		{"related.ip", "127.0.0.1"},
		{"related.user", "victim"},
		{"xferhunt.session.attributed_by", "session"},
		{"xferhunt.session.terminal", "ssh"},
		{"xferhunt.session.sshd_pid", "7840"},
		{"xferhunt.session.id", "2"},
		{"xferhunt.session.login_time", "2026-11-26T02:45:10.9Z"},
		{"xferhunt.audit.key", "xfer"},
		{"xferhunt.audit.syscall", "openat"},
	} {
		wantStr(t, ev, c.field, c.want)
	}
	if ev.Key != "host1:1795661111.044:3375" {
		t.Errorf("Key = %q", ev.Key)
	}
	if got := ev.Doc.Get("event.sequence"); got != int64(3375) {
		t.Errorf("event.sequence = %#v", got)
	}
	orig := ev.Doc.Str("event.original")
	if n := strings.Count(orig, "\n"); n != 4 || !strings.HasPrefix(orig, "type=SYSCALL") {
		t.Errorf("event.original has %d newlines: %q", n, orig)
	}
	args := ev.Doc.Get("process.args")
	if !reflect.DeepEqual(args, []any{"bash", "-c", "/usr/lib/openssh/sftp-server"}) {
		t.Errorf("process.args = %#v", args)
	}
	if st.Lines != 6 || st.Records != 6 || st.Events != 1 || st.Malformed != 0 {
		t.Errorf("stats = %+v", st)
	}
}

// sys builds a SYSCALL line for synthetic cases.
func sys(serial, nr, extra string) string {
	return "type=SYSCALL msg=audit(1700000000.100:" + serial + "): arch=c000003e syscall=" + nr + " " + extra +
		" ppid=100 pid=200 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=(none) ses=5 comm=\"scp\" exe=\"/usr/bin/scp\" key=\"xfer\""
}

func line(typ, serial, body string) string {
	return "type=" + typ + " msg=audit(1700000000.100:" + serial + "): " + body
}

func TestFileEvents(t *testing.T) {
	cases := []struct {
		name   string
		text   []string
		action string
		fields map[string]string
		none   bool
	}{
		{
			name: "relative name joined with CWD",
			text: []string{
				sys("10", "257", "success=yes exit=3 a0=ffffff9c a1=1 a2=241 a3=1b6 items=2"),
				line("CWD", "10", `cwd="/home/victim/sub/.."`),
				line("PATH", "10", `item=0 name="/home/victim" inode=1 dev=fe:00 mode=040755 ouid=1000 ogid=1000 rdev=00:00 nametype=PARENT`),
				line("PATH", "10", `item=1 name="up load.TAR.gz" inode=2 dev=fe:00 mode=0100600 ouid=1000 ogid=1000 rdev=00:00 nametype=CREATE`),
				line("EOE", "10", ""),
			},
			action: "creation",
			fields: map[string]string{"file.path": "/home/victim/up load.TAR.gz", "file.extension": "gz", "file.mode": "0600", "process.name": "scp"},
		},
		{
			name: "hex name, cwd, comm and exe",
			text: []string{
				`type=SYSCALL msg=audit(1700000000.100:11): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=1 a2=241 a3=1b6 items=2 ppid=100 pid=201 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=(none) ses=5 comm=6D7920736370 exe=2F746D702F6D7920736370 key="xfer"`,
				line("CWD", "11", `cwd=2F746D702F612062`),
				line("PATH", "11", `item=0 name=2F746D702F612062 inode=1 dev=fe:00 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT`),
				line("PATH", "11", `item=1 name=6576696C1B5D303B70776E6564070A6C696E65322EFF inode=3 dev=fe:00 mode=0100644 ouid=1000 ogid=1000 rdev=00:00 nametype=CREATE`),
			},
			action: "creation",
			fields: map[string]string{"file.path": "/tmp/a b/evil\x1b]0;pwned\x07\nline2.\xff", "process.name": "my scp", "process.executable": "/tmp/my scp", "process.working_directory": "/tmp/a b"},
		},
		{
			name: "relative name without CWD uses the PARENT directory",
			text: []string{
				sys("12", "257", "success=yes exit=3 a0=5 a1=1 a2=241 a3=1b6 items=2"),
				line("PATH", "12", `item=0 name="/srv/in/" inode=1 dev=fe:00 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT`),
				line("PATH", "12", `item=1 name="x.sh" inode=3 dev=fe:00 mode=0100755 ouid=1000 ogid=1000 rdev=00:00 nametype=CREATE`),
			},
			action: "creation",
			fields: map[string]string{"file.path": "/srv/in/x.sh", "file.mode": "0755"},
		},
		{
			name: "failed syscall yields nothing",
			text: []string{
				sys("13", "257", "success=no exit=-13 a0=ffffff9c a1=1 a2=241 a3=1b6 items=2"),
				line("PATH", "13", `item=0 name="/root/" inode=1 dev=fe:00 mode=040700 ouid=0 ogid=0 rdev=00:00 nametype=PARENT`),
				line("PATH", "13", `item=1 name="/root/x" inode=3 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=CREATE`),
			},
			none: true,
		},
		{
			name: "O_TRUNC on an existing file is an overwrite",
			text: []string{
				sys("14", "257", "success=yes exit=3 a0=ffffff9c a1=1 a2=241 a3=1b6 items=2"),
				line("CWD", "14", `cwd="/"`),
				line("PATH", "14", `item=0 name="/etc/" inode=1 dev=fe:00 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT`),
				line("PATH", "14", `item=1 name="/etc/cron.d/job" inode=3 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL`),
			},
			action: "overwrite",
			fields: map[string]string{"file.path": "/etc/cron.d/job", "event.type": "change"},
		},
		{
			// scp -t, sftp-server and vsftpd open an upload's existing
			// target O_WRONLY|O_CREAT (vsftpd adds O_NONBLOCK) and truncate
			// it after the transfer: the file is replaced all the same.
			name: "write-only creating open of an existing file is an overwrite",
			text: []string{
				sys("15", "2", "success=yes exit=3 a0=1 a1=841 a2=1b6 a3=0 items=1"),
				line("PATH", "15", `item=0 name="/etc/cron.d/job" inode=3 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL`),
			},
			action: "overwrite",
			fields: map[string]string{"file.path": "/etc/cron.d/job", "event.type": "change"},
		},
		{
			name: "read-write creating open of an existing file is nothing",
			text: []string{
				sys("15", "2", "success=yes exit=3 a0=1 a1=42 a2=1b6 a3=0 items=1"),
				line("PATH", "15", `item=0 name="/var/lib/x/db" inode=3 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL`),
			},
			none: true,
		},
		{
			name: "appending creating open of an existing file is nothing",
			text: []string{
				sys("15", "257", "success=yes exit=3 a0=ffffff9c a1=1 a2=441 a3=1b6 items=2"),
				line("PATH", "15", `item=0 name="/var/log/" inode=1 dev=fe:00 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT`),
				line("PATH", "15", `item=1 name="/var/log/x.log" inode=3 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL`),
			},
			none: true,
		},
		{
			name: "write-only open of an existing file without O_CREAT is nothing",
			text: []string{
				sys("15", "257", "success=yes exit=3 a0=ffffff9c a1=1 a2=1 a3=0 items=1"),
				line("PATH", "15", `item=0 name="/etc/cron.d/job" inode=3 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL`),
			},
			none: true,
		},
		{
			name: "rename: target and original path",
			text: []string{
				sys("16", "316", "success=yes exit=0 a0=ffffff9c a1=1 a2=ffffff9c a3=2 items=4"),
				line("CWD", "16", `cwd="/home/v"`),
				line("PATH", "16", `item=0 name="/home/v/" inode=1 dev=fe:00 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT`),
				line("PATH", "16", `item=1 name="bin/" inode=4 dev=fe:00 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT`),
				line("PATH", "16", `item=2 name=".tmp.part" inode=5 dev=fe:00 mode=0100644 ouid=1000 ogid=1000 rdev=00:00 nametype=DELETE`),
				line("PATH", "16", `item=3 name="bin/tool" inode=5 dev=fe:00 mode=0100644 ouid=1000 ogid=1000 rdev=00:00 nametype=CREATE`),
			},
			action: "rename",
			fields: map[string]string{"file.path": "/home/v/bin/tool", "file.Ext.original.path": "/home/v/.tmp.part", "file.Ext.original.name": ".tmp.part", "event.type": "change"},
		},
		{
			name: "unlinkat is a deletion",
			text: []string{
				sys("17", "263", "success=yes exit=0 a0=ffffff9c a1=1 a2=0 a3=0 items=2"),
				line("PATH", "17", `item=0 name="/tmp/" inode=1 dev=fe:00 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT`),
				line("PATH", "17", `item=1 name="/tmp/gone" inode=5 dev=fe:00 mode=0100644 ouid=1000 ogid=1000 rdev=00:00 nametype=DELETE`),
			},
			action: "deletion",
			fields: map[string]string{"file.path": "/tmp/gone", "event.type": "deletion"},
		},
		{
			name: "symlink is a creation of type symlink",
			text: []string{
				sys("18", "88", "success=yes exit=0 a0=1 a1=2 a2=0 a3=0 items=2"),
				line("PATH", "18", `item=0 name="/tmp/" inode=1 dev=fe:00 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT`),
				line("PATH", "18", `item=1 name="/tmp/ln" inode=6 dev=fe:00 mode=0120777 ouid=1000 ogid=1000 rdev=00:00 nametype=CREATE`),
			},
			action: "creation",
			fields: map[string]string{"file.type": "symlink", "file.mode": "0777"},
		},
		{
			name: "ENRICHED names",
			text: []string{
				sys("19", "257", "success=yes exit=3 a0=ffffff9c a1=1 a2=241 a3=1b6 items=2") +
					"\x1dARCH=x86_64 SYSCALL=openat AUID=\"alice\" UID=\"bob\" GID=\"staff\" EUID=\"root\" SUID=\"bob\" FSUID=\"bob\" EGID=\"staff\" SGID=\"staff\" FSGID=\"staff\"",
				line("PATH", "19", `item=0 name="/tmp/" inode=1 dev=fe:00 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT`) + "\x1dOUID=\"root\" OGID=\"root\"",
				line("PATH", "19", `item=1 name="/tmp/e" inode=6 dev=fe:00 mode=0100644 ouid=1000 ogid=1000 rdev=00:00 nametype=CREATE`) + "\x1dOUID=\"bob\" OGID=\"staff\"",
			},
			action: "creation",
			fields: map[string]string{"user.name": "bob", "user.effective.name": "root", "user.audit.name": "alice", "group.name": "staff", "file.owner": "bob", "file.group": "staff", "related.user": "bob"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs, st := parseAll(t, strings.Join(c.text, "\n"))
			if c.none {
				if len(evs) != 0 {
					t.Fatalf("got %d events, want none: %v", len(evs), evs[0].Doc)
				}
				return
			}
			ev := only(t, evs)
			wantStr(t, ev, "event.action", c.action)
			for f, w := range c.fields {
				wantStr(t, ev, f, w)
			}
			if strings.Contains(ev.Doc.Str("event.original"), "\x1d") {
				t.Errorf("event.original keeps the ENRICHED part")
			}
			if st.Malformed != 0 {
				t.Errorf("malformed = %d", st.Malformed)
			}
		})
	}
}

// TestVsftpdAncestry: no audit session; the upload is attributed through
// the parent's PAM record, and the port through the listener's accept.
func TestVsftpdAncestry(t *testing.T) {
	text := strings.Join([]string{
		`type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=43 success=yes exit=4 a0=3 a1=1 a2=2 a3=0 items=0 ppid=1 pid=500 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="vsftpd" exe="/usr/sbin/vsftpd" key="xferhunt"`,
		`type=SOCKADDR msg=audit(1700000000.000:1): saddr=0200DEA27F0000080000000000000000`,
		`type=SYSCALL msg=audit(1700000001.000:2): arch=c000003e syscall=57 success=yes exit=501 a0=0 a1=0 a2=0 a3=0 items=1 ppid=500 pid=501 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="vsftpd" exe="/usr/sbin/vsftpd" key="xferhunt"`,
		`type=USER_AUTH msg=audit(1700000002.000:3): pid=501 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:authentication grantors=pam_unix acct="victim" exe="/usr/sbin/vsftpd" hostname=127.0.0.8 addr=127.0.0.8 terminal=ftp res=success'`,
		`type=USER_AUTH msg=audit(1700000002.100:4): pid=777 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:authentication grantors=? acct="mallory" exe="/usr/sbin/vsftpd" hostname=127.0.0.9 addr=127.0.0.9 terminal=ftp res=failed'`,
		`type=SYSCALL msg=audit(1700000003.000:5): arch=c000003e syscall=257 success=yes exit=5 a0=ffffff9c a1=1 a2=241 a3=1a4 items=2 ppid=501 pid=502 auid=4294967295 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=(none) ses=4294967295 comm="vsftpd" exe="/usr/sbin/vsftpd" key="xferhunt"`,
		`type=CWD msg=audit(1700000003.000:5): cwd="/tmp"`,
		`type=PATH msg=audit(1700000003.000:5): item=0 name="/tmp/" inode=1 dev=fe:00 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT`,
		`type=PATH msg=audit(1700000003.000:5): item=1 name="dropped-ftp.bin" inode=9 dev=fe:00 mode=0100644 ouid=1001 ogid=1001 rdev=00:00 nametype=CREATE`,
		`type=PROCTITLE msg=audit(1700000003.000:5): proctitle=2F7573722F7362696E2F767366747064`,
	}, "\n")
	evs, _ := parseAll(t, text)
	ev := only(t, evs)
	for f, w := range map[string]string{
		"file.path":                      "/tmp/dropped-ftp.bin",
		"process.name":                   "vsftpd",
		"source.ip":                      "127.0.0.8",
		"source.port":                    "56994",
		"user.id":                        "1001",
		"user.name":                      "victim",
		"xferhunt.session.attributed_by": "ancestry",
		"xferhunt.session.terminal":      "ftp",
		"xferhunt.session.sshd_pid":      "501",
		"process.parent.pid":             "501",
		"process.parent.name":            "vsftpd",
	} {
		wantStr(t, ev, f, w)
	}
	if ev.Doc.Get("xferhunt.session.id") != nil {
		t.Errorf("unset session has an id")
	}
	if !reflect.DeepEqual(ev.Doc.Get("process.Ext.ancestry"), []any{501, 500, 1}) {
		t.Errorf("ancestry = %#v", ev.Doc.Get("process.Ext.ancestry"))
	}
}

func TestSockaddr(t *testing.T) {
	for _, c := range []struct {
		hex, ip string
		port    int
		ok      bool
	}{
		{"0200DEA27F0000080000000000000000", "127.0.0.8", 56994, true},
		{"0A00D80700000000000000000000000000000000000000010000000000000000", "::1", 55303, true},
		{"0A00D8070000000000000000000000000000FFFF7F00000500000000", "127.0.0.5", 55303, true},
		{"01002F746D702F736F636B", "", 0, false}, // AF_UNIX
		{"02", "", 0, false},
		{"zz", "", 0, false},
	} {
		ip, port, ok := parseSockaddr([]byte(c.hex))
		if ok != c.ok || (ok && (ip.String() != c.ip || port != c.port)) {
			t.Errorf("%s: got %v %d %v", c.hex, ip, port, ok)
		}
	}
}

// TestGarbageInterleaved: hostile lines between the records of real events
// change nothing but the malformed count.
func TestGarbageInterleaved(t *testing.T) {
	clean, _ := parseAll(t, specExample)
	lines := strings.Split(specExample, "\n")
	garbage := []string{
		"", "garbage", "\x00\x00\x00\x00", "type=", "type=PATH", "type=PATH msg=audit(", "type=PATH msg=audit(17:",
		"type=PATH msg=audit(1795661111.044:3375", "node= type=X msg=audit(a.b:c):", "\xff\xfe type=SYSCALL",
		"type=SYSCALL msg=audit(1795661111.044:99999999999999999999999): x",
	}
	var mixed []string
	for i, l := range lines {
		mixed = append(mixed, garbage[i%len(garbage)], l, garbage[(i+5)%len(garbage)])
	}
	evs, st := parseAll(t, strings.Join(mixed, "\n"))
	ev := only(t, evs)
	if !reflect.DeepEqual(ev.Doc, clean[0].Doc) {
		t.Errorf("garbage changed the event:\n%v\n%v", ev.Doc, clean[0].Doc)
	}
	if st.Malformed < 8 {
		t.Errorf("malformed = %d, want ≥ 8", st.Malformed)
	}
}

// TestInterleaved: two events whose records alternate, one of them
// truncated in the middle of a record, come out whole and in log order.
func TestInterleaved(t *testing.T) {
	a := func(n string) string { return strings.ReplaceAll(n, ":SER)", ":40)") }
	b := func(n string) string { return strings.ReplaceAll(n, ":SER)", ":41)") }
	s1 := "type=SYSCALL msg=audit(1700000000.100:SER): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=1 a2=241 a3=1b6 items=2 ppid=1 pid=PID auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=(none) ses=5 comm=\"cp\" exe=\"/usr/bin/cp\" key=\"x\""
	p0 := `type=PATH msg=audit(1700000000.100:SER): item=0 name="/tmp/" inode=1 dev=fe:00 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT`
	p1 := `type=PATH msg=audit(1700000000.100:SER): item=1 name="/tmp/NAME" inode=2 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=CREATE`
	text := strings.Join([]string{
		a(strings.ReplaceAll(s1, "PID", "10")),
		b(strings.ReplaceAll(s1, "PID", "11")),
		b(p0),
		a(p0),
		"type=PATH msg=audit(1700000000.100:4", // truncated record
		a(strings.ReplaceAll(p1, "NAME", "a")),
		b(strings.ReplaceAll(p1, "NAME", "b")),
		"type=EOE msg=audit(1700000000.100:41): ",
		"type=EOE msg=audit(1700000000.100:40): ",
	}, "\n")
	evs, st := parseAll(t, text)
	if len(evs) != 2 {
		t.Fatalf("got %d events", len(evs))
	}
	if evs[0].Doc.Str("file.path") != "/tmp/a" || evs[0].Doc.Str("process.pid") != "10" ||
		evs[1].Doc.Str("file.path") != "/tmp/b" || evs[1].Doc.Str("process.pid") != "11" {
		t.Errorf("events: %s/%s %s/%s", evs[0].Doc.Str("file.path"), evs[0].Doc.Str("process.pid"),
			evs[1].Doc.Str("file.path"), evs[1].Doc.Str("process.pid"))
	}
	if st.Malformed != 1 {
		t.Errorf("malformed = %d", st.Malformed)
	}
}

// TestLateRecord: a record arriving after its event was finished (more than
// maxPending events later) is counted as a gap and does not make a new event.
func TestLateRecord(t *testing.T) {
	var lines []string
	for i := 100; i < 100+maxPending+2; i++ {
		n := itoa(i)
		lines = append(lines,
			sys(n, "257", "success=yes exit=3 a0=ffffff9c a1=1 a2=241 a3=1b6 items=2"),
			line("PATH", n, `item=0 name="/tmp/" inode=1 dev=fe:00 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT`),
			line("PATH", n, `item=1 name="/tmp/f`+n+`" inode=2 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=CREATE`))
	}
	lines = append(lines, line("PROCTITLE", "100", "proctitle=6C617465"))
	evs, st := parseAll(t, strings.Join(lines, "\n"))
	if len(evs) != maxPending+2 || st.Gaps != 1 {
		t.Errorf("events %d, stats %+v", len(evs), st)
	}
	if evs[0].Doc.Str("file.path") != "/tmp/f100" || evs[len(evs)-1].Doc.Str("file.path") != "/tmp/f"+itoa(100+maxPending+1) {
		t.Errorf("order: %s … %s", evs[0].Doc.Str("file.path"), evs[len(evs)-1].Doc.Str("file.path"))
	}
}

// TestBlockingAccept: an accept is stamped when it started blocking, long
// before it is logged; records newer than its stamp in between must not cut
// it off from its SOCKADDR.
func TestBlockingAccept(t *testing.T) {
	text := strings.Join([]string{
		`type=CONFIG_CHANGE msg=audit(1700000099.900:1): op=set audit_enabled=1 old=1 auid=4294967295 ses=4294967295 res=1`,
		`type=SYSCALL msg=audit(1700000000.000:2): arch=c000003e syscall=43 success=yes exit=4 a0=3 a1=1 a2=2 a3=0 items=0 ppid=1 pid=500 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="vsftpd" exe="/usr/sbin/vsftpd" key="x"`,
		`type=SERVICE_START msg=audit(1700000100.500:3): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='unit=x comm="systemd" exe="/usr/lib/systemd/systemd" hostname=? addr=? terminal=? res=success'`,
		`type=SOCKADDR msg=audit(1700000000.000:2): saddr=0200DEA27F0000080000000000000000`,
		`type=USER_AUTH msg=audit(1700000101.000:4): pid=501 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:authentication acct="victim" exe="/usr/sbin/vsftpd" hostname=127.0.0.8 addr=127.0.0.8 terminal=ftp res=success'`,
		`type=SYSCALL msg=audit(1700000102.000:5): arch=c000003e syscall=257 success=yes exit=5 a0=ffffff9c a1=1 a2=241 a3=1a4 items=2 ppid=501 pid=502 auid=4294967295 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=(none) ses=4294967295 comm="vsftpd" exe="/usr/sbin/vsftpd" key="x"`,
		`type=PATH msg=audit(1700000102.000:5): item=0 name="/tmp/" inode=1 dev=fe:00 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT`,
		`type=PATH msg=audit(1700000102.000:5): item=1 name="/tmp/up" inode=9 dev=fe:00 mode=0100644 ouid=1001 ogid=1001 rdev=00:00 nametype=CREATE`,
	}, "\n")
	evs, st := parseAll(t, text)
	ev := only(t, evs)
	wantStr(t, ev, "source.ip", "127.0.0.8")
	wantStr(t, ev, "source.port", "56994")
	if st.Gaps != 0 {
		t.Errorf("gaps = %d", st.Gaps)
	}
}

// TestExecveArgs: split and hex arguments rebuild process.args, which later
// file events of that process carry.
func TestExecveArgs(t *testing.T) {
	text := strings.Join([]string{
		`type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=2 ppid=1 pid=300 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=(none) ses=5 comm="scp" exe="/usr/bin/scp" key="x"`,
		`type=EXECVE msg=audit(1700000000.000:1): argc=4 a0="scp" a1="-t" a2=2F746D702F6120622063`,
		`type=EXECVE msg=audit(1700000000.000:1): a3_len=6 a3[0]="abc" a3[1]=646566`,
		`type=PATH msg=audit(1700000000.000:1): item=0 name="/usr/bin/scp" inode=1 dev=fe:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL`,
		`type=SYSCALL msg=audit(1700000001.000:2): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=1 a2=241 a3=1b6 items=2 ppid=1 pid=300 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=(none) ses=5 comm="scp" exe="/usr/bin/scp" key="x"`,
		`type=PATH msg=audit(1700000001.000:2): item=0 name="/tmp/" inode=1 dev=fe:00 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT`,
		`type=PATH msg=audit(1700000001.000:2): item=1 name="/tmp/a b c" inode=2 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=CREATE`,
		`type=PROCTITLE msg=audit(1700000001.000:2): proctitle=736370002D74`,
	}, "\n")
	evs, _ := parseAll(t, text)
	ev := only(t, evs)
	if got := ev.Doc.Get("process.args"); !reflect.DeepEqual(got, []any{"scp", "-t", "/tmp/a b c", "abcdef"}) {
		t.Errorf("process.args = %#v", got)
	}
	wantStr(t, ev, "process.title", "scp -t")
}

// expectedCapture is testdata/capture/expected.json as written by the
// capture harness.
type expectedCapture struct {
	Runs []struct {
		Log     string `json:"log"`
		Format  string `json:"format"`
		Uploads []struct {
			User       string `json:"user"`
			UID        int    `json:"uid"`
			Tool       string `json:"tool"`
			Server     string `json:"server"`
			Executable string `json:"server_executable"`
			SourceIP   string `json:"source_ip"`
			Path       string `json:"path"`
			Time       string `json:"time"`
		} `json:"uploads"`
	} `json:"runs"`
}

// TestCapture checks every upload of the real capture (scp, scp -O, sftp,
// vsftpd; RAW and ENRICHED) comes out as a creation attributed to its
// client, through both the line API and Scan.
func TestCapture(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "capture")
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Skipf("no capture: %v", err)
	}
	var exp expectedCapture
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	for _, run := range exp.Runs {
		t.Run(run.Format, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, run.Log))
			if err != nil {
				t.Fatal(err)
			}
			evs, st := parseAll(t, string(data))
			if st.Malformed != 0 || st.Events == 0 {
				t.Errorf("stats %+v", st)
			}
			for _, workers := range []int{1, 2} {
				var got []sources.Event
				sst, err := Scan(strings.NewReader(string(data)), Options{HostID: "host1", HostName: "srv", Workers: workers,
					Emit: func(ev sources.Event) { got = append(got, ev) }})
				if err != nil || sst != st || !reflect.DeepEqual(got, evs) {
					t.Errorf("Scan(workers=%d) differs from Line: %v %+v vs %+v", workers, err, sst, st)
				}
			}
			for _, up := range run.Uploads {
				var ev *sources.Event
				for i := range evs {
					if evs[i].Doc.Str("file.path") == up.Path && evs[i].Doc.Str("event.action") == "creation" {
						ev = &evs[i]
					}
				}
				if ev == nil {
					t.Errorf("%s %q: no creation event", up.Tool, up.Path)
					continue
				}
				want := map[string]string{
					"process.executable": up.Executable,
					"source.ip":          up.SourceIP,
					"user.id":            itoa(up.UID),
				}
				if run.Format == "ENRICHED" || up.Server == "vsftpd" {
					want["user.name"] = up.User
				}
				if up.Server == "sshd" {
					want["xferhunt.session.attributed_by"] = "session"
					want["user.audit.name"] = up.User
				} else {
					want["xferhunt.session.attributed_by"] = "ancestry"
				}
				for f, w := range want {
					if g := ev.Doc.Str(f); g != w {
						t.Errorf("%s %q: %s = %q, want %q", up.Tool, up.Path, f, g, w)
					}
				}
				if ev.Doc.Get("source.port") == nil {
					t.Errorf("%s: no source.port", up.Tool)
				}
				ts, _ := time.Parse(time.RFC3339Nano, ev.Doc.Str("@timestamp"))
				upT, _ := time.Parse(time.RFC3339Nano, up.Time)
				if d := ts.Sub(upT); d < -2*time.Second || d > 2*time.Second {
					t.Errorf("%s: @timestamp %v far from %v", up.Tool, ts, upT)
				}
			}
		})
	}
}

func itoa(i int) string { return idStr(int64(i)) }

// TestSamples runs the shared real logs through the parser: nothing panics,
// real sshd sessions are learned, and foreign lines are counted malformed.
func TestSamples(t *testing.T) {
	files, _ := filepath.Glob(sharedtest.Dir + "/samples/auditd-*/real-hosts/*.log")
	if len(files) == 0 {
		t.Skip("shared samples absent")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p := NewParser(Options{Emit: func(sources.Event) {}})
		for _, l := range strings.Split(string(data), "\n") {
			p.Line([]byte(l))
		}
		p.Flush()
		st := p.Stats()
		if st.Records == 0 || st.Malformed*100 > st.Lines {
			t.Errorf("%s: %+v", filepath.Base(f), st)
		}
		if strings.Contains(f, "rhel8-ec2") && p.sessions.len() == 0 {
			t.Errorf("%s: no sshd session learned", filepath.Base(f))
		}
	}
}

func TestTableBounded(t *testing.T) {
	tb := newTable[int, int](100)
	for i := range 10000 {
		tb.put(i, i)
		if tb.len() > 100 {
			t.Fatalf("table holds %d > 100", tb.len())
		}
	}
	if v, ok := tb.get(9999); !ok || v != 9999 {
		t.Errorf("newest entry lost")
	}
	if _, ok := tb.get(0); ok {
		t.Errorf("oldest entry kept")
	}
}

// FuzzLine feeds arbitrary text, line by line, after the start of a real
// event, so hostile records reach grouping, attribution and documents.
func FuzzLine(f *testing.F) {
	for _, l := range strings.Split(specExample, "\n") {
		f.Add([]byte(l))
	}
	f.Add([]byte("type=EXECVE msg=audit(1.2:3): argc=99999999 a99999[0]=41 a1_len=3"))
	f.Add([]byte("node=x type=SOCKADDR msg=audit(1.2:3): saddr=0A00"))
	f.Add([]byte("type=PATH msg=audit(1795661111.044:3375): item=1 name=\"unterminated nametype=CREATE"))
	f.Add([]byte("type=PATH msg=audit(1795661111.044:3375): item=2 name=2E2E2F2E2E00 mode=0140777 nametype=CREATE\x1dOUID=\"\nEOE"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var evs []sources.Event
		p := NewParser(Options{Emit: func(ev sources.Event) { evs = append(evs, ev) }})
		head := strings.Split(specExample, "\n")[:4]
		for _, l := range head {
			p.Line([]byte(l))
		}
		parts := bytes.Split(data, []byte("\n"))
		for _, l := range parts {
			p.Line(l)
		}
		p.Flush()
		if st := p.Stats(); st.Lines != uint64(len(head)+len(parts)) || st.Events != uint64(len(evs)) {
			t.Fatalf("stats %+v for %d lines, %d events", st, len(head)+len(parts), len(evs))
		}
		for _, ev := range evs {
			if _, err := json.Marshal(ev.Doc); err != nil {
				t.Fatalf("event does not marshal: %v", err)
			}
		}
	})
}

// TestOverlappingFTPSessions runs a real capture (testdata/ftp-overlap.log,
// recorded live with the narrow rules for /usr/sbin/vsftpd): two FTP logins
// from 127.0.0.10 overlap — the listener accepts A, forks A's session,
// accepts B, forks B's session — and then each uploads. Each creation must
// carry its own control connection's port: A's is 0x8555, B's 0xC713. Taking
// the listener's newest accept would give B's port to A; taking the session
// process's newest accept would give a data connection's.
func TestOverlappingFTPSessions(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "ftp-overlap.log"))
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := parseAll(t, string(b))
	want := map[string]string{"/tmp/dbg/drop/a.bin": "34133", "/tmp/dbg/drop/b.bin": "50963"}
	got := map[string]string{}
	for _, ev := range evs {
		if ev.Doc.Str("event.action") != "creation" {
			continue
		}
		got[ev.Doc.Str("file.path")] = ev.Doc.Str("source.port")
		wantStr(t, ev, "source.ip", "127.0.0.10")
		wantStr(t, ev, "user.name", "xfe2dbg")
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ports by file %v, want %v", got, want)
	}
}
