package enrich

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
)

func TestIDNamesParsesAndReloads(t *testing.T) {
	p := filepath.Join(t.TempDir(), "passwd")
	os.WriteFile(p, []byte("root:x:0:0:root:/root:/bin/bash\n# comment\n+nis::::\nvictim:x:1001:1001::/home/victim:/bin/sh\ndup:x:1001:1001::/:/bin/sh\nbroken\n"), 0o600)
	n := NewIDNames(p)
	if n.Name("0") != "root" || n.Name("1001") != "victim" || n.Name("7") != "" {
		t.Fatalf("names: %q %q %q", n.Name("0"), n.Name("1001"), n.Name("7"))
	}
	os.WriteFile(p, []byte("root:x:0:0:root:/root:/bin/bash\nnewcomer:x:1002:1002::/:/bin/sh\n"), 0o600)
	later := time.Now().Add(time.Minute)
	os.Chtimes(p, later, later)
	n.mu.Lock()
	n.checked = time.Time{} // skip the recheck delay
	n.mu.Unlock()
	if n.Name("1002") != "newcomer" || n.Name("1001") != "" {
		t.Fatalf("not reloaded: %q %q", n.Name("1002"), n.Name("1001"))
	}
}

func TestNamesFillOnlyMissing(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "passwd"), []byte("root:x:0:0::/:/bin/sh\nvictim:x:1001:1001::/:/bin/sh\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "group"), []byte("root:x:0:\nvictim:x:1001:\n"), 0o600)
	e := New(Options{Passwd: filepath.Join(dir, "passwd"), Group: filepath.Join(dir, "group")})
	d := ecs.Doc{}
	d.Set("user.id", "1001")
	d.Set("user.effective.id", "0")
	d.Set("user.effective.name", "from-records")
	d.Set("user.audit.id", "4294967295")
	d.Set("group.id", "1001")
	d.Set("file.uid", "0")
	e.Names(d)
	for k, v := range map[string]string{"user.name": "victim", "user.effective.name": "from-records", "user.audit.name": "", "group.name": "victim", "file.owner": "root", "related.user": "victim"} {
		if got := d.Str(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestParseHexAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0100007F:1F90":                         "127.0.0.1:8080",
		"0000000000000000FFFF00000100007F:0016": "127.0.0.1:22",
		"00000000000000000000000001000000:0050": "[::1]:80",
	} {
		got, ok := parseHexAddr(in)
		if !ok || got.String() != want {
			t.Errorf("%s = %v %v, want %s", in, got, ok, want)
		}
	}
}

// startChild runs sh with env and waits until it is running.
func startChild(t *testing.T, script string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/bin/bash", "-c", script)
	cmd.Env = append(os.Environ(), env...)
	// Its own process group, so cleanup stops the children it forks too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	return cmd
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSSHConnectionFromAncestorEnviron(t *testing.T) {
	// The grandchild has no SSH_CONNECTION of its own; its parent does.
	cmd := startChild(t, `env -u SSH_CONNECTION sleep 30 & wait`, "SSH_CONNECTION=198.51.100.7 50022 127.0.0.1 22")
	var child int
	waitFor(t, func() bool {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/task/" + strconv.Itoa(cmd.Process.Pid) + "/children")
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return false
		}
		child, _ = strconv.Atoi(f[0])
		pr, ok := Proc{}.Read(child)
		return ok && pr.Name == "sleep"
	}, "grandchild sleep")
	d := ecs.Doc{}
	d.Set("process.pid", child)
	New(Options{}).Alert(context.Background(), d)
	if d.Str("source.ip") != "198.51.100.7" || d.Str("source.port") != "50022" || d.Str("xferhunt.connection.attributed_by") != "proc-environ" {
		t.Fatalf("source %q:%q by %q", d.Str("source.ip"), d.Str("source.port"), d.Str("xferhunt.connection.attributed_by"))
	}
	if d.Str("xferhunt.connection.pid") != strconv.Itoa(cmd.Process.Pid) {
		t.Errorf("attributed via pid %s, want the parent %d", d.Str("xferhunt.connection.pid"), cmd.Process.Pid)
	}
	if d.Str("process.parent.pid") != strconv.Itoa(cmd.Process.Pid) || d.Str("process.parent.name") != "bash" {
		t.Errorf("parent %s %s", d.Str("process.parent.pid"), d.Str("process.parent.name"))
	}
	if anc, _ := d.Get("xferhunt.process.ancestry").([]any); len(anc) < 3 {
		t.Errorf("ancestry has %d entries", len(anc))
	}
}

func TestSocketPeerOfProcessTree(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:22241")
	if err != nil {
		t.Skipf("port 22241: %v", err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			time.Sleep(10 * time.Second)
		}
	}()
	cmd := startChild(t, `exec 3<>/dev/tcp/127.0.0.1/22241; sleep 30`)
	var peers []Peer
	waitFor(t, func() bool {
		peers = Proc{}.SocketPeers([]Process{{PID: cmd.Process.Pid}})
		return len(peers) > 0
	}, "socket peer")
	if peers[0].Remote != netip.MustParseAddrPort("127.0.0.1:22241") {
		t.Fatalf("peer %v", peers[0])
	}
	d := ecs.Doc{}
	d.Set("process.pid", cmd.Process.Pid)
	New(Options{}).Alert(context.Background(), d)
	if d.Str("source.ip") != "127.0.0.1" || d.Str("xferhunt.connection.attributed_by") != "proc-socket" {
		t.Fatalf("source %q by %q", d.Str("source.ip"), d.Str("xferhunt.connection.attributed_by"))
	}
}

func TestGoneProcessAddsNothing(t *testing.T) {
	d := ecs.Doc{}
	d.Set("process.pid", 1<<30)
	New(Options{}).Alert(context.Background(), d)
	if d.Get("source.ip") != nil || d.Get("xferhunt.process.ancestry") != nil {
		t.Fatalf("enriched a missing process: %v", d)
	}
}

func TestFileFacts(t *testing.T) {
	dir := t.TempDir()
	elf := filepath.Join(dir, "payload")
	elfBytes := append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 100)...)
	os.WriteFile(elf, elfBytes, 0o4755)
	os.Chmod(elf, 0o755|os.ModeSetuid)
	script := filepath.Join(dir, "run.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o700)
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	e := New(Options{})
	cases := []struct {
		path, kind, mode, sha string
		exists                bool
	}{
		{elf, "elf", "4755", fmt.Sprintf("%x", sha256.Sum256(elfBytes)), true},
		{script, "script", "0700", fmt.Sprintf("%x", sha256.Sum256([]byte("#!/bin/sh\necho hi\n"))), true},
		{fifo, "fifo", "0600", "", true},
		{filepath.Join(dir, "gone"), "", "", "", false},
	}
	for _, c := range cases {
		d := ecs.Doc{}
		d.Set("file.path", c.path)
		start := time.Now()
		e.Alert(context.Background(), d)
		if time.Since(start) > time.Second {
			t.Errorf("%s took %v", c.path, time.Since(start))
		}
		if d.Get("xferhunt.file.exists") != c.exists {
			t.Errorf("%s exists = %v", c.path, d.Get("xferhunt.file.exists"))
		}
		if !c.exists {
			continue
		}
		if d.Str("xferhunt.file.type") != c.kind || d.Str("xferhunt.file.mode") != c.mode {
			t.Errorf("%s: type %q mode %q", c.path, d.Str("xferhunt.file.type"), d.Str("xferhunt.file.mode"))
		}
		if got := d.Str("xferhunt.file.hash.sha256"); got != c.sha {
			t.Errorf("%s: sha256 %q, want %q", c.path, got, c.sha)
		}
		if c.kind == "fifo" && d.Get("xferhunt.file.hash.sha256") != nil {
			t.Errorf("a FIFO was hashed")
		}
	}
}

func TestHashBoundedBySizeAndTime(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	f, _ := os.Create(big)
	f.Truncate(8 << 30) // sparse 8 GiB
	f.Close()
	ff := StatFile(context.Background(), big, 1<<20)
	if ff.HashSkipped != "too large" || ff.SHA256 != "" || ff.Size != 8<<30 {
		t.Fatalf("cap: %+v", ff)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	ff = StatFile(ctx, big, 16<<30)
	if el := time.Since(start); el > 500*time.Millisecond {
		t.Fatalf("hashing ran %v past a 50ms budget", el)
	}
	if ff.HashSkipped != "timeout" || ff.SHA256 != "" {
		t.Fatalf("timeout: %+v", ff)
	}
}

func TestMagic(t *testing.T) {
	for in, want := range map[string]string{"": "empty", "\x7fELF..": "elf", "#!/usr/bin/env python": "script", "\x1f\x8b\x08": "gzip",
		"PK\x03\x04": "zip", "plain words\n": "text", "\x00\x01\x02": "data", "ssh-ed25519 AAAA": "ssh-key"} {
		if got := Magic([]byte(in)); got != want {
			t.Errorf("Magic(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFileFactsNeverHashThroughSymlinkedDirectory: the live file facts of
// an alert whose directory was swapped for a link to a root-only directory
// carry no hash and no metadata of the file behind it (issue 9 item 5).
func TestFileFactsNeverHashThroughSymlinkedDirectory(t *testing.T) {
	private := t.TempDir()
	secret := []byte("root:secret-hash-me")
	os.WriteFile(filepath.Join(private, "shadow"), secret, 0o600)
	drop := t.TempDir()
	if err := os.Symlink(private, filepath.Join(drop, "upload")); err != nil {
		t.Fatal(err)
	}
	ff := StatFile(context.Background(), filepath.Join(drop, "upload", "shadow"), 1<<20)
	if ff.SHA256 != "" || ff.Size != 0 || ff.HashSkipped != "symlink in path" {
		t.Fatalf("facts through a symlinked directory: %+v", ff)
	}
	if ff := StatFile(context.Background(), filepath.Join(private, "shadow"), 1<<20); ff.SHA256 != fmt.Sprintf("%x", sha256.Sum256(secret)) {
		t.Fatalf("direct path not hashed: %+v", ff)
	}
}

// TestFileFactsNeverReadPseudoFiles: an event naming a /proc file (a
// forged line in a followed log: /proc/kmsg, whose read takes the kernel's
// messages away from the host's log readers) is not opened for its facts.
// Before, root xferhunt read /proc/kmsg for its magic and hash ("text",
// hash skipped by timeout after 500 ms).
func TestFileFactsNeverReadPseudoFiles(t *testing.T) {
	p := fmt.Sprintf("/proc/%d/environ", os.Getpid())
	ff := StatFile(context.Background(), p, 1<<20)
	if ff.SHA256 != "" || ff.Kind != "kernel pseudo file" || ff.HashSkipped != "pseudo filesystem" {
		t.Fatalf("facts of %s: %+v", p, ff)
	}
}
