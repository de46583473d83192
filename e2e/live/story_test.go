package live

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/capture"
	"github.com/xferhunt/xferhunt/internal/testenv"
)

// storyCaptureDir receives the scrubbed audit log of TestStoryUploadExec
// when XFERHUNT_UPDATE_STORY=1: the capture the unit tests of the story
// and of upload-exec read (testdata/story, see its README).
const storyCaptureDir = "testdata/story"

// TestStoryUploadExec is issue 8's acceptance 1, against real sshd: one
// login from A uploads tool.part over sftp, renames it to tool.sh and
// chmods it 755; another user from B uploads a file; a second login from
// A runs tool.sh, which writes a file. Live (headless netlink, its events
// kept in --state) and over the auditd log of the same run: the session's
// story holds the sftp login only; the address's story holds both logins,
// the rename, the chmod, the exec and the dropped file, and nothing of B;
// --rule upload-exec raises "Remote upload executed" with ancestors
// pointing at the upload and its seed alert.
func TestStoryUploadExec(t *testing.T) {
	lockAuditAlone(t)
	testenv.NeedBinary(t, "/usr/bin/ssh")
	const port = 22262
	const fromA, fromB = "127.0.0.21", "127.0.0.22"
	victim := testenv.CreateUser(t, "xfe2s-a")
	other := testenv.CreateUser(t, "xfe2s-b")
	sshd := testenv.StartSSHD(t, port)
	dir := dropDir(t, "/tmp", "xferhunt-e2e-story-")
	part, tool := filepath.Join(dir, "tool.part"), filepath.Join(dir, "tool.sh")
	dropped, otherFile := filepath.Join(dir, "dropped-by-tool.txt"), filepath.Join(dir, "other.bin")
	script := writePayload(t, "#!/bin/sh\necho landed > "+dropped+"\n")

	// auditd logs what the kernel reports while xferhunt reads the same
	// records over multicast: one run, two inputs.
	auditDir := t.TempDir()
	ad := testenv.StartAuditd(t, auditDir, "RAW", "")
	x, state := startNetlinkHeadless(t, "--rule", "seed", "--rule", "upload-exec")

	batch := filepath.Join(t.TempDir(), "batch")
	text := fmt.Sprintf("put %s %s\nrename %s %s\nchmod 755 %s\n", script, part, part, tool, tool)
	if err := os.WriteFile(batch, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := sftpBatch(victim, port, fromA, batch); err != nil {
		t.Fatal(err)
	}
	sshd.SCP(t, other, writePayload(t, "other\n"), otherFile, false, fromB)
	args := append(sshOpts(victim, port, fromA), victim.Name+"@127.0.0.1", tool)
	for i := range args {
		if args[i] == "-P" {
			args[i] = "-p" // scp and sftp's port flag is ssh's -p
		}
	}
	if out, err := exec.Command("/usr/bin/ssh", args...).CombinedOutput(); err != nil {
		t.Fatalf("ssh %s: %v: %s", tool, err, out)
	}
	if _, err := os.Stat(dropped); err != nil {
		t.Fatalf("the tool did not run: %v", err)
	}

	upload, ok := x.waitAlert(part, 10*time.Second)
	if !ok {
		t.Fatalf("no seed alert for %s:%s", part, describe(x.Alerts()))
	}
	if !x.waitCount(func(a alert) bool { return a.Doc.Str("kibana.alert.rule.name") == "Remote upload executed" }, 2, 10*time.Second) {
		t.Errorf("want 2 upload-exec alerts (made executable, executed):%s", describe(x.Alerts()))
	}
	x.stop(10 * time.Second)
	testenv.WaitFor(t, func() bool {
		b, err := os.ReadFile(ad.LogPath)
		return err == nil && bytes.Contains(b, []byte(strings.ToUpper(fmt.Sprintf("%x", dropped)))) || bytes.Contains(b, []byte(`"`+dropped+`"`))
	}, 10*time.Second, "the dropped file's creation in auditd's log")
	ad.Stop(t)

	ses := fmt.Sprint(upload.Doc.Get("xferhunt.session.id"))
	var chain []alert
	for _, a := range x.Alerts() {
		if a.Doc.Str("kibana.alert.rule.name") == "Remote upload executed" {
			chain = append(chain, a)
		}
	}
	checkChainAlerts(t, "live", chain, upload.Doc)

	// Live: the events the run kept in its state.
	checkStories(t, "live", ses, fromA, fromB, victim.Name, other.Name, part, tool, dropped,
		func(sel ...string) ([]ecs.Doc, error) {
			return runStory(append([]string{"--state", state}, sel...)...)
		})
	// The same run's auditd log.
	checkStories(t, "auditd log", ses, fromA, fromB, victim.Name, other.Name, part, tool, dropped,
		func(sel ...string) ([]ecs.Doc, error) { return runStory(append(sel, ad.LogPath)...) })
	out, err := exec.Command(binPath, "scan", "--ephemeral", "--rule", "seed", "--rule", "upload-exec", ad.LogPath).Output()
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	var fromLog []alert
	var uploadFromLog ecs.Doc
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("scan output: %v", err)
		}
		d := ecs.Doc(m)
		switch {
		case d.Str("kibana.alert.rule.name") == "Remote upload executed":
			fromLog = append(fromLog, alert{Doc: d})
		case d.Str("file.path") == part:
			uploadFromLog = d
		}
	}
	if uploadFromLog == nil {
		t.Fatalf("scan of the auditd log: no seed alert for %s", part)
	}
	checkChainAlerts(t, "auditd log", fromLog, uploadFromLog)

	if os.Getenv("XFERHUNT_UPDATE_STORY") == "1" {
		writeStoryCapture(t, ad.LogPath, sshd.PID, victim, other)
	}
}

// checkChainAlerts: one alert made executable, one executed, each naming
// the upload's event and its seed alert among its ancestors.
func checkChainAlerts(t *testing.T, where string, as []alert, upload ecs.Doc) {
	t.Helper()
	uploadKey := ""
	if anc, ok := upload.Get("kibana.alert.ancestors").([]any); ok && len(anc) > 0 {
		uploadKey, _ = anc[0].(map[string]any)["id"].(string)
	}
	triggers := map[string]bool{}
	for _, a := range as {
		d := a.Doc
		triggers[d.Str("xferhunt.chain.trigger")] = true
		if d.Str("kibana.alert.severity") != "high" {
			t.Errorf("%s: upload-exec severity %q", where, d.Str("kibana.alert.severity"))
		}
		var ids []string
		if anc, ok := d.Get("kibana.alert.ancestors").([]any); ok {
			for _, x := range anc {
				if m, ok := x.(map[string]any); ok {
					ids = append(ids, fmt.Sprint(m["id"]))
				}
			}
		}
		if !slices.Contains(ids, uploadKey) || !slices.Contains(ids, upload.Str("kibana.alert.uuid")) {
			t.Errorf("%s: ancestors %v lack the upload event %s or its alert %s", where, ids, uploadKey, upload.Str("kibana.alert.uuid"))
		}
		if d.Str("xferhunt.chain.upload.path") != upload.Str("file.path") {
			t.Errorf("%s: chain upload path %q, want %q", where, d.Str("xferhunt.chain.upload.path"), upload.Str("file.path"))
		}
	}
	if !triggers["made_executable"] || !triggers["executed"] || len(as) != 2 {
		t.Errorf("%s: %d upload-exec alerts with triggers %v, want made_executable and executed", where, len(as), triggers)
	}
}

// runStory runs `xferhunt story --format ndjson` and parses its events.
func runStory(args ...string) ([]ecs.Doc, error) {
	cmd := exec.Command(binPath, append([]string{"story", "--format", "ndjson"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("story %v: %w: %s", args, err, stderr.String())
	}
	var docs []ecs.Doc
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			return nil, fmt.Errorf("story output %q: %w", l, err)
		}
		docs = append(docs, ecs.Doc(m))
	}
	return docs, nil
}

func checkStories(t *testing.T, where, ses, fromA, fromB, userA, userB, part, tool, dropped string, story func(sel ...string) ([]ecs.Doc, error)) {
	t.Helper()
	has := func(evs []ecs.Doc, action, path string) bool {
		for _, e := range evs {
			if e.Str("event.action") == action && (path == "" || e.Str("file.path") == path) {
				return true
			}
		}
		return false
	}
	bySes, err := story("--session", ses)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	for _, e := range bySes {
		if got := fmt.Sprint(e.Get("xferhunt.session.id")); got != ses {
			t.Errorf("%s: session %s story holds an event of session %s: %v", where, ses, got, e)
		}
		if e.Str("file.path") == tool && e.Str("event.action") == "exec" {
			t.Errorf("%s: the sftp session's story holds the second login's exec", where)
		}
	}
	for _, w := range [][2]string{{"creation", part}, {"rename", tool}, {"attributes_modified", tool}, {"log_on", ""}} {
		if !has(bySes, w[0], w[1]) {
			t.Errorf("%s: session %s story lacks %s %s", where, ses, w[0], w[1])
		}
	}
	byIP, err := story("--ip", fromA)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	logins := map[string]bool{}
	for _, e := range byIP {
		if e.Str("event.action") == "log_on" {
			logins[fmt.Sprint(e.Get("xferhunt.session.id"))] = true
		}
		if e.Str("user.name") == userB || e.Str("source.ip") == fromB || e.Str("xferhunt.session.addr") == fromB {
			t.Errorf("%s: address %s story holds an event of the other login: %v", where, fromA, e)
		}
	}
	if len(logins) < 2 {
		t.Errorf("%s: address story holds %d logins, want both of %s", where, len(logins), fromA)
	}
	execOfTool := false
	for _, e := range byIP {
		if e.Str("event.action") != "exec" {
			continue
		}
		if e.Str("file.path") == tool {
			execOfTool = true
		}
		for _, a := range e.Values("process.args") {
			if a == tool {
				execOfTool = true
			}
		}
	}
	if !execOfTool {
		t.Errorf("%s: address story lacks the exec of %s", where, tool)
	}
	for _, w := range [][2]string{{"creation", part}, {"rename", tool}, {"attributes_modified", tool}, {"creation", dropped}} {
		if !has(byIP, w[0], w[1]) {
			t.Errorf("%s: address %s story lacks %s %s", where, fromA, w[0], w[1])
		}
	}
	_ = userA
}

// writeStoryCapture keeps the run's audit log, reduced to the servers'
// and test users' events, as the unit tests' capture.
func writeStoryCapture(t *testing.T, logPath string, sshdPID int, users ...*testenv.User) {
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(raw), "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	var uids []int
	for _, u := range users {
		uids = append(uids, u.UID)
	}
	kept := capture.Scrub(lines, capture.Tree{Roots: []int{sshdPID}, UIDs: uids})
	// xferhunt's own rule installs (CONFIG_CHANGE) say nothing of the story.
	kept = slices.DeleteFunc(kept, func(l string) bool { return strings.HasPrefix(l, "type=CONFIG_CHANGE ") })
	dst := filepath.Join(repoRoot, storyCaptureDir)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "raw.log"), []byte(strings.Join(kept, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s/raw.log: %d of %d lines", dst, len(kept), len(lines))
}
