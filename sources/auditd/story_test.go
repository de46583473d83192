package auditd

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/sources"
)

// storyRecords returns the records of one event of the story capture
// (testdata/story) whose SYSCALL line holds marker.
func storyRecords(t *testing.T, marker string) []string {
	t.Helper()
	f, err := os.Open("../../testdata/story/raw.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var id string
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if id == "" && strings.HasPrefix(l, "type=SYSCALL ") && strings.Contains(l, marker) {
			id = l[strings.Index(l, "msg=audit("):strings.Index(l, "):")]
		}
		if id != "" && strings.Contains(l, id+"):") {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no event with %q in the story capture", marker)
	}
	return out
}

func parseStory(lines []string, story bool) []sources.Event {
	var evs []sources.Event
	p := NewParser(Options{HostID: "h", Story: story, Emit: func(ev sources.Event) { evs = append(evs, ev) }})
	for _, l := range lines {
		p.Line([]byte(l))
	}
	p.Flush()
	return evs
}

// A connect is a story's context event only when asked for, and a
// non-blocking connect in progress (success=no, exit=-EINPROGRESS: what
// Go, curl and most clients do) is one too; another failure is not.
func TestConnectContextEvents(t *testing.T) {
	recs := storyRecords(t, "syscall=42 success=yes")
	if evs := parseStory(recs, false); len(evs) != 0 {
		t.Fatalf("without Story a connect gave %d events", len(evs))
	}
	evs := parseStory(recs, true)
	if len(evs) != 1 || !evs[0].Context || evs[0].Doc.Str("event.action") != ActionConnect || evs[0].Doc.Str("destination.ip") == "" {
		t.Fatalf("connect: %d events %v", len(evs), evs)
	}
	inProgress := strings.Replace(recs[0], "success=yes exit=0", "success=no exit=-115", 1)
	if evs := parseStory(append([]string{inProgress}, recs[1:]...), true); len(evs) != 1 {
		t.Errorf("a connect in progress gave %d events, want 1", len(evs))
	}
	refused := strings.Replace(recs[0], "success=yes exit=0", "success=no exit=-111", 1)
	if evs := parseStory(append([]string{refused}, recs[1:]...), true); len(evs) != 0 {
		t.Errorf("a refused connect gave %d events, want none", len(evs))
	}
}

// The chmod of the capture (sftp-server's SETSTAT) carries the new mode,
// not the one the PATH record held before the call.
func TestChmodNewMode(t *testing.T) {
	recs := storyRecords(t, "syscall=90 ")
	evs := parseStory(recs, true)
	if len(evs) != 1 || evs[0].Doc.Str("event.action") != ActionChmod || evs[0].Doc.Str("file.mode") != "0755" {
		t.Fatalf("chmod: %v", evs)
	}
	if evs := parseStory(recs, false); len(evs) != 0 {
		t.Errorf("without Story a chmod gave %d events", len(evs))
	}
}

// An exec says whether the process has a terminal, as Elastic Defend's
// process.interactive: `ssh host tool.sh` runs without one (tty=(none));
// the same exec under a pty (tty=pts0) is interactive. File events do not
// carry it, so the seed rule's documents stay as they were.
func TestExecInteractive(t *testing.T) {
	recs := storyRecords(t, `comm="tool.sh"`)
	for _, c := range []struct {
		tty  string
		want any
	}{{"(none)", false}, {"pts0", true}} {
		var lines []string
		for _, l := range recs {
			lines = append(lines, strings.Replace(l, "tty=(none)", "tty="+c.tty, 1))
		}
		var exec *sources.Event
		evs := parseStory(lines, true)
		for i := range evs {
			if evs[i].Doc.Str("event.action") == ActionExec {
				exec = &evs[i]
			}
		}
		if exec == nil {
			t.Fatalf("tty=%s: no exec among %d events", c.tty, len(evs))
		}
		if got := exec.Doc.Get("process.interactive"); got != c.want {
			t.Errorf("tty=%s: process.interactive = %v, want %v", c.tty, got, c.want)
		}
	}
	evs := parseStory(storyRecords(t, "audit(1796506112.778:5238190)"), true)
	if len(evs) != 1 || evs[0].Doc.Str("event.action") != "creation" {
		t.Fatalf("the upload's creation gave %d events", len(evs))
	}
	for _, ev := range evs {
		if ev.Doc.Get("process.interactive") != nil {
			t.Errorf("a %s event carries process.interactive", ev.Doc.Str("event.action"))
		}
	}
}

// fexecve gives the kernel no name: the exec's PATH item 0 is name=""
// with the inode of the file run (testdata/fexecve.log, captured). The
// exec's document keeps that inode, with no file.path, so a chain can
// find the upload it ran by inode; before, a nameless file was dropped.
func TestExecOfNoNameKeepsInode(t *testing.T) {
	b, err := os.ReadFile("testdata/fexecve.log")
	if err != nil {
		t.Fatal(err)
	}
	evs := parseStory(strings.Split(strings.TrimSpace(string(b)), "\n"), true)
	if len(evs) != 1 || evs[0].Doc.Str("event.action") != ActionExec {
		t.Fatalf("fexecve gave %d events %v", len(evs), evs)
	}
	d := evs[0].Doc
	if d.Str("file.inode") != "10027013" || d.Get("file.path") != nil || d.Str("process.executable") != "/tmp/tm/upx" {
		t.Errorf("file.inode %q, file.path %v, process.executable %q; want 10027013, none, /tmp/tm/upx",
			d.Str("file.inode"), d.Get("file.path"), d.Str("process.executable"))
	}
}
