package auditrules_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/internal/testenv"
	"github.com/xferhunt/xferhunt/sources/auditrules"
)

// TestForParses checks every line with go-libaudit's rule/flags parser.
func TestLines(t *testing.T) {
	lines := auditrules.Lines()
	if len(lines) != 15 {
		t.Fatalf("Lines() = %d rules, want 15", len(lines))
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, "-k "+auditrules.Key) {
			t.Errorf("rule without the xferhunt key: %s", l)
		}
		if !strings.HasPrefix(l, "-a always,exit -F arch=b") {
			t.Errorf("not a syscall exit rule: %s", l)
		}
	}
}

// TestOCreatFilter proves on the running kernel that the a1/a2 bitmask filters keep
// creating opens and drop plain opens, for both open and openat.
func TestOCreatFilter(t *testing.T) {
	testenv.LockAudit(t)
	dir := t.TempDir()
	rules := filepath.Join(dir, "xferhunt.rules")
	if err := os.WriteFile(rules, []byte(auditrules.Text), 0o600); err != nil {
		t.Fatal(err)
	}
	ad := testenv.StartAuditd(t, filepath.Join(dir, "auditd"), "RAW", rules)

	work := t.TempDir()
	created := filepath.Join(work, "created-by-openat")
	f, err := os.OpenFile(created, os.O_WRONLY|os.O_CREATE, 0o600) // openat(2) with O_CREAT
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	plain := filepath.Join(work, "plain-open")
	if err := os.WriteFile(plain, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// The existence of plain is logged above (O_CREAT); reading it back must not be.
	rd := filepath.Join(work, "read-only-open")
	if err := os.Link(plain, rd); err != nil { // linkat: a creation, logged
		t.Fatal(err)
	}
	f, err = os.Open(rd) // openat without O_CREAT
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	legacy := filepath.Join(work, "created-by-open")
	fd, errno := legacyOpen(t, legacy, syscall.O_WRONLY|syscall.O_CREAT, 0o600)
	if errno != 0 {
		t.Fatalf("open(2): %v", errno)
	}
	syscall.Close(int(fd))
	fd, errno = legacyOpen(t, rd, syscall.O_RDONLY, 0)
	if errno != 0 {
		t.Fatalf("open(2): %v", errno)
	}
	syscall.Close(int(fd))

	// The work dir name appears in every record about it; wait for the last creation.
	testenv.WaitFor(t, func() bool {
		b, _ := os.ReadFile(ad.LogPath)
		return bytes.Contains(b, []byte(pathField(legacy)))
	}, 10*time.Second, "open(2) creation in the log")
	ad.Stop(t)
	b, err := os.ReadFile(ad.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	for _, want := range []string{created, plain, rd, legacy} {
		if !strings.Contains(log, pathField(want)) {
			t.Errorf("no record of creating %s", want)
		}
	}
	// rd is named by exactly one event: the linkat. Neither read-only open may log.
	if n := countEventsNaming(log, rd); n != 1 {
		t.Errorf("%s named by %d events, want 1 (the link): read-only opens were logged", rd, n)
	}
}

func pathField(p string) string {
	for _, c := range p {
		if c <= ' ' || c > '~' || c == '"' {
			return "name=" + strings.ToUpper(hex.EncodeToString([]byte(p)))
		}
	}
	return `name="` + p + `"`
}

func countEventsNaming(log, p string) int {
	ids := map[string]bool{}
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, pathField(p)+" ") {
			if i := strings.Index(l, "msg=audit("); i >= 0 {
				ids[l[i:i+strings.Index(l[i:], ")")]] = true
			}
		}
	}
	return len(ids)
}

func TestNarrowLines(t *testing.T) {
	lines := auditrules.NarrowLines([]string{"/usr/bin/scp", "/opt/with space/ftp", "/usr/sbin/vsftpd"})
	// Per executable with a writable path: 4 creation and 2 server rules
	// per arch, but arm64 has no open(2), so no line for it there.
	want := 24
	if runtime.GOARCH == "arm64" {
		want = 22
	}
	if len(lines) != want {
		t.Fatalf("NarrowLines = %d rules, want %d:\n%s", len(lines), want, strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, "-k "+auditrules.Key) || !strings.Contains(l, " -F exe=/usr/") {
			t.Errorf("narrow rule without exe filter or key: %s", l)
		}
		if strings.Contains(l, "arch=b32") && strings.Contains(l, ",accept,") {
			t.Errorf("i386 has no accept syscall: %s", l)
		}
	}
	if got := auditrules.NarrowLines(nil); len(got) != 0 {
		t.Errorf("no executables, %d rules", len(got))
	}
}

// TestExecutables resolves links to the binary the kernel will compare
// with, drops what is missing or not a regular file, and keeps order.
func TestExecutables(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "tnftp")
	if err := os.WriteFile(real, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "ftp")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	got := auditrules.Executables([]string{filepath.Join(dir, "missing"), link, dir, real, "/usr/bin/../bin/sh"})
	sh, _ := filepath.EvalSymlinks("/bin/sh")
	want := []string{real, sh}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Executables = %v, want %v", got, want)
	}
}

func TestParseCoverage(t *testing.T) {
	for in, want := range map[string]auditrules.Coverage{"": auditrules.Narrow, "narrow": auditrules.Narrow, "broad": auditrules.Broad} {
		got, err := auditrules.ParseCoverage(in)
		if err != nil || got != want || (in != "" && got.String() != in) {
			t.Errorf("ParseCoverage(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := auditrules.ParseCoverage("wide"); err == nil {
		t.Error("wide accepted")
	}
}

// TestServerLines: servers get attribution rules only — no creation syscall,
// since each program in the creation rules costs every creating open on the
// host a comparison in the kernel.
func TestServerLines(t *testing.T) {
	lines := auditrules.ServerLines([]string{"/usr/sbin/sshd"})
	if len(lines) != 4 {
		t.Fatalf("ServerLines = %d rules, want 2 per arch:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		for _, sc := range []string{"open", "creat", "link", "rename", "mknod"} {
			if strings.Contains(l, "-S "+sc) || strings.Contains(l, ","+sc) {
				t.Errorf("server rule records %s: %s", sc, l)
			}
		}
		if !strings.Contains(l, "-F exe=/usr/sbin/sshd") {
			t.Errorf("server rule without its exe: %s", l)
		}
	}
	for _, l := range auditrules.For(auditrules.Narrow, os.Getpid()) {
		if strings.Contains(l, "exe=/usr/bin/sync") {
			t.Errorf("narrow coverage records sync, which creates no file: %s", l)
		}
		if strings.Contains(l, "exe=/usr/sbin/sshd ") && strings.Contains(l, "openat") {
			t.Errorf("narrow coverage records sshd's opens: %s", l)
		}
	}
}
