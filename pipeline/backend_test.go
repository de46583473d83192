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
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/exceptions"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/liveness"
	"github.com/xferhunt/xferhunt/internal/procid"
	"github.com/xferhunt/xferhunt/respond"
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

// testHere is the host of the backend tests' live alerts.
var testHere = liveness.Host{ID: "h1", Boot: "boot-1"}

// liveAlert is an alert stamped live on testHere for file path.
func liveAlert(id, path string) detect.Alert {
	a := detect.Alert{Doc: ecs.Doc{"kibana.alert.uuid": id}}
	a.Doc.Set("host.id", testHere.ID)
	a.Doc.Set("@timestamp", time.Now().UTC().Format(time.RFC3339Nano))
	liveness.Set(a.Doc, liveness.Live, testHere)
	if path != "" {
		a.Doc.Set("file.path", path)
		if fi, err := os.Stat(path); err == nil {
			a.Doc.Set("file.inode", strconv.FormatUint(fi.Sys().(*syscall.Stat_t).Ino, 10))
		}
	}
	return a
}

func liveBackend(t *testing.T, dir string) *backend {
	s := testSetup(t, dir)
	s.here = testHere
	t.Cleanup(func() { s.Close() })
	return &backend{s: s}
}

// verifyManifest checks the bundle against its manifest.
func verifyManifest(t *testing.T, dir string) respond.Manifest {
	t.Helper()
	m, err := respond.VerifyBundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEvidenceBundle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	b := liveBackend(t, dir)
	files := t.TempDir()
	payload := []byte("#!/bin/sh\necho dropped\n")
	real := filepath.Join(files, "dropped.sh")
	if err := os.WriteFile(real, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	a := liveAlert("u1", real)
	a.Doc.Set("event.original", "type=SYSCALL msg=audit(1764126000.123:4242): arch=c000003e syscall=257 success=yes exit=3")
	bun, err := b.Evidence(a)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(payload)
	if bun.Manifest.FileSHA != hex.EncodeToString(want[:]) || bun.Existing {
		t.Fatalf("bundle %+v", bun)
	}
	if bun.Dir != filepath.Join(dir, "evidence", "u1") {
		t.Fatalf("bundle in %s", bun.Dir)
	}
	m := verifyManifest(t, bun.Dir)
	names := map[string]bool{}
	for _, it := range m.Items {
		names[it.Name] = true
	}
	for _, n := range []string{"file", "alert.json", "audit.log", "session-events.ndjson", "proc.txt"} {
		if !names[n] {
			t.Fatalf("manifest lacks %s: %+v", n, m.Items)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(bun.Dir, "file")); !bytes.Equal(got, payload) {
		t.Fatalf("copy %q", got)
	}
	// A second press reports the bundle and writes nothing.
	again, err := b.Evidence(a)
	if err != nil || !again.Existing || again.Dir != bun.Dir || !strings.Contains(again.Summary(), "already made") {
		t.Fatalf("second press: %+v %v", again, err)
	}
	// Logged once, and the log survives a restart.
	b.s.Close()
	b = liveBackend(t, dir)
	es, err := b.Responses()
	if err != nil || len(es) != 1 || es[0].Action != respond.ActionEvidence || !es[0].OK || es[0].Alert != "u1" {
		t.Fatalf("response log %+v %v", es, err)
	}
}

// TestEvidenceRefusesReplacedFile: the path now names another file than
// the event's: a symlink, another inode, a directory. Nothing is bundled
// and the refusal is logged. A file that is gone is bundled without it.
func TestEvidenceRefusesReplacedFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	b := liveBackend(t, dir)
	files := t.TempDir()
	path := filepath.Join(files, "up.bin")
	os.WriteFile(path, []byte("upload"), 0o644)
	a := liveAlert("u1", path)
	secret := filepath.Join(files, "secret")
	os.WriteFile(secret, []byte("do not copy"), 0o600)

	// Another file at the path (a new inode: the old one is kept, so its
	// number cannot be reused).
	os.Rename(path, path+".old")
	os.WriteFile(path, []byte("other"), 0o644)
	if _, err := b.Evidence(a); !errors.Is(err, respond.ErrFileReplaced) || !strings.Contains(err.Error(), "inode") {
		t.Fatalf("another inode: %v", err)
	}
	// A symlink at the path.
	os.Remove(path)
	os.Symlink(secret, path)
	if _, err := b.Evidence(a); !errors.Is(err, respond.ErrFileReplaced) || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("symlink: %v", err)
	}
	// A directory of the path swapped for a link.
	drop := t.TempDir()
	os.Symlink(files, filepath.Join(drop, "upload"))
	a2 := liveAlert("u2", "")
	a2.Doc.Set("file.path", filepath.Join(drop, "upload", "secret"))
	if _, err := b.Evidence(a2); err == nil {
		t.Fatal("bundled through a symlinked directory")
	}
	if _, err := os.Stat(filepath.Join(dir, "evidence", "u1")); !os.IsNotExist(err) {
		t.Fatalf("a refused bundle exists: %v", err)
	}
	// Gone: one clear line, a bundle without the file, no doubled error.
	os.Remove(path)
	bun, err := b.Evidence(a)
	if err != nil || !strings.Contains(bun.Summary(), "file gone since the event") || strings.Count(bun.Summary(), path) > 0 {
		t.Fatalf("vanished file: %q %v", bun.Summary(), err)
	}
	for _, it := range verifyManifest(t, bun.Dir).Items {
		if it.Name == "file" {
			t.Fatal("a vanished file was bundled")
		}
	}
	if again, err := b.Evidence(a); err != nil || !again.Existing {
		t.Fatalf("second press on a vanished file: %+v %v", again, err)
	}
	es, _ := b.Responses()
	refused := 0
	for _, e := range es {
		if !e.OK {
			refused++
		}
	}
	if refused != 3 {
		t.Fatalf("response log %+v, want 3 refusals", es)
	}
}

// TestHostActionsRefusedUnlessLive: only an alert stamped live on this
// host and boot may be acted on; the others are refused with their
// reason, and --readonly refuses everything.
func TestHostActionsRefusedUnlessLive(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	b := liveBackend(t, dir)
	path := filepath.Join(t.TempDir(), "f")
	os.WriteFile(path, []byte("x"), 0o644)
	sleep := exec.Command("sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sleep.Process.Kill(); _ = sleep.Wait() }()
	for _, c := range []struct {
		name string
		edit func(d ecs.Doc)
		why  string
	}{
		{"backfill", func(d ecs.Doc) { liveness.Set(d, liveness.Backfill, testHere) }, "backfilled"},
		{"recorded", func(d ecs.Doc) { liveness.Set(d, liveness.Recorded, testHere) }, "recording"},
		{"scan", func(d ecs.Doc) { d.Set(liveness.FieldOrigin, "") }, "not raised live"},
		{"other host", func(d ecs.Doc) { d.Set("host.id", "node-b") }, "another host"},
		{"earlier boot", func(d ecs.Doc) { d.Set(liveness.FieldBoot, "boot-0") }, "reboot"},
	} {
		a := liveAlert("u-"+c.name, path)
		a.Doc.Set("process.pid", sleep.Process.Pid)
		c.edit(a.Doc)
		if _, err := b.PlanKill(a); err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s: PlanKill: %v", c.name, err)
		}
		if _, err := b.Evidence(a); err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s: Evidence: %v", c.name, err)
		}
		if _, err := b.Quarantine(a); err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s: Quarantine: %v", c.name, err)
		}
		if _, err := b.Kill(a, respond.KillPlan{Process: procid.Identity{PID: sleep.Process.Pid}}, false); err == nil {
			t.Errorf("%s: Kill went through", c.name)
		}
	}
	if err := sleep.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the process at the alert's pid was hurt: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Fatalf("file mode changed to %v", fi.Mode())
	}
	if _, err := os.Stat(filepath.Join(dir, "evidence")); !os.IsNotExist(err) {
		t.Fatalf("evidence written: %v", err)
	}
	// --readonly: even a live alert is refused.
	b.s.readOnly = true
	a := liveAlert("u-live", path)
	if _, err := b.Evidence(a); !errors.Is(err, respond.ErrReadOnly) {
		t.Fatalf("Evidence under --readonly: %v", err)
	}
	if _, err := b.Quarantine(a); !errors.Is(err, respond.ErrReadOnly) {
		t.Fatalf("Quarantine under --readonly: %v", err)
	}
	if _, err := b.PlanKill(a); !errors.Is(err, respond.ErrReadOnly) {
		t.Fatalf("PlanKill under --readonly: %v", err)
	}
}

// TestKillRefusesReusedPid: the alert's pid is held by a process that is
// not the event's (its start time differs: a faked older start, as when
// the pid was reused; or another executable); nothing is signalled. With
// the true identity the kill goes through.
func TestKillRefusesReusedPid(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	b := liveBackend(t, dir)
	sleep := exec.Command("sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sleep.Wait() }()
	defer func() { _ = sleep.Process.Kill() }()
	pid := sleep.Process.Pid
	id, err := procid.Root("").Read(pid)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(start uint64, exe string) detect.Alert {
		a := liveAlert("k", "")
		a.Doc.Set("process.pid", pid)
		a.Doc.Set("process.executable", exe)
		if start > 0 {
			a.Doc.Set("xferhunt.process.start_ticks", start)
		}
		return a
	}
	for _, c := range []struct {
		name string
		a    detect.Alert
		why  string
	}{
		{"older start", mk(id.Start-1, id.Exe), "reused"},
		{"another exe", mk(id.Start, "/usr/lib/openssh/sftp-server"), "runs " + id.Exe},
		{"no start", mk(0, id.Exe), "start time is unknown"},
	} {
		plan, err := b.PlanKill(c.a)
		if err != nil || !strings.Contains(plan.ProcessErr, c.why) {
			t.Fatalf("%s: plan %+v %v", c.name, plan, err)
		}
		// Even a plan forged to name the pid is checked again at the signal.
		forged := respond.KillPlan{Process: procid.Identity{PID: pid, Start: id.Start - 1, Exe: id.Exe}}
		if _, err := b.Kill(c.a, forged, false); err == nil {
			t.Fatalf("%s: forged plan killed", c.name)
		}
	}
	if err := sleep.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("a refused kill hurt pid %d: %v", pid, err)
	}
	a := mk(id.Start, id.Exe)
	plan, err := b.PlanKill(a)
	if err != nil || plan.ProcessErr != "" {
		t.Fatalf("true identity refused: %+v %v", plan, err)
	}
	msg, err := b.Kill(a, plan, false)
	if err != nil || !strings.Contains(msg, "killed") {
		t.Fatalf("kill: %q %v", msg, err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the process survived the kill")
	}
	es, _ := b.Responses()
	var ok, refused int
	for _, e := range es {
		if e.OK {
			ok++
		} else {
			refused++
		}
	}
	if ok != 1 || refused != 3 {
		t.Fatalf("response log %+v", es)
	}
}

func TestQuarantine(t *testing.T) {
	b := liveBackend(t, filepath.Join(t.TempDir(), "state"))
	path := filepath.Join(t.TempDir(), "up.sh")
	os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755)
	a := liveAlert("q", path)
	msg, err := b.Quarantine(a)
	if err != nil || !strings.Contains(msg, "0755") {
		t.Fatalf("quarantine: %q %v", msg, err)
	}
	if fi, _ := os.Lstat(path); fi.Mode().Perm() != 0 {
		t.Fatalf("mode %v", fi.Mode())
	}
	es, _ := b.Responses()
	if len(es) != 1 || es[0].Action != respond.ActionQuarantine || !es[0].OK {
		t.Fatalf("log %+v", es)
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
	os.Symlink(victim, filepath.Join(pd, "manifest.json"))
	for _, p := range []string{planted, filepath.Join(planted, "evidence"), pd} {
		os.Chown(p, 65534, 65534)
		os.Chmod(p, 0o777)
	}

	b := ephemeralBackend(t)
	b.s.here = testHere
	src := filepath.Join(t.TempDir(), "dropped")
	os.WriteFile(src, []byte("payload"), 0o644)
	bun, err := b.Evidence(liveAlert("u1", src))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "root file\n" {
		t.Fatalf("root file overwritten: %q", got)
	}
	base := filepath.Dir(bun.Dir)
	if filepath.Dir(base) != tmp || base == planted || !strings.HasPrefix(filepath.Base(base), "xferhunt-evidence-") {
		t.Fatalf("evidence in %s, want a fresh xferhunt-evidence-* in %s", bun.Dir, tmp)
	}
	fi, err := os.Stat(base)
	if err != nil || fi.Mode().Perm() != 0o700 || fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Fatalf("evidence dir %s: %v %v, want ours and 0700", base, fi.Mode(), err)
	}
	verifyManifest(t, bun.Dir)
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
	a := liveAlert("d", "/etc/hostname")
	a.Doc.Set("process.pid", sleep.Process.Pid)
	if _, err := b.PlanKill(a); !errors.Is(err, errRecorded) {
		t.Fatalf("PlanKill on a recording: %v", err)
	}
	if _, err := b.Kill(a, respond.KillPlan{Process: procid.Identity{PID: sleep.Process.Pid}}, false); !errors.Is(err, errRecorded) {
		t.Fatalf("Kill on a recording: %v", err)
	}
	if err := sleep.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the host's process at the recorded pid was hurt: %v", err)
	}
	if _, err := b.Evidence(a); !errors.Is(err, errRecorded) {
		t.Fatalf("Evidence on a recording: %v", err)
	}
}

// TestPreserveRefusesPseudoFiles: P on an alert whose path a forged event
// set to a /proc file is refused (reading /proc/kmsg would take the
// kernel's messages from the host's log readers); nothing is copied.
func TestPreserveRefusesPseudoFiles(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	b := ephemeralBackend(t)
	b.s.here = testHere
	a := liveAlert("u1", fmt.Sprintf("/proc/%d/environ", os.Getpid()))
	bun, err := b.Evidence(a)
	if err == nil || !strings.Contains(err.Error(), "refused: a kernel pseudo file") {
		t.Fatalf("P on a /proc file: bundled in %q, err %v", bun.Dir, err)
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
