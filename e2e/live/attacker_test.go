package live

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/internal/testenv"
)

// Issue 9 items 3–5 played by a real attacker: a process running as
// nobody that plants links and re-plants them in a loop while root
// xferhunt (the built binary) runs, instead of files planted by the test
// as root and chowned. Each asserts that root's files are unchanged and
// that xferhunt refuses in one clear line.

// rounds is how many root runs each race gets: enough for the planting
// loop to be caught at every step of its cycle.
const rounds = 8

// TestAttackerForeignStateDir: nobody creates the --state directory
// first (README's /tmp/xh example), puts its own state.db there (one that
// has seen every upload, so nothing would alert) and keeps re-planting the
// pid file as a link to a root file (item 3); root `scan` and headless
// runs must refuse the directory and write nothing through the link.
func TestAttackerForeignStateDir(t *testing.T) {
	ar := testenv.NewArena(t)
	log := filepath.Join(repoRoot, "testdata", "capture", "raw.log")
	// The attacker's state.db has already seen the capture, so a root
	// scan that accepted it would raise nothing: a real one, made by a
	// run over the same log and handed to the attacker.
	seed := t.TempDir()
	if code, stderr := runRefused(t, "scan", "--state", seed, log); code != 0 {
		t.Fatalf("seed run: exit %d: %s", code, stderr)
	}
	db, err := os.ReadFile(filepath.Join(seed, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ar.Shared, "seen.db"), db, 0o644); err != nil {
		t.Fatal(err)
	}
	atk := testenv.StartAttacker(t, ar.Shared, `
mkdir -m 0777 xh && cp seen.db xh/state.db && chmod 0666 xh/state.db || exit 1
while :; do
  ln -sfn `+ar.Victim+` xh/.p && mv -Tf xh/.p xh/xferhunt.pid
  [ -e "$READY" ] || : >"$READY"
done`)
	state := filepath.Join(ar.Shared, "xh")
	refusedEveryRound(t, state+": refused: owned by uid 65534, not by us (uid 0)",
		[]string{"scan", "--state", state, log},
		[]string{"--headless", "--state", state, "--source", "auditlog:" + log})
	afterAttack(t, ar, atk)
}

// TestAttackerSymlinkedStateDir: nobody keeps --state pointing at a root
// directory through a link it swaps between two targets (item 4: --state
// was followed and the target chmod'ed 0700); every root run refuses and
// the root directory keeps its mode and contents.
func TestAttackerSymlinkedStateDir(t *testing.T) {
	ar := testenv.NewArena(t)
	atk := testenv.StartAttacker(t, ar.Shared, `
while :; do
  ln -sfn `+ar.Root+` .l && mv -Tf .l xh
  ln -sfn `+ar.Root+`/ .l && mv -Tf .l xh
  [ -e "$READY" ] || : >"$READY"
done`)
	state := filepath.Join(ar.Shared, "xh")
	refusedEveryRound(t, state+": refused: a path component is a symbolic link",
		[]string{"scan", "--state", state, filepath.Join(repoRoot, "testdata", "capture", "raw.log")},
		[]string{"story", "--state", state, "--ip", "127.0.0.6"})
	afterAttack(t, ar, atk)
}

// TestAttackerFileFactsThroughSymlinkedDir: an upload lands in a
// directory nobody owns; nobody then keeps that directory swapped for a
// link to a root directory holding a 0600 file of the same name (item 5).
// Root headless xferhunt's live file facts must not hash, size or own
// the root file: the alert says the path lies behind a symlink.
func TestAttackerFileFactsThroughSymlinkedDir(t *testing.T) {
	ar := testenv.NewArena(t)
	atk := testenv.StartAttacker(t, ar.Shared, `
mkdir -p real/in && echo harmless >real/in/up.bin || exit 1
while :; do
  ln -sfn `+ar.Root+` .l && mv -Tf .l in
  [ -e "$READY" ] || : >"$READY"
done`)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(logPath, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	x := startXferhunt(t, xferOptions{}, "--headless", "--ephemeral", "--history-window", "1000d",
		"--new-terms-fields", "file.path,host.id", "--source", "auditlog:"+logPath)
	x.waitReady(20 * time.Second)
	up := filepath.Join(ar.Shared, "in", "up.bin")
	f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(testenv.ScpUploadRecords(up, time.Now(), 424242))
	f.Close()
	a, ok := x.waitAlert(up, 20*time.Second)
	if !ok {
		t.Fatalf("no alert for %s; stderr:\n%s", up, x.stderrText())
	}
	x.stop(10 * time.Second)
	sum := sha256.Sum256(ar.SecretBody)
	secret := hex.EncodeToString(sum[:])
	d := a.Doc
	if h := d.Str("xferhunt.file.hash.sha256"); h == secret || d.Str("xferhunt.file.type") != "behind symlink" ||
		d.Str("xferhunt.file.hash.skipped") != "symlink in path" || d.Get("xferhunt.file.size") != nil || d.Get("xferhunt.file.uid") != nil {
		t.Fatalf("file facts read through the link: type %q, sha256 %q (root secret's %s), skipped %q, size %v, uid %v",
			d.Str("xferhunt.file.type"), h, secret, d.Str("xferhunt.file.hash.skipped"), d.Get("xferhunt.file.size"), d.Get("xferhunt.file.uid"))
	}
	afterAttack(t, ar, atk)
}

// refusedEveryRound runs root xferhunt rounds times, alternating between
// the two command lines, while the attack loop runs: each run must exit 1
// with one line on stderr containing want.
func refusedEveryRound(t *testing.T, want string, even, odd []string) {
	t.Helper()
	for i := range rounds {
		args := even
		if i%2 == 1 {
			args = odd
		}
		code, stderr := runRefused(t, args...)
		if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, want) {
			t.Errorf("xferhunt %s: exit %d, stderr %q; want exit 1 and one line containing %q", strings.Join(args, " "), code, stderr, want)
			return
		}
	}
}

// afterAttack checks root's files and that the attack loop was still
// running (a loop that died early proves nothing).
func afterAttack(t *testing.T, ar *testenv.Arena, atk *testenv.Attacker) {
	t.Helper()
	ar.CheckRootUntouched(t)
	if !atk.Running() {
		t.Fatalf("the attack loop died early: %s", atk.Output())
	}
}

// runRefused runs the built binary and returns its exit code and stderr;
// a run that does not refuse within 20 s is killed and fails the test.
func runRefused(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("xferhunt %s still running after 20 s (not refused); stderr %q", strings.Join(args, " "), errb.String())
	}
	return cmd.ProcessState.ExitCode(), errb.String()
}
