package terminal

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/internal/testenv"
)

// TestAttackerEvidenceAndExport plays issue 9 items 1, 2 and 5 against the
// root TUI with a real attacker: a process running as nobody that, in a
// loop while xferhunt runs,
//   - plants /tmp/xferhunt-evidence-<pid>/evidence → a root directory for
//     every running xferhunt it finds in /proc (the old predictable
//     --ephemeral evidence directory, item 1),
//   - plants xferhunt-alerts-<UTC second>.ndjson → a root file for the
//     coming seconds in the directory the responder started xferhunt in
//     (the E export name, item 2),
//   - keeps the directory of an upload swapped for a link to a root
//     directory holding a 0600 file of the uploaded name (P, item 5).
//
// P on the swapped upload is refused with the reason on screen and copies
// nothing; P on a plain upload bundles it into a fresh private directory,
// not the planted one; E refuses the attacker's directory. Root's files and
// directory are unchanged.
func TestAttackerEvidenceAndExport(t *testing.T) {
	ar := testenv.NewArena(t)
	work := filepath.Join(ar.Shared, "work")
	atk := testenv.StartAttacker(t, ar.Shared, fmt.Sprintf(`
mkdir plain work && chmod 0777 work && echo 'harmless upload' >plain/up.bin || exit 1
while :; do
  ln -sfn %[1]s .l && mv -Tf .l in
  for c in /proc/[0-9]*/comm; do
    read -r n <"$c" 2>/dev/null || continue
    [ "$n" = xferhunt ] || continue
    p=${c#/proc/}; d=xferhunt-evidence-${p%%/comm}
    mkdir -p -m 0777 "$d" 2>/dev/null
    ln -sfn %[1]s "$d/.e" && mv -Tf "$d/.e" "$d/evidence"
  done
  s=$(date +%%s)
  for i in 0 1 2 3; do
    ln -sfn %[2]s work/.x && mv -Tf work/.x "work/xferhunt-alerts-$(date -u -d @$((s+i)) +%%Y%%m%%dT%%H%%M%%SZ).ndjson"
  done
  [ -e "$READY" ] || : >"$READY"
  sleep 0.02
done`, ar.Root, ar.Victim))

	plain := filepath.Join(ar.Shared, "plain", "up.bin")
	linked := filepath.Join(ar.Shared, "in", "up.bin")

	dir, err := os.MkdirTemp("", "xha")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	a := startAppIn(t, 200, 30, appOptions{noColor: true, flags: detectFlags, dir: dir, log: "audit.log",
		cwd: work, env: []string{"TMPDIR=" + ar.Shared}})
	a.launch()
	// The uploads happen while xferhunt follows the log: only alerts live
	// on this host may be acted on (a backfilled one is refused). The
	// plain upload's records name its real inode, as the kernel's would.
	a.waitScreen("the log followed live", 15*time.Second, func(scr []string) bool {
		return strings.Contains(strings.Join(scr, "\n"), "live")
	})
	var st syscall.Stat_t
	if err := syscall.Stat(plain, &st); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	plainRecs := bytes.ReplaceAll(testenv.ScpUploadRecords(plain, now, 9101), []byte("inode=9981326"), []byte(fmt.Sprintf("inode=%d", st.Ino)))
	a.appendLog(append(plainRecs, testenv.ScpUploadRecords(linked, now.Add(time.Millisecond), 9102)...))
	a.waitScreen("both uploads listed", 15*time.Second, func(scr []string) bool {
		s := strings.Join(scr, "\n")
		return strings.Contains(s, linked) && strings.Contains(s, plain)
	})

	// The newest (the swapped directory) is under the cursor.
	a.keys("P")
	a.waitScreen("P refused", 10*time.Second, func(scr []string) bool {
		return strings.Contains(strings.Join(scr, "\n"), "evidence refused: "+linked+": refused: a path component is a symbolic link")
	})
	a.keys("j", "P")
	var bundle string
	done := regexp.MustCompile(`evidence bundle (/[^ (]+) ?\(file sha256`)
	a.waitScreen("P bundled the plain upload", 10*time.Second, func(scr []string) bool {
		// The flash is wider than the screen: it wraps over the last rows.
		var tail strings.Builder
		for _, l := range scr[max(0, len(scr)-3):] {
			tail.WriteString(strings.TrimRight(l, " "))
		}
		if m := done.FindStringSubmatch(tail.String()); m != nil {
			bundle = m[1]
			return true
		}
		return false
	})
	dest := filepath.Join(bundle, "file")
	a.keys("E")
	a.waitScreen("E refused", 10*time.Second, func(scr []string) bool {
		return strings.Contains(strings.Join(scr, "\n"), "export: "+work+": refused: owned by uid 65534")
	})
	a.quit()

	// The plain upload's copy is in a directory of ours, made fresh.
	if got, err := os.ReadFile(dest); err != nil || string(got) != "harmless upload\n" {
		t.Errorf("preserved copy %s: %q, %v", dest, got, err)
	}
	base := filepath.Dir(bundle) // base/<alert uuid>/file
	fi, err := os.Lstat(base)
	if err != nil || filepath.Dir(base) != ar.Shared || fi.Mode() != os.ModeDir|0o700 || fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Errorf("evidence directory %s: %v %v; want a root 0700 directory in the temporary directory", base, fi, err)
	}
	// Nothing anywhere holds the secret; root made no file in the
	// attacker's directories.
	filepath.WalkDir(ar.Shared, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		if b, _ := os.ReadFile(p); bytes.Contains(b, ar.SecretBody) {
			t.Errorf("%s holds the root-only secret", p)
		}
		if fi, _ := d.Info(); fi != nil && fi.Sys().(*syscall.Stat_t).Uid == 0 && !strings.HasPrefix(p, base+"/") {
			t.Errorf("root wrote %s outside its own evidence directory", p)
		}
		return nil
	})
	ar.CheckRootUntouched(t)
	if !atk.Running() {
		t.Fatalf("the attack loop died early: %s", atk.Output())
	}
}
