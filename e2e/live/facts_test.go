package live

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/enrich"
	"github.com/xferhunt/xferhunt/internal/testenv"
)

// Ports of the file-facts tests (their block is 22310–22319).
const (
	factsSSHPort = 22310
	factsTUIPort = 22311
)

// bigPayload writes n random bytes and returns the path and their sha256.
func bigPayload(t *testing.T, n int) (string, string) {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "payload-50m.bin")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return p, hex.EncodeToString(sum[:])
}

const fiftyMB = 50 << 20

// factsUpload is the set-up of the file-facts tests: the audit lock, a
// user, an sshd on port, a 50 MB random payload and where it will land.
type factsUpload struct {
	u            *testenv.User
	sshd         *testenv.SSHD
	payload, sum string
	dest         string
}

func newFactsUpload(t *testing.T, port int, user, name string) factsUpload {
	t.Helper()
	lockAuditAlone(t)
	f := factsUpload{u: testenv.CreateUser(t, user), sshd: testenv.StartSSHD(t, port)}
	f.payload, f.sum = bigPayload(t, fiftyMB)
	f.dest = filepath.Join(dropDir(t, "/tmp", "xferhunt-e2e-"+user+"-"), name)
	return f
}

// scp uploads the payload with legacy scp (scp -t writes the file).
func (f factsUpload) scp(t *testing.T) {
	t.Helper()
	start := time.Now()
	f.sshd.SCP(t, f.u, f.payload, f.dest, true, "127.0.0.9")
	t.Logf("50 MB scp -O took %v", time.Since(start).Round(time.Millisecond))
}

// TestUploadFactsAreFinal is acceptance 3 of issue 10, headless: a live 50
// MB scp upload's alert carries the file's real size and sha256, marked
// final. The alert line comes at once (the writer still holds the file:
// facts pending, no size, no hash) and the update, same kibana.alert.uuid,
// once scp has closed it; before this the alert said size 0 and the hash
// of nothing, never refreshed.
func TestUploadFactsAreFinal(t *testing.T) {
	f := newFactsUpload(t, factsSSHPort, "xfhfacts", "upload-50m.bin")
	dest, sum := f.dest, f.sum
	x := startXferhunt(t, xferOptions{Netlink: true}, "--headless", "--ephemeral", "--source", "netlink")
	x.waitReady(15 * time.Second)
	f.scp(t)
	if _, ok := x.waitAlert(dest, 10*time.Second); !ok {
		t.Fatalf("no alert for %s:%s\nstderr:\n%s", dest, describe(x.Alerts()), x.stderrText())
	}
	var a alert
	final := x.waitUntil(func() bool { // called under x.mu
		for _, al := range x.alerts {
			if al.Path == dest {
				a = al
			}
		}
		return a.Doc.Str(enrich.FileFactsState) == enrich.FactsFinal
	}, 60*time.Second)
	x.stop(5 * time.Second)
	if !final {
		t.Fatalf("facts never final: %v (lines %d)", a.Doc.Get("xferhunt.file"), a.Lines)
	}
	d := a.Doc
	if sz, _ := ecs.Float(d.Get(enrich.FileSize)); int(sz) != fiftyMB {
		t.Errorf("size %v, want %d", d.Get(enrich.FileSize), fiftyMB)
	}
	if got := d.Str(enrich.FileSHA256); got != sum {
		t.Errorf("sha256 %q, want %q", got, sum)
	}
	if d.Str(enrich.FileType) != "data" || d.Get(enrich.FileExists) != true {
		t.Errorf("type %q exists %v", d.Str(enrich.FileType), d.Get(enrich.FileExists))
	}
	t.Logf("%d line(s) for the alert; final facts %v after the first", a.Lines, a.Updated.Sub(a.At).Round(time.Millisecond))
	if a.Lines == 2 && a.Updated.IsZero() {
		t.Error("update not recorded")
	}
	if a.Lines > 2 {
		t.Errorf("%d lines for one alert, want the alert and at most one update", a.Lines)
	}
}

// tmuxPane is a private tmux server running one program in a w×h pane.
type tmuxPane struct {
	t    *testing.T
	sock string
}

func (p *tmuxPane) run(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-S", p.sock, "-f", "/dev/null"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return "", fmt.Errorf("tmux %v: %v: %s", args, err, errb.String())
	}
	return out.String(), nil
}

func (p *tmuxPane) keys(k ...string) {
	if _, err := p.run(append([]string{"send-keys", "-t", "x"}, k...)...); err != nil {
		p.t.Fatal(err)
	}
}

func (p *tmuxPane) screen() string {
	s, _ := p.run("capture-pane", "-p", "-t", "x")
	return s
}

// waitFor polls the pane until cond holds.
func (p *tmuxPane) waitFor(what string, d time.Duration, cond func(string) bool) string {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := p.screen()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: not on screen after %v:\n%s", what, d, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestUploadFactsInFileTab is acceptance 3 of issue 10 in a real
// terminal: the live TUI (kernel audit through netlink) in a private tmux
// server; after a real 50 MB scp upload the alert's File tab shows the
// file's real size, sha256 and type, and that the facts are final.
func TestUploadFactsInFileTab(t *testing.T) {
	testenv.NeedBinary(t, "/usr/bin/tmux")
	f := newFactsUpload(t, factsTUIPort, "xfhfactt", "tui-50m.bin")

	sockDir, err := os.MkdirTemp("", "xhf")
	if err != nil {
		t.Fatal(err)
	}
	before := auditSettings(t)
	p := &tmuxPane{t: t, sock: filepath.Join(sockDir, "s")}
	if _, err := p.run("new-session", "-d", "-s", "x", "-x", "160", "-y", "48",
		"env", "TERM=xterm-256color", "NO_COLOR=1", binPath, "--ephemeral", "--source", "netlink"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// q quits the TUI, which removes its rules and restores audit as
		// it found it; the server goes once the pane's program has ended.
		_, _ = p.run("send-keys", "-t", "x", "q")
		restored := func() bool {
			rules, err := auditRules()
			now := auditSettings(t)
			return err == nil && !hasXferhuntRule(rules) && now["enabled"] == before["enabled"] && now["pid"] == before["pid"]
		}
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) && !restored() {
			time.Sleep(100 * time.Millisecond)
		}
		_, _ = p.run("kill-server")
		if !restored() {
			rules, _ := auditRules()
			t.Errorf("audit not restored after the TUI ended: %v, was %v; rules:\n%s", auditSettings(t), before, rules)
		}
		os.RemoveAll(sockDir)
	})
	p.run("set-option", "-t", "x", "status", "off")
	p.waitFor("netlink source live", 20*time.Second, func(s string) bool { return strings.Contains(s, "● netlink") && strings.Contains(s, " live ") })

	f.scp(t)
	p.keys("/")
	p.keys("-l", "file.name : tui-50m.bin")
	p.keys("Enter")
	p.waitFor("the upload's row", 20*time.Second, func(s string) bool { return strings.Contains(s, "1/") && strings.Contains(s, "tui-50m.bin") })
	p.keys("Enter", "Tab", "Tab", "Tab")
	scr := p.waitFor("final facts in the File tab", 30*time.Second, func(s string) bool {
		return strings.Contains(s, "facts            final")
	})
	for _, want := range []string{
		"size             " + fmt.Sprint(fiftyMB),
		"sha256           " + f.sum,
		"type             data",
		"still present    yes",
	} {
		if !strings.Contains(scr, want) {
			t.Errorf("File tab lacks %q:\n%s", want, scr)
		}
	}
}
