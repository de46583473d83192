package detect

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/internal/methods"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditd"
	"github.com/xferhunt/xferhunt/story"
)

// coverageEvents reads testdata/coverage (see its README) with context
// events, and the upload directory of that run.
func coverageEvents(t *testing.T) ([]sources.Event, string) {
	t.Helper()
	run, err := methods.LoadRun("../testdata/coverage/windows.json")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../testdata/coverage/raw.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []sources.Event
	_, err = auditd.Scan(f, auditd.Options{HostID: "h", HostName: "vm", Workers: 1, Story: true,
		Emit: func(ev sources.Event) { evs = append(evs, ev) }})
	if err != nil {
		t.Fatal(err)
	}
	return evs, run.Dir
}

func newShellPipe(t *testing.T) *ShellPipe {
	t.Helper()
	r, err := rules.Load(rules.ShellPipe)
	if err != nil {
		t.Fatal(err)
	}
	s := NewShellPipe(r)
	s.now = func() time.Time { return base }
	return s
}

// runCompanion feeds events to a companion as the pipeline does; edit may
// change an event's document or story form first (nil: as recorded).
func runCompanion(c Companion, evs []sources.Event, edit func(*sources.Event, *story.Event)) []Alert {
	var out []Alert
	for _, ev := range evs {
		se, ok := story.FromDoc(ev.Doc, ev.Key)
		if !ok {
			continue
		}
		if edit != nil {
			edit(&ev, &se)
		}
		out = append(out, c.Process(ev.Doc, &se, Flags{Key: ev.Key})...)
	}
	return out
}

// Over the real capture of every transfer method, the shell-pipe rule
// raises exactly two alerts — `ssh host 'cat > x'` (bash's redirection)
// and `ssh host 'cd DIR && tar x'` (tar's first file, not its directory)
// — and none for sftp-server, scp -t, rsync --server, internal-sftp or
// the motd scripts PAM runs at each login.
func TestShellPipeCapture(t *testing.T) {
	evs, dir := coverageEvents(t)
	alerts := runCompanion(newShellPipe(t), evs, nil)
	want := []struct{ process, path, command, addr string }{
		{"bash", dir + "/cat.bin", "cat > " + dir + "/cat.bin", "127.0.0.54"},
		{"tar", dir + "/ttree/f2.txt", "cd " + dir + " && tar x", "127.0.0.55"},
	}
	if len(alerts) != len(want) {
		for _, a := range alerts {
			t.Log(a.Doc.Str("kibana.alert.reason"))
		}
		t.Fatalf("%d alerts, want %d", len(alerts), len(want))
	}
	for i, w := range want {
		d := alerts[i].Doc
		if d.Str("process.name") != w.process || d.Str("file.path") != w.path || d.Str("source.ip") != w.addr || d.Str("user.name") != methods.UserA {
			t.Errorf("alert %d: %s by %s from %s as %s, want %s by %s from %s", i, d.Str("file.path"), d.Str("process.name"), d.Str("source.ip"), d.Str("user.name"), w.path, w.process, w.addr)
		}
		if d.Str("xferhunt.receiver.command") != w.command || d.Get("xferhunt.receiver.login_shell") != false || d.Str("xferhunt.receiver.process") != "bash" {
			t.Errorf("alert %d receiver = %v", i, d.Get("xferhunt.receiver"))
		}
		if d.Str("kibana.alert.rule.name") != "Remote File Written by an ssh Command" || d.Str("kibana.alert.rule.type") != "eql" ||
			d.Str("event.kind") != "signal" || len(d.Get("threat").([]any)) != 3 {
			t.Errorf("alert %d is not the rule's complete alert: %v", i, d.Str("kibana.alert.rule.name"))
		}
		anc := d.Get("kibana.alert.ancestors").([]any)
		if len(anc) != 2 || anc[0].(map[string]any)["id"] == anc[1].(map[string]any)["id"] {
			t.Errorf("alert %d ancestors = %v", i, anc)
		}
		if !strings.Contains(d.Str("kibana.alert.reason"), "without a terminal as "+methods.UserA+" from "+w.addr) {
			t.Errorf("alert %d reason %q", i, d.Str("kibana.alert.reason"))
		}
	}
	again := runCompanion(newShellPipe(t), evs, nil)
	if len(again) != 2 || again[0].ID() != alerts[0].ID() || again[1].ID() != alerts[1].ID() {
		t.Error("alert uuids differ between two runs over the same input")
	}
}

// The same commands under a terminal (`ssh -t`) are someone typing: no
// alert.
func TestShellPipeNeedsNoTerminal(t *testing.T) {
	evs, _ := coverageEvents(t)
	got := runCompanion(newShellPipe(t), evs, func(ev *sources.Event, _ *story.Event) {
		if _, ok := ev.Doc.Get("process.interactive").(bool); ok {
			ev.Doc.Set("process.interactive", true)
		}
	})
	if len(got) != 0 {
		t.Fatalf("%d alerts for commands with a terminal", len(got))
	}
}

// A command that runs a transfer program of its own protocol is left to
// the rules that know it: the same capture with tar renamed rsync keeps
// only the alert of `cat > x` (whose file bash's redirection wrote).
func TestShellPipeLeavesTransferPrograms(t *testing.T) {
	evs, dir := coverageEvents(t)
	got := runCompanion(newShellPipe(t), evs, func(_ *sources.Event, se *story.Event) {
		if se.Process == "tar" {
			se.Process = "rsync"
		}
	})
	if len(got) != 1 || got[0].Doc.Str("file.path") != dir+"/cat.bin" {
		t.Fatalf("%d alerts, want only cat.bin's", len(got))
	}
}
