package story_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditd"
	"github.com/xferhunt/xferhunt/story"
)

// The capture of testdata/story (see its README): an sftp login from
// 127.0.0.21 uploads tool.part, renames it tool.sh and chmods it; another
// user uploads from 127.0.0.22; a second login from 127.0.0.21 runs tool.sh.
const (
	captureLog = "../testdata/story/raw.log"
	dir        = "/tmp/xferhunt-e2e-story-1300739224"
	fromA      = "127.0.0.21"
	userB      = "xfe2s-b"
)

// load reads the capture as a live run does (context events on) into a
// store of the given budget.
func load(t testing.TB, budget int64) *story.Store {
	t.Helper()
	f, err := os.Open(captureLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st := story.NewStore(budget)
	_, err = auditd.Scan(f, auditd.Options{HostID: "h", HostName: "vm", Workers: 1, Story: true, Emit: func(ev sources.Event) {
		if e, ok := story.FromDoc(ev.Doc, ev.Key); ok {
			st.Add(e)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func has(evs []story.Event, k story.Kind, path string) bool {
	for _, e := range evs {
		if e.Kind == k && (path == "" || e.Path == path) {
			return true
		}
	}
	return false
}

func sessions(evs []story.Event) map[int64]int {
	m := map[int64]int{}
	for _, e := range evs {
		if e.Kind == story.LogOn {
			m[e.Session]++
		}
	}
	return m
}

func TestSessionStory(t *testing.T) {
	st := load(t, 0)
	evs := st.Story(story.Scope{Kind: story.BySession, Session: 221})
	if len(evs) == 0 {
		t.Fatal("no story for session 221")
	}
	for _, e := range evs {
		if e.Session != 221 {
			t.Errorf("session 221's story holds %v of session %d", e.Kind, e.Session)
		}
	}
	for _, w := range []struct {
		k    story.Kind
		path string
	}{{story.LogOn, ""}, {story.Create, dir + "/tool.part"}, {story.Rename, dir + "/tool.sh"}, {story.Chmod, dir + "/tool.sh"}, {story.LogOff, ""}} {
		if !has(evs, w.k, w.path) {
			t.Errorf("session 221's story lacks %v %s", w.k, w.path)
		}
	}
	if has(evs, story.Exec, dir+"/tool.sh") {
		t.Error("session 221's story holds the second login's exec of tool.sh")
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Time < evs[i-1].Time {
			t.Fatalf("story not in time order at %d", i)
		}
	}
	if last := evs[len(evs)-1]; last.Kind != story.LogOff {
		t.Errorf("the story ends with %v, want the logout", last.Kind)
	}
	var chmod story.Event
	for _, e := range evs {
		if e.Kind == story.Chmod {
			chmod = e
		}
	}
	if chmod.Mode != "0755" || chmod.Process != "sftp-server" || chmod.Addr != fromA {
		t.Errorf("chmod = mode %q by %q from %q, want 0755 by sftp-server from %s", chmod.Mode, chmod.Process, chmod.Addr, fromA)
	}
}

func TestAddressStory(t *testing.T) {
	st := load(t, 0)
	evs := st.Story(story.Scope{Kind: story.ByAddr, Addr: fromA})
	if got := sessions(evs); len(got) != 2 || got[221] != 1 || got[223] != 1 {
		t.Errorf("logins of %s = %v, want sessions 221 and 223", fromA, got)
	}
	for _, w := range []struct {
		k    story.Kind
		path string
	}{{story.Create, dir + "/tool.part"}, {story.Rename, dir + "/tool.sh"}, {story.Chmod, dir + "/tool.sh"},
		{story.Exec, dir + "/tool.sh"}, {story.Create, dir + "/dropped-by-tool.txt"}} {
		if !has(evs, w.k, w.path) {
			t.Errorf("address story lacks %v %s", w.k, w.path)
		}
	}
	for _, e := range evs {
		if e.User == userB || e.Login == userB || e.Addr == "127.0.0.22" || e.Path == dir+"/other.bin" {
			t.Errorf("address story holds the other login's %v %s", e.Kind, e.Path)
		}
	}
	// The exec names the script the kernel ran, while exe is the interpreter.
	for _, e := range evs {
		if e.Kind == story.Exec && e.Path == dir+"/tool.sh" && e.Exe != "/usr/bin/dash" {
			t.Errorf("exec of tool.sh: exe %q, want the interpreter /usr/bin/dash", e.Exe)
		}
	}
}

// A file's story follows it through its rename to the exec and what the
// exec's story wrote is not part of it.
func TestFileStoryFollowsRenames(t *testing.T) {
	st := load(t, 0)
	evs := st.Story(story.Scope{Kind: story.ByFile, File: dir + "/tool.part"})
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind.String())
	}
	want := "create rename chmod exec exec"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("file story = %s, want %s (bash -c names the script too)", got, want)
	}
}

func TestUserAndProcessStories(t *testing.T) {
	st := load(t, 0)
	evs := st.Story(story.Scope{Kind: story.ByUser, User: userB})
	if !has(evs, story.Create, dir+"/other.bin") || has(evs, story.Create, dir+"/tool.part") {
		t.Errorf("user %s's story: other.bin %v, tool.part %v", userB, has(evs, story.Create, dir+"/other.bin"), has(evs, story.Create, dir+"/tool.part"))
	}
	// The process tree of the second login's bash: the script and its file.
	var bash story.Event
	for _, e := range st.Story(story.Scope{Kind: story.BySession, Session: 223}) {
		if e.Kind == story.Exec && e.Process == "bash" {
			bash = e
		}
	}
	if bash.PID == 0 {
		t.Fatal("no bash exec in session 223")
	}
	tree := st.Story(story.Scope{Kind: story.ByProcess, PID: bash.PID})
	if !has(tree, story.Create, dir+"/dropped-by-tool.txt") {
		t.Errorf("process tree of bash[%d] lacks the dropped file", bash.PID)
	}
	for _, e := range tree {
		if e.Session != 223 {
			t.Errorf("process tree holds an event of session %d", e.Session)
		}
	}
}

// A budget smaller than the capture keeps the newest events, counts the
// rest, and stays within its bytes.
func TestBudgetEvicts(t *testing.T) {
	all := load(t, 0).Stats()
	small := int64(all.Bytes / 3)
	st := load(t, small)
	s := st.Stats()
	if s.Evicted == 0 || s.Events+int(s.Evicted) != all.Events {
		t.Fatalf("budget %d: held %d, evicted %d, of %d", small, s.Events, s.Evicted, all.Events)
	}
	if s.Bytes > small {
		t.Fatalf("held %d bytes over the budget %d", s.Bytes, small)
	}
	// The oldest went first: the first login's session is gone, the last kept.
	if len(st.Story(story.Scope{Kind: story.BySession, Session: 221})) != 0 {
		t.Error("session 221 (oldest) survived eviction")
	}
	if !has(st.Story(story.Scope{Kind: story.BySession, Session: 223}), story.LogOff, "") {
		t.Error("session 223 (newest) was evicted")
	}
}

// The NDJSON form is ECS; the text form escapes host strings.
func TestWriteFormats(t *testing.T) {
	st := load(t, 0)
	evs := st.Story(story.Scope{Kind: story.ByAddr, Addr: fromA})
	var nd bytes.Buffer
	if err := story.WriteNDJSON(&nd, evs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(nd.String()), "\n")
	if len(lines) != len(evs) {
		t.Fatalf("%d lines for %d events", len(lines), len(evs))
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["@timestamp"]; !ok {
		t.Errorf("no @timestamp in %s", lines[0])
	}
	hostile := []story.Event{{Time: 1, Kind: story.Create, Action: "creation", Path: "/tmp/evil\x1b]0;pwned\a\nx", Session: story.NoSession}}
	var txt bytes.Buffer
	if err := story.WriteText(&txt, story.Scope{Kind: story.ByFile, File: "/tmp/\x1b[31m"}, hostile); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(txt.String(), "\x1b\a") || strings.Count(txt.String(), "\n") != 3 {
		t.Errorf("text output not escaped:\n%q", txt.String())
	}
}

// Encode and Decode round-trip an event (the state journal's records).
func TestEncodeRoundTrip(t *testing.T) {
	for _, e := range load(t, 0).All() {
		b, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		d, err := story.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		d.Seq = e.Seq
		if d.Kind != e.Kind || d.Path != e.Path || d.Session != e.Session || strings.Join(d.Args, " ") != strings.Join(e.Args, " ") {
			t.Fatalf("round trip: %+v != %+v", d, e)
		}
	}
	if _, err := story.Decode([]byte(`{"t":"x"}`)); err == nil {
		t.Error("a malformed record decoded")
	}
}

// An exec with a huge argument list (the kernel allows megabytes) keeps
// its first arguments and says what it cut: the store, the journal and
// the file index stay small and fast.
func TestHugeArgvIsCut(t *testing.T) {
	args := make([]any, 100000)
	for i := range args {
		args[i] = "/tmp/x/" + strings.Repeat("a", 20)
	}
	doc := map[string]any{"@timestamp": "2026-12-05T21:28:33.358Z", "event": map[string]any{"action": "exec"},
		"process": map[string]any{"args": args, "working_directory": "/tmp"}}
	e, ok := story.FromDoc(doc, "k")
	if !ok {
		t.Fatal("no event")
	}
	if len(e.Args) != 65 || !strings.Contains(e.Args[64], "99936 more arguments") {
		t.Fatalf("%d args kept, last %q", len(e.Args), e.Args[len(e.Args)-1])
	}
	b, err := e.Encode()
	if err != nil || len(b) > 16<<10 {
		t.Fatalf("encoded %d bytes, %v", len(b), err)
	}
	st := story.NewStore(0)
	for range 1000 {
		st.Add(e)
	}
	if n := len(st.Story(story.Scope{Kind: story.ByFile, File: "/tmp/x/" + strings.Repeat("a", 20)})); n != 1000 {
		t.Fatalf("file story: %d", n)
	}
}
