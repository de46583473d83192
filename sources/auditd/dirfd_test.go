package auditd

import (
	"strings"
	"testing"
)

// rsyncTree is `rsync -r tree host:DIR/` as the kernel logged it (rsync
// 3.2.7+ receiver, cwd DIR): mkdirat(fd of DIR, "tree"), mkdirat(fd of
// tree, "sub"), openat(fd of sub, ".f.txt.XXXXXX"), renameat(fd of sub,
// …, "f.txt"). Every PARENT is printed as the cwd; only its inode says
// which directory it is.
const rsyncTree = `type=SYSCALL msg=audit(1796509643.950:6985480): arch=c000003e syscall=258 success=yes exit=0 a0=0 a1=7fff04a49250 a2=41ed a3=100 items=2 ppid=16536 pid=16537 auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=(none) ses=364 comm="rsync" exe="/usr/bin/rsync" key="xferhunt"
type=CWD msg=audit(1796509643.950:6985480): cwd="/tmp/DIR"
type=PATH msg=audit(1796509643.950:6985480): item=0 name="/tmp/DIR" inode=10011654 dev=fe:00 mode=040777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT
type=PATH msg=audit(1796509643.950:6985480): item=1 name="tree" inode=10011759 dev=fe:00 mode=040755 ouid=1001 ogid=1001 rdev=00:00 nametype=CREATE
type=SYSCALL msg=audit(1796509643.954:6985481): arch=c000003e syscall=258 success=yes exit=0 a0=4 a1=7fff04a49255 a2=41ed a3=100 items=2 ppid=16536 pid=16537 auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=(none) ses=364 comm="rsync" exe="/usr/bin/rsync" key="xferhunt"
type=CWD msg=audit(1796509643.954:6985481): cwd="/tmp/DIR"
type=PATH msg=audit(1796509643.954:6985481): item=0 name="/tmp/DIR" inode=10011759 dev=fe:00 mode=040755 ouid=1001 ogid=1001 rdev=00:00 nametype=PARENT
type=PATH msg=audit(1796509643.954:6985481): item=1 name="sub" inode=10011760 dev=fe:00 mode=040755 ouid=1001 ogid=1001 rdev=00:00 nametype=CREATE
type=SYSCALL msg=audit(1796509643.958:6985482): arch=c000003e syscall=257 success=yes exit=6 a0=5 a1=7fff04a48259 a2=200c2 a3=180 items=2 ppid=16537 pid=16538 auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=(none) ses=364 comm="rsync" exe="/usr/bin/rsync" key="xferhunt"
type=CWD msg=audit(1796509643.958:6985482): cwd="/tmp/DIR"
type=PATH msg=audit(1796509643.958:6985482): item=0 name="/tmp/DIR" inode=10011760 dev=fe:00 mode=040755 ouid=1001 ogid=1001 rdev=00:00 nametype=PARENT
type=PATH msg=audit(1796509643.958:6985482): item=1 name=".f.txt.I2sH6X" inode=10011844 dev=fe:00 mode=0100600 ouid=1001 ogid=1001 rdev=00:00 nametype=CREATE
type=SYSCALL msg=audit(1796509643.958:6985485): arch=c000003e syscall=264 success=yes exit=0 a0=5 a1=7fff04a48259 a2=5 a3=7fff04a46259 items=4 ppid=16537 pid=16538 auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=(none) ses=364 comm="rsync" exe="/usr/bin/rsync" key="xferhunt"
type=CWD msg=audit(1796509643.958:6985485): cwd="/tmp/DIR"
type=PATH msg=audit(1796509643.958:6985485): item=0 name="/tmp/DIR" inode=10011760 dev=fe:00 mode=040755 ouid=1001 ogid=1001 rdev=00:00 nametype=PARENT
type=PATH msg=audit(1796509643.958:6985485): item=1 name="/tmp/DIR" inode=10011760 dev=fe:00 mode=040755 ouid=1001 ogid=1001 rdev=00:00 nametype=PARENT
type=PATH msg=audit(1796509643.958:6985485): item=2 name=".f.txt.I2sH6X" inode=10011844 dev=fe:00 mode=0100644 ouid=1001 ogid=1001 rdev=00:00 nametype=DELETE
type=PATH msg=audit(1796509643.958:6985485): item=3 name="f.txt" inode=10011844 dev=fe:00 mode=0100644 ouid=1001 ogid=1001 rdev=00:00 nametype=CREATE`

func fileEvents(text string) [][2]string {
	var out [][2]string
	for _, ev := range parseStory(strings.Split(text, "\n"), false) {
		out = append(out, [2]string{ev.Doc.Str("event.action"), ev.Doc.Str("file.path") + " " + ev.Doc.Str("file.Ext.original.path")})
	}
	return out
}

// Names relative to a directory fd land in the directory the fd is: the
// directories rsync creates are remembered by inode, and the files in them
// are placed there, not in the cwd the kernel prints.
func TestDirfdNames(t *testing.T) {
	got := fileEvents(rsyncTree)
	want := [][2]string{
		{"creation", "/tmp/DIR/tree "},
		{"creation", "/tmp/DIR/tree/sub "},
		{"creation", "/tmp/DIR/tree/sub/.f.txt.I2sH6X "},
		{"rename", "/tmp/DIR/tree/sub/f.txt /tmp/DIR/tree/sub/.f.txt.I2sH6X"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %v, want %v", i, got[i], want[i])
		}
	}
}

// A directory fd whose directory was never seen gives the cwd-relative
// path, as before; the same fd of a directory known from an earlier
// event with its own absolute path (AT_FDCWD) gives the right one. And a
// PARENT printed for an fd is never remembered under the cwd's name.
func TestDirfdUnknownAndKnown(t *testing.T) {
	lines := strings.Split(rsyncTree, "\n")
	// Without the creation of tree (its first event): sub's parent is unknown.
	if got := fileEvents(strings.Join(lines[4:8], "\n")); len(got) != 1 || got[0][1] != "/tmp/DIR/sub " {
		t.Errorf("unknown dirfd: %v", got)
	}
	// tree known from an absolute, cwd-relative event (a creation in it).
	known := `type=SYSCALL msg=audit(1796509643.900:6985470): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=1 a2=241 a3=1b6 items=2 ppid=1 pid=2 auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=(none) ses=364 comm="sftp-server" exe="/usr/lib/openssh/sftp-server" key="xferhunt"
type=CWD msg=audit(1796509643.900:6985470): cwd="/home/x"
type=PATH msg=audit(1796509643.900:6985470): item=0 name="/srv/up/tree/" inode=10011759 dev=fe:00 mode=040755 ouid=1001 ogid=1001 rdev=00:00 nametype=PARENT
type=PATH msg=audit(1796509643.900:6985470): item=1 name="/srv/up/tree/a" inode=9 dev=fe:00 mode=0100644 ouid=1001 ogid=1001 rdev=00:00 nametype=CREATE`
	got := fileEvents(known + "\n" + strings.Join(lines[4:8], "\n"))
	if len(got) != 2 || got[1][1] != "/srv/up/tree/sub " {
		t.Errorf("known dirfd: %v", got)
	}
	// The same inode on another device is another directory.
	other := strings.ReplaceAll(known, "dev=fe:00", "dev=fe:01")
	got = fileEvents(other + "\n" + strings.Join(lines[4:8], "\n"))
	if len(got) != 2 || got[1][1] != "/tmp/DIR/sub " {
		t.Errorf("dirfd on another device: %v", got)
	}
}
