package live

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/internal/testenv"
)

// TestResponderFootprint is issue 16's acceptance 3: the responder
// uploads the xferhunt binary over scp and runs that copy from a login
// session of their own. The upload's alert is marked as xferhunt's own
// (xferhunt.responder.own_binary), not hidden; the session it was started
// from is labelled in its story (xferhunt.responder.own_session).
func TestResponderFootprint(t *testing.T) {
	lockAuditAlone(t)
	const port = 22264
	responder := testenv.CreateUser(t, "xfe2r-a")
	sshd := testenv.StartSSHD(t, port)
	dir := dropDir(t, "/tmp", "xferhunt-e2e-responder-")
	rules, err := filepath.Abs(filepath.Join(repoRoot, "sources", "auditrules", "xferhunt.rules"))
	if err != nil {
		t.Fatal(err)
	}
	ad := testenv.StartAuditd(t, t.TempDir(), "RAW", rules)

	// The responder's arrival: the binary, uploaded as any tool would be.
	copyPath := filepath.Join(dir, "xferhunt")
	sshd.SCP(t, responder, binPath, copyPath, false, "127.0.0.31")
	if err := os.Chmod(copyPath, 0o755); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, func() bool {
		b, err := os.ReadFile(ad.LogPath)
		return err == nil && strings.Contains(string(b), `name="`+copyPath+`"`)
	}, 10*time.Second, "the upload in auditd's log")

	// Started from a login session: setting the login uid gives the shell
	// (and the xferhunt it execs) a new audit session, as a login would.
	sesFile := filepath.Join(t.TempDir(), "ses")
	note := filepath.Join(dir, "responder-was-here")
	state := filepath.Join(t.TempDir(), "state")
	script := fmt.Sprintf(`echo %d > /proc/self/loginuid && cat /proc/self/sessionid > %s && touch %s && exec "$0" "$@"`, responder.UID, sesFile, note)
	cmd := exec.Command("/bin/sh", "-c", script, copyPath, "--headless", "--source", "auditlog:"+ad.LogPath, "--state", state,
		"--new-terms-fields", "file.path,host.id", "--history-window", "1d")
	x := startCommand(t, xferOptions{}, cmd)
	x.waitReady(15 * time.Second)
	al, ok := x.waitAlert(copyPath, 10*time.Second)
	if !ok {
		t.Fatalf("no alert for the uploaded binary:%s", describe(x.Alerts()))
	}
	if got := al.Doc.Get("xferhunt.responder.own_binary"); got != true {
		t.Errorf("the upload of xferhunt itself: xferhunt.responder.own_binary = %v, want true (file.inode %s)", got, al.Doc.Str("file.inode"))
	}
	if al.Doc.Str("kibana.alert.rule.name") == "" || al.Doc.Str("source.ip") != "127.0.0.31" {
		t.Errorf("the marked alert is not a complete alert: rule %q source %q", al.Doc.Str("kibana.alert.rule.name"), al.Doc.Str("source.ip"))
	}
	x.stop(10 * time.Second)

	b, err := os.ReadFile(sesFile)
	if err != nil {
		t.Fatal(err)
	}
	ses := strings.TrimSpace(string(b))
	out, err := exec.Command(binPath, "story", "--state", state, "--session", ses, "--format", "ndjson").Output()
	if err != nil {
		t.Fatalf("story of the responder's session %s: %v", ses, err)
	}
	labelled := false
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		x, _ := m["xferhunt"].(map[string]any)
		r, _ := x["responder"].(map[string]any)
		f, _ := m["file"].(map[string]any)
		if f["path"] == note {
			labelled = r["own_session"] == true
		}
		if r["own_session"] != true {
			t.Errorf("an event of the responder's session %s is not labelled: %s", ses, l)
		}
	}
	if !labelled {
		t.Errorf("the responder's own file creation is missing or unlabelled in session %s's story:\n%s", ses, out)
	}
	text, _ := exec.Command(binPath, "story", "--state", state, "--session", ses).Output()
	if !strings.Contains(string(text), "[responder's own session]") {
		t.Errorf("the text story does not label the responder's session:\n%s", text)
	}
}
