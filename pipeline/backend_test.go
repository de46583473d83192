package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/exceptions"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/triage"
)

func testSetup(t *testing.T, dir string) *setup {
	t.Helper()
	var errb bytes.Buffer
	s, err := newSetup(&Config{Rules: []string{"seed"}, StateDir: dir, Stderr: &errb})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// creation is a Defend-shaped creation event the seed rule matches.
func creation(exe, path string) ecs.Doc {
	d := ecs.Doc{}
	d.Set("@timestamp", "2026-11-26T03:13:13.000Z")
	d.Set("event.category", []any{"file"})
	d.Set("event.action", "creation")
	d.Set("host.os.type", "linux")
	d.Set("host.id", "h1")
	d.Set("process.name", filepath.Base(exe))
	d.Set("process.executable", exe)
	d.Set("file.path", path)
	return d
}

// TestTriageAndExceptionsSurviveRestart: a status set and an exception
// added through the TUI's backend are there after a restart, and the
// exception suppresses the next matching event at once.
func TestTriageAndExceptionsSurviveRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s := testSetup(t, dir)
	b := &backend{s: s}
	if err := b.SetStatus("alert-1", triage.StatusAcknowledged); err != nil {
		t.Fatal(err)
	}
	if n := len(s.engine.Process(creation("/usr/bin/scp", "/tmp/a"), detect.Flags{Key: "k1"})); n != 1 {
		t.Fatalf("first scp creation: %d alerts, want 1", n)
	}
	if err := b.SaveException(exceptions.NewItemFromField("process.executable", "/usr/lib/openssh/sftp-server")); err != nil {
		t.Fatal(err)
	}
	if n := len(s.engine.Process(creation("/usr/lib/openssh/sftp-server", "/tmp/b"), detect.Flags{Key: "k2"})); n != 0 {
		t.Fatalf("excepted sftp-server creation raised %d alerts", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = testSetup(t, dir)
	defer s.Close()
	b = &backend{s: s}
	if got := b.Statuses()["alert-1"]; got != triage.StatusAcknowledged {
		t.Fatalf("status after restart %q", got)
	}
	if n := len(s.engine.Process(creation("/usr/lib/openssh/sftp-server", "/tmp/c"), detect.Flags{Key: "k3"})); n != 0 {
		t.Fatalf("exception lost on restart: %d alerts", n)
	}
	if n := len(s.engine.Process(creation("/usr/bin/scp", "/tmp/d"), detect.Flags{Key: "k4"})); n != 0 {
		t.Fatalf("scp history lost on restart: %d alerts", n)
	}
	if n := len(s.engine.Process(creation("/usr/sbin/vsftpd", "/tmp/e"), detect.Flags{Key: "k5"})); n != 1 {
		t.Fatalf("vsftpd creation: %d alerts, want 1 (the exception must not over-match)", n)
	}
}

func TestEvidenceCopiesWithoutFollowingSymlinks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s := testSetup(t, dir)
	b := &backend{s: s}
	defer func() { b.s.Close() }()

	files := t.TempDir()
	payload := []byte("#!/bin/sh\necho dropped\n")
	real := filepath.Join(files, "dropped.sh")
	if err := os.WriteFile(real, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	a := detect.Alert{Doc: ecs.Doc{"kibana.alert.uuid": "u1"}}
	a.Doc.Set("file.path", real)
	dest, sum, err := b.PreserveEvidence(a)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(payload)
	if sum != hex.EncodeToString(want[:]) {
		t.Fatalf("sha256 %s", sum)
	}
	got, err := os.ReadFile(dest)
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("copy %q: %v", got, err)
	}
	if rel, err := filepath.Rel(dir, dest); err != nil || rel[0] == '.' {
		t.Fatalf("evidence %s outside the state dir %s", dest, dir)
	}
	if rec, err := s.store.Evidence("u1"); err != nil || !bytes.Contains(rec, []byte(sum)) {
		t.Fatalf("evidence record %q: %v", rec, err)
	}
	// The record and the copy survive a restart.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = testSetup(t, dir)
	b.s = s
	if rec, err := s.store.Evidence("u1"); err != nil || !bytes.Contains(rec, []byte(sum)) || !bytes.Contains(rec, []byte(dest)) {
		t.Fatalf("evidence record after restart %q: %v", rec, err)
	}
	if got, err := os.ReadFile(dest); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("copy after restart %q: %v", got, err)
	}

	secret := filepath.Join(files, "secret")
	os.WriteFile(secret, []byte("do not copy"), 0o600)
	link := filepath.Join(files, "link")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	b2 := detect.Alert{Doc: ecs.Doc{"kibana.alert.uuid": "u2"}}
	b2.Doc.Set("file.path", link)
	if _, _, err := b.PreserveEvidence(b2); err == nil {
		t.Fatal("followed a symlink")
	}
	b3 := detect.Alert{Doc: ecs.Doc{"kibana.alert.uuid": "u3"}}
	b3.Doc.Set("file.path", files)
	if _, _, err := b.PreserveEvidence(b3); err == nil {
		t.Fatal("copied a directory")
	}
}

// TestEvidenceNeverFollowsSymlinkedDirectories: P on a path whose
// directory was swapped for a link to a root-only directory copies nothing
// (issue 9 item 5; O_NOFOLLOW alone guards only the last component).
func TestEvidenceNeverFollowsSymlinkedDirectories(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s := testSetup(t, dir)
	defer s.Close()
	b := &backend{s: s}
	private := t.TempDir()
	if err := os.WriteFile(filepath.Join(private, "shadow"), []byte("root:secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	drop := t.TempDir()
	if err := os.Symlink(private, filepath.Join(drop, "upload")); err != nil {
		t.Fatal(err)
	}
	a := detect.Alert{Doc: ecs.Doc{"kibana.alert.uuid": "u1"}}
	a.Doc.Set("file.path", filepath.Join(drop, "upload", "shadow"))
	if dest, _, err := b.PreserveEvidence(a); err == nil {
		t.Fatalf("copied %s through a symlinked directory", dest)
	}
	if _, err := os.Stat(filepath.Join(dir, "evidence", "u1", "file")); !os.IsNotExist(err) {
		t.Fatalf("a copy exists: %v", err)
	}
}

// TestEphemeralEvidenceIgnoresPlantedDirectory: with --ephemeral the old
// evidence dir name /tmp/xferhunt-evidence-<pid> could be pre-created by
// another user with evidence.json linked to a root file (issue 9 item 1).
// Evidence now goes to a fresh private directory and the root file is
// untouched.
func TestEphemeralEvidenceIgnoresPlantedDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("plants a directory owned by another uid: needs root")
	}
	tmp := t.TempDir()
	os.Chmod(tmp, 0o1777)
	t.Setenv("TMPDIR", tmp)
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("root file\n"), 0o600)
	planted := filepath.Join(tmp, fmt.Sprintf("xferhunt-evidence-%d", os.Getpid()))
	pd := filepath.Join(planted, "evidence", "u1")
	if err := os.MkdirAll(pd, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Symlink(victim, filepath.Join(pd, "evidence.json"))
	for _, p := range []string{planted, filepath.Join(planted, "evidence"), pd} {
		os.Chown(p, 65534, 65534)
		os.Chmod(p, 0o777)
	}

	b := ephemeralBackend(t)
	src := filepath.Join(t.TempDir(), "dropped")
	os.WriteFile(src, []byte("payload"), 0o644)
	a := detect.Alert{Doc: ecs.Doc{"kibana.alert.uuid": "u1"}}
	a.Doc.Set("file.path", src)
	dest, _, err := b.PreserveEvidence(a)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "root file\n" {
		t.Fatalf("root file overwritten: %q", got)
	}
	base := filepath.Dir(filepath.Dir(dest))
	if filepath.Dir(base) != tmp || base == planted || !strings.HasPrefix(filepath.Base(base), "xferhunt-evidence-") {
		t.Fatalf("evidence in %s, want a fresh xferhunt-evidence-* in %s", dest, tmp)
	}
	fi, err := os.Stat(base)
	if err != nil || fi.Mode().Perm() != 0o700 || fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Fatalf("evidence dir %s: %v %v, want ours and 0700", base, fi.Mode(), err)
	}
	if rec, err := os.ReadFile(filepath.Join(filepath.Dir(dest), "evidence.json")); err != nil || !bytes.Contains(rec, []byte(`"alert":"u1"`)) {
		t.Fatalf("evidence.json %q: %v", rec, err)
	}
}

// TestExportRefusesPlantedLinkAndSharedDir: E writes a predictable name in
// the working directory; a link planted there for that name must not be
// followed (issue 9 item 2), nor a directory others can write be used.
func TestExportRefusesPlantedLinkAndSharedDir(t *testing.T) {
	b := &backend{}
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("root file\n"), 0o600)
	cwd := t.TempDir()
	name := filepath.Join(cwd, "xferhunt-alerts-20261205T000000Z.ndjson")
	if err := os.Symlink(victim, name); err != nil {
		t.Fatal(err)
	}
	alerts := []detect.Alert{{Doc: creation("/usr/bin/scp", "/tmp/a")}}
	if err := b.Export(name, alerts); err == nil {
		t.Fatal("export wrote through a planted symlink")
	}
	if got, _ := os.ReadFile(victim); string(got) != "root file\n" {
		t.Fatalf("root file overwritten: %q", got)
	}
	fresh := filepath.Join(cwd, "xferhunt-alerts-20261205T000001Z.ndjson")
	if err := b.Export(fresh, alerts); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(fresh); err != nil || !bytes.Contains(got, []byte(`"/tmp/a"`)) {
		t.Fatalf("export %q: %v", got, err)
	}
	os.Chmod(cwd, 0o777)
	if err := b.Export(filepath.Join(cwd, "x.ndjson"), alerts); err == nil || !strings.Contains(err.Error(), "write it") {
		t.Fatalf("export into a world-writable directory: %v", err)
	}
}

// The demo replays another machine's recording: K and P must not act on
// whatever this host has at the recorded pid or path (issue 10).
func TestRecordedRefusesHostActions(t *testing.T) {
	sleep := exec.Command("sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sleep.Process.Kill(); _ = sleep.Wait() }()
	b := &backend{s: &setup{recorded: true}}
	if err := b.Kill(sleep.Process.Pid); !errors.Is(err, errRecorded) {
		t.Fatalf("Kill on a recording: %v", err)
	}
	if err := sleep.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the host's process at the recorded pid was hurt: %v", err)
	}
	doc := ecs.Doc{"file": map[string]any{"path": "/etc/hostname"}}
	if _, _, err := b.PreserveEvidence(detect.Alert{Doc: doc}); !errors.Is(err, errRecorded) {
		t.Fatalf("PreserveEvidence on a recording: %v", err)
	}
}

// TestPreserveRefusesPseudoFiles: P on an alert whose path a forged event
// set to a /proc file is refused (reading /proc/kmsg would take the
// kernel's messages from the host's log readers); nothing is copied.
func TestPreserveRefusesPseudoFiles(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	b := ephemeralBackend(t)
	a := detect.Alert{Doc: ecs.Doc{"kibana.alert.uuid": "u1"}}
	a.Doc.Set("file.path", fmt.Sprintf("/proc/%d/environ", os.Getpid()))
	dest, _, err := b.PreserveEvidence(a)
	if err == nil || !strings.Contains(err.Error(), "refused: a kernel pseudo file") {
		t.Fatalf("P on a /proc file: copied to %q, err %v", dest, err)
	}
}

// ephemeralBackend is the TUI's backend over an --ephemeral setup with the
// seed rule, closed when the test ends.
func ephemeralBackend(t *testing.T) *backend {
	t.Helper()
	var errb bytes.Buffer
	s, err := newSetup(&Config{Rules: []string{"seed"}, Ephemeral: true, Stderr: &errb})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &backend{s: s}
}
