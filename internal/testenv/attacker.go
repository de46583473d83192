package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Nobody is the uid and gid of the unprivileged account an Attacker runs
// as (Debian's nobody:nogroup). It needs no account of its own to be
// created, and nothing on the host may trust it.
const Nobody = 65534

// Attacker is a real unprivileged local user: a /bin/sh process running
// as uid/gid Nobody that plants and re-plants links while root xferhunt
// runs. Its script is the attack; the kernel's permission checks, not the
// test, decide what it can do.
type Attacker struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{}
}

// lockedBuffer collects the attacker's stderr while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// StartAttacker runs script with /bin/sh as uid/gid Nobody in dir, and
// waits until the script has created the file named by $READY (a path it
// can write in dir: its first round of planting is done). The process and
// its children are stopped, by the process group of the pid started here,
// when the test ends. Needs root.
func StartAttacker(t testing.TB, dir, script string) *Attacker {
	t.Helper()
	NeedRoot(t)
	ready := filepath.Join(dir, ".attacker-ready")
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "READY=" + ready, "LC_ALL=C"}
	a := &Attacker{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = a.stderr, a.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: Nobody, Gid: Nobody, Groups: []uint32{}},
		Setpgid:    true,
		Pdeathsig:  syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start attacker: %v", err)
	}
	go func() { cmd.Wait(); close(a.done) }()
	t.Cleanup(a.Stop)
	if !Poll(func() bool { _, err := os.Lstat(ready); return err == nil }, 10*time.Second) {
		a.Stop()
		t.Fatalf("attacker never finished its first round: %s", a.stderr.String())
	}
	return a
}

// Running says whether the attack loop is still going (a script that died
// early would make a passing test prove nothing).
func (a *Attacker) Running() bool {
	select {
	case <-a.done:
		return false
	default:
		return true
	}
}

// Output is what the attacker's commands printed (failed plants say why).
func (a *Attacker) Output() string { return a.stderr.String() }

// Stop kills the attacker's process group (only the processes this
// Attacker started: Setpgid made its pid the group id) and waits for it.
func (a *Attacker) Stop() {
	select {
	case <-a.done:
		return
	default:
	}
	syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
	<-a.done
}

// Arena is the ground of an attack: Shared is a sticky world-writable
// directory like /tmp, where the attacker plants; Root is a root-owned
// 0755 directory holding Victim (a root file that must never change) and
// Secret (a root-only 0600 file that must never be copied or hashed).
type Arena struct {
	Shared, Root   string
	Victim, Secret string
	// VictimBody and SecretBody are what the two files hold.
	VictimBody, SecretBody []byte
}

// NewArena makes an Arena under a fresh directory the attacker can
// traverse (t.TempDir is 0700) and removes it at cleanup.
func NewArena(t testing.TB) *Arena {
	t.Helper()
	NeedRoot(t)
	base, err := os.MkdirTemp("", "xhatk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	a := &Arena{Shared: filepath.Join(base, "shared"), Root: filepath.Join(base, "root"),
		VictimBody: []byte("root's file: must not change\n"), SecretBody: []byte("root-only secret 0600\n")}
	a.Victim, a.Secret = filepath.Join(a.Root, "victim"), filepath.Join(a.Root, "up.bin")
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{base, 0o755}, {a.Shared, os.ModeSticky | 0o777}, {a.Root, 0o755}} {
		if err := os.MkdirAll(d.path, 0o700); err != nil {
			t.Fatal(err)
		}
		// Chmod after Mkdir: the umask must not decide the modes.
		if err := os.Chmod(d.path, d.mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(a.Victim, a.VictimBody, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a.Secret, a.SecretBody, 0o600); err != nil {
		t.Fatal(err)
	}
	return a
}

// CheckRootUntouched fails the test if Victim or Secret changed (content,
// mode, owner) or anything was added to or removed from Root.
func (a *Arena) CheckRootUntouched(t testing.TB) {
	t.Helper()
	for _, f := range []struct {
		path string
		body []byte
		mode os.FileMode
	}{{a.Victim, a.VictimBody, 0o644}, {a.Secret, a.SecretBody, 0o600}} {
		b, err := os.ReadFile(f.path)
		fi, serr := os.Lstat(f.path)
		if err != nil || serr != nil || !bytes.Equal(b, f.body) || fi.Mode() != f.mode || fi.Sys().(*syscall.Stat_t).Uid != 0 {
			t.Errorf("root file %s changed: %q %v %v %v", f.path, b, fi.Mode(), err, serr)
		}
	}
	fi, err := os.Lstat(a.Root)
	ents, _ := os.ReadDir(a.Root)
	if err != nil || fi.Mode() != os.ModeDir|0o755 || len(ents) != 2 {
		t.Errorf("root directory %s changed: mode %v, %d entries (want 2), %v", a.Root, fi.Mode(), len(ents), err)
	}
}

// ScpUploadRecords is auditd's RAW log of one file creation by scp -t
// (records taken from testdata/capture/raw.log, a real upload) naming
// path, stamped at when with the given serial: an upload to attack
// through, appended to a log xferhunt follows.
func ScpUploadRecords(path string, when time.Time, serial int) []byte {
	stamp := fmt.Sprintf("%d.%03d:%d", when.Unix(), when.Nanosecond()/1e6, serial)
	dir := filepath.Dir(path) + "/"
	return fmt.Appendf(nil, `type=SYSCALL msg=audit(%[1]s): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=559572b52310 a2=41 a3=1a4 items=2 ppid=1456 pid=1461 auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=(none) ses=36 comm="scp" exe="/usr/bin/scp" key="xferhunt"
type=CWD msg=audit(%[1]s): cwd="/home/xfvictim"
type=PATH msg=audit(%[1]s): item=0 name="%[2]s" inode=246947 dev=fe:00 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
type=PATH msg=audit(%[1]s): item=1 name="%[3]s" inode=9981326 dev=fe:00 mode=0100644 ouid=1001 ogid=1001 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
type=PROCTITLE msg=audit(%[1]s): proctitle=62617368002D6300736370202D74202F746D702F64726F707065642D6C65676163792E62696E
`, stamp, dir, path)
}
