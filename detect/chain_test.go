package detect

import (
	"fmt"
	"os"
	"path"
	"slices"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditd"
	"github.com/xferhunt/xferhunt/story"
)

const storyDir = "/tmp/xferhunt-e2e-story-1300739224"

// storyEvents reads testdata/story (see its README) with context events.
func storyEvents(t *testing.T) []sources.Event {
	t.Helper()
	f, err := os.Open("../testdata/story/raw.log")
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
	return evs
}

func newUploadExec(t *testing.T) *Chain {
	t.Helper()
	r, err := rules.Load(rules.UploadExec)
	if err != nil {
		t.Fatal(err)
	}
	c := NewChain(r)
	c.now = func() time.Time { return base }
	return c
}

// runChain feeds events to the chain as the pipeline does; edit may change
// an event's story form first (nil: as recorded).
func runChain(t *testing.T, c *Chain, evs []sources.Event, edit func(*story.Event)) []Alert {
	t.Helper()
	var out []Alert
	for _, ev := range evs {
		se, ok := story.FromDoc(ev.Doc, ev.Key)
		if !ok {
			continue
		}
		if edit != nil {
			edit(&se)
		}
		out = append(out, c.Process(ev.Doc, &se, Flags{Key: ev.Key})...)
	}
	return out
}

func TestUploadExecChain(t *testing.T) {
	evs := storyEvents(t)
	c := newUploadExec(t)
	// The seed alert of the upload, as the engine would name it.
	var uploadKey string
	for _, ev := range evs {
		if ev.Doc.Str("file.path") == storyDir+"/tool.part" && ev.Doc.Str("event.action") == "creation" {
			uploadKey = ev.Key
		}
	}
	if uploadKey == "" {
		t.Fatal("no creation of tool.part in the capture")
	}
	var alerts []Alert
	for _, ev := range evs {
		se, ok := story.FromDoc(ev.Doc, ev.Key)
		if !ok {
			continue
		}
		alerts = append(alerts, c.Process(ev.Doc, &se, Flags{Key: ev.Key})...)
		if ev.Key == uploadKey {
			c.NoteAlert(se.Host, se.Path, se.Key, "seed-alert-uuid")
		}
	}
	if len(alerts) != 2 {
		t.Fatalf("%d alerts, want made_executable and executed", len(alerts))
	}
	want := []string{"made_executable", "executed"}
	for i, a := range alerts {
		d := a.Doc
		if got := d.Str("xferhunt.chain.trigger"); got != want[i] {
			t.Errorf("alert %d trigger %q, want %q", i, got, want[i])
		}
		if d.Str("kibana.alert.rule.name") != "Remote upload executed" || d.Str("kibana.alert.severity") != "high" || d.Str("kibana.alert.rule.type") != "eql" {
			t.Errorf("alert %d: rule %q severity %q type %q", i, d.Str("kibana.alert.rule.name"), d.Str("kibana.alert.severity"), d.Str("kibana.alert.rule.type"))
		}
		var ids []string
		for _, x := range d.Get("kibana.alert.ancestors").([]any) {
			ids = append(ids, x.(map[string]any)["id"].(string))
		}
		if !slices.Contains(ids, uploadKey) || !slices.Contains(ids, "seed-alert-uuid") {
			t.Errorf("alert %d ancestors %v lack the upload %s and its alert", i, ids, uploadKey)
		}
		if d.Str("xferhunt.chain.upload.path") != storyDir+"/tool.part" || d.Str("xferhunt.chain.upload.source_ip") != "127.0.0.21" {
			t.Errorf("alert %d upload = %v", i, d.Get("xferhunt.chain.upload"))
		}
		if d.Str("event.kind") != "signal" || d.Str("kibana.alert.uuid") == "" || d.Str("kibana.alert.reason") == "" {
			t.Errorf("alert %d is not a complete alert document", i)
		}
	}
	steps, _ := alerts[1].Doc.Get("xferhunt.chain.steps").([]any)
	var actions []string
	for _, s := range steps {
		actions = append(actions, s.(map[string]any)["action"].(string))
	}
	if got := slices.Compact(actions); !slices.Equal(got, []string{"creation", "rename", "attributes_modified", "exec"}) {
		t.Errorf("executed chain steps = %v", actions)
	}
	if exec := alerts[1].Doc; exec.Str("process.executable") != "/usr/bin/dash" || exec.Str("file.path") != storyDir+"/tool.sh" {
		t.Errorf("executed alert's event: exe %q file %q", exec.Str("process.executable"), exec.Str("file.path"))
	}
	if alerts[0].ID() == alerts[1].ID() {
		t.Error("the two alerts share a uuid")
	}
	// The same input again gives the same alert ids (re-scans deduplicate).
	again := runChain(t, newUploadExec(t), evs, nil)
	if len(again) != 2 || again[0].ID() != alerts[0].ID() || again[1].ID() != alerts[1].ID() {
		t.Error("alert uuids differ between two runs over the same input")
	}
}

// The same records with the creator renamed to something that is not a
// transfer program: no chain, no alert.
func TestUploadExecNeedsTransferCreator(t *testing.T) {
	got := runChain(t, newUploadExec(t), storyEvents(t), func(e *story.Event) {
		if e.Process == "sftp-server" {
			e.Process = "cp"
		}
	})
	if len(got) != 0 {
		t.Fatalf("%d alerts for a file created by cp", len(got))
	}
}

// An upload deleted before the exec (here: the rename's target replaced
// by a deletion) is no longer followed.
func TestUploadExecForgetsDeleted(t *testing.T) {
	got := runChain(t, newUploadExec(t), storyEvents(t), func(e *story.Event) {
		if e.Kind == story.Chmod {
			e.Kind, e.Action = story.Delete, "deletion"
		}
	})
	if len(got) != 0 {
		t.Fatalf("%d alerts after the upload was deleted", len(got))
	}
}

// `chmod 755 tool.sh` and `ls tool.sh` name the upload but run nothing;
// `sh tool.sh` and `python3.11 tool.sh` run it.
func TestRanFilesOnlyInterpreters(t *testing.T) {
	for _, c := range []struct {
		exe  string
		args []string
		ran  bool
	}{
		{"/usr/bin/chmod", []string{"chmod", "755", "tool.sh"}, false},
		{"/usr/bin/ls", []string{"ls", "-l", "/tmp/d/tool.sh"}, false},
		{"/usr/bin/dash", []string{"sh", "tool.sh"}, true},
		{"/usr/bin/python3.11", []string{"python3", "/tmp/d/tool.sh"}, true},
		{"/usr/bin/bash", []string{"bash", "-c", "/tmp/d/tool.sh"}, false},
		// The dynamic loader, by the name the kernel resolves and by
		// the one a command line gives it.
		{"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", []string{"/lib64/ld-linux-x86-64.so.2", "./tool.sh"}, true},
		{"/lib/ld-musl-x86_64.so.1", []string{"ld-musl-x86_64.so.1", "tool.sh"}, true},
		{"/usr/bin/ldd", []string{"ldd", "tool.sh"}, false},
	} {
		e := story.Event{Kind: story.Exec, Exe: c.exe, Process: path.Base(c.exe), Args: c.args, Cwd: "/tmp/d"}
		if got := slices.Contains(ranFiles(&e, e.Args, newUploadExec(t).runsScripts(&e)), "/tmp/d/tool.sh"); got != c.ran {
			t.Errorf("%v: runs tool.sh %v, want %v", c.args, got, c.ran)
		}
	}
}

// A flood of chains in one interval (an attacker's process named scp
// creating and chmod'ing files in a loop) raises max_signals alerts and
// counts the rest: the real chain is not buried under thousands.
func TestUploadExecMaxSignals(t *testing.T) {
	evs := storyEvents(t)
	var create, chmod sources.Event
	for _, ev := range evs {
		switch {
		case ev.Doc.Str("event.action") == "creation" && ev.Doc.Str("process.name") == "sftp-server" && create.Doc == nil:
			create = ev
		case ev.Doc.Str("event.action") == "attributes_modified":
			chmod = ev
		}
	}
	c := newUploadExec(t)
	alerts := 0
	for i := range 150 {
		up, _ := story.FromDoc(create.Doc, fmt.Sprint("k", i))
		up.Path = fmt.Sprintf("/tmp/flood/%d", i)
		ch, _ := story.FromDoc(chmod.Doc, fmt.Sprint("c", i))
		ch.Path = up.Path
		c.Process(create.Doc, &up, Flags{})
		alerts += len(c.Process(chmod.Doc, &ch, Flags{}))
	}
	if alerts != 100 || c.HeldBack() != 50 {
		t.Fatalf("%d alerts, %d held back; want 100 and 50 (max_signals 100 per 5m)", alerts, c.HeldBack())
	}
}

// A process that names itself scp (prctl, perl's $0) but runs perl is
// not a transfer program: its files are not uploads.
func TestIsTransferNeedsTheExecutable(t *testing.T) {
	for _, c := range []struct {
		name, exe string
		want      bool
	}{
		{"sftp-server", "/usr/lib/openssh/sftp-server", true},
		{"ftp", "/usr/bin/tnftp", true},
		{"scp", "/usr/bin/perl", false},
		{"scp", "", true}, // a source without the executable
		{"perl", "/usr/bin/scp", false},
	} {
		if got := IsTransfer(&story.Event{Process: c.name, Exe: c.exe}); got != c.want {
			t.Errorf("%s (%s): %v, want %v", c.name, c.exe, got, c.want)
		}
	}
}
