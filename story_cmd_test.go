package main

import (
	"bufio"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// storyLog is the capture of an upload that was renamed, made executable
// and run (testdata/story/README.md).
const (
	storyLog = "testdata/story/raw.log"
	storyDir = "/tmp/xferhunt-e2e-story-1300739224"
)

func storyEvents(t *testing.T, out []byte) []alert {
	t.Helper()
	return alerts(t, out) // one JSON object per line, same reader
}

func TestStoryCommand(t *testing.T) {
	r := xferhunt(t, nil, "story", "--session", "221", storyLog)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	text := string(r.stdout)
	for _, want := range []string{"# story of session 221", "login", storyDir + "/tool.part → " + storyDir + "/tool.sh", "0755 " + storyDir + "/tool.sh", "logout"} {
		if !strings.Contains(text, want) {
			t.Errorf("session story lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "dropped-by-tool") {
		t.Errorf("session 221's story holds the other login's file:\n%s", text)
	}
	// The alert the seed rule raised on the upload is marked.
	if !strings.Contains(text, "\n! ") {
		t.Errorf("no event marked as alerted:\n%s", text)
	}

	r = xferhunt(t, nil, "story", "--ip", "127.0.0.21", "--format", "ndjson", storyLog)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sessions := map[string]bool{}
	for _, e := range storyEvents(t, r.stdout) {
		if e.str("event.action") == "log_on" {
			sessions[e.str("xferhunt.session.id")] = true
		}
		if e.str("user.name") == "xfe2s-b" {
			t.Errorf("address story holds the other user: %v", e)
		}
	}
	if !sessions["221"] || !sessions["223"] || len(sessions) != 2 {
		t.Errorf("address story logins = %v, want 221 and 223", sessions)
	}

	r = xferhunt(t, nil, "story", "--file", storyDir+"/tool.sh", storyLog)
	if r.code != 0 || !strings.Contains(string(r.stdout), "tool.part") || !strings.Contains(string(r.stdout), "exec") {
		t.Errorf("file story through the rename: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"story", storyLog}, "needs one selector"},
		{[]string{"story", "--session", "9999", storyLog}, "no events of session 9999"},
		{[]string{"story", "--ip", "10.9.9.9", storyLog}, "no events of address 10.9.9.9"},
		{[]string{"story", "--ip", "not-an-ip", storyLog}, "not an IP address"},
		{[]string{"story", "--user", "x", "--ip", "10.0.0.1", storyLog}, "one selector at a time"},
		{[]string{"story", "--file", "relative", storyLog}, "absolute path"},
		{[]string{"story", "--session", "221", "--format", "xml", storyLog}, "want text or ndjson"},
	} {
		r := xferhunt(t, nil, c.args...)
		if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", c.args, r.code, r.stderr, c.want)
		}
	}
}

// upload-exec is opt-in: with it, two more alerts; without it, the seed
// rule's output is exactly what it was.
func TestScanUploadExec(t *testing.T) {
	seed := xferhunt(t, nil, "scan", "--ephemeral", storyLog)
	both := xferhunt(t, nil, "scan", "--ephemeral", "--rule", "seed", "--rule", "upload-exec", storyLog)
	if seed.code != 0 || both.code != 0 {
		t.Fatalf("exit %d / %d: %s %s", seed.code, both.code, seed.stderr, both.stderr)
	}
	sa, ba := alerts(t, seed.stdout), alerts(t, both.stdout)
	if len(sa) != 1 || sa[0].str("file.path") != storyDir+"/tool.part" {
		t.Fatalf("seed alerts: %d", len(sa))
	}
	var chain []alert
	for _, a := range ba {
		if a.str("kibana.alert.rule.name") == "Remote upload executed" {
			chain = append(chain, a)
		} else if a.str("kibana.alert.uuid") != sa[0].str("kibana.alert.uuid") {
			t.Errorf("with upload-exec the seed alert changed: %s", a.str("kibana.alert.uuid"))
		}
	}
	if len(chain) != 2 || len(ba) != 3 {
		t.Fatalf("%d alerts with upload-exec (%d chain), want 3 (2)", len(ba), len(chain))
	}
	for _, c := range chain {
		if !strings.Contains(c.str("kibana.alert.ancestors"), sa[0].str("kibana.alert.uuid")) {
			t.Errorf("chain alert ancestors %s lack the seed alert", c.str("kibana.alert.ancestors"))
		}
	}
	if !strings.Contains(both.stderr, "Remote upload executed: 2 alerts") {
		t.Errorf("summary lacks the companion's count: %s", both.stderr)
	}
	r := xferhunt(t, nil, "rules", "--rule", "upload-exec")
	if r.code != 0 || !strings.Contains(string(r.stdout), "Remote upload executed") || !strings.Contains(string(r.stdout), "built-in companion") {
		t.Errorf("rules --rule upload-exec: exit %d\n%s", r.code, r.stdout)
	}
}

// A live run keeps its alerts and story events in --state; a restart on
// the same state restores them without storing the backfilled events a
// second time, and `story` without PATH reads them once the run stopped.
func TestLiveJournalAcrossRestart(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	run := func(want int) int {
		t.Helper()
		cmd := exec.Command(bin, "--headless", "--source", "auditlog:"+storyLog, "--state", state,
			"--history-window", "36500d", "--rule", "seed", "--rule", "upload-exec")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { _, _ = io.Copy(io.Discard, stderr) }()
		// The first run raises the seed alert and both upload-exec ones
		// (backfill); the restart raises none: its term history knows the
		// tuple, and the chains' events were the last run's.
		lines := make(chan struct{}, 16)
		go func() {
			sc := bufio.NewScanner(stdout)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				lines <- struct{}{}
			}
			close(lines)
		}()
		quiet := time.NewTimer(3 * time.Second)
		deadline := time.After(30 * time.Second)
		got := 0
		for done := false; !done; {
			select {
			case _, ok := <-lines:
				if !ok {
					t.Fatal("live run ended early")
				}
				got++
				quiet.Reset(time.Second)
			case <-quiet.C:
				done = got >= want
				quiet.Reset(time.Second)
			case <-deadline:
				t.Fatalf("fewer than %d alerts within 30 s", want)
			}
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("live run: %v", err)
		}
		return got
	}
	count := func() int {
		t.Helper()
		r := xferhunt(t, nil, "story", "--state", state, "--ip", "127.0.0.21", "--format", "ndjson")
		if r.code != 0 {
			t.Fatalf("story from state: exit %d: %s", r.code, r.stderr)
		}
		var n int
		for _, e := range storyEvents(t, r.stdout) {
			n++
			if e.str("event.action") == "exec" && e.str("file.path") == storyDir+"/tool.sh" && e.str("xferhunt.alert") == "" {
				t.Errorf("the exec of tool.sh is not marked with its upload-exec alert")
			}
		}
		return n
	}
	if n := run(3); n != 3 {
		t.Errorf("first run: %d alerts, want 3", n)
	}
	first := count()
	if first == 0 {
		t.Fatal("no events kept")
	}
	if n := run(0); n != 0 {
		t.Errorf("the restart printed %d alerts again, want none", n)
	}
	if again := count(); again != first {
		t.Errorf("after a restart the address story has %d events, first run %d: backfill stored twice", again, first)
	}
}
