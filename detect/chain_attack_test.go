package detect

// Unit reproductions of the upload-exec evasions e2e/live
// TestAttackUploadExecEvasion makes for real. A broken defense is asserted
// as it should be and skipped with "BUG: …" unless
// XFERHUNT_ATTACK_STRICT=1.

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/story"
)

func attackBug(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("XFERHUNT_ATTACK_STRICT") == "1" {
		t.Fatal("BUG: " + msg)
	}
	t.Skip("BUG: " + msg)
}

// chainSteps runs story events through a chain and returns the triggers
// raised, with the process of each.
func chainSteps(t *testing.T, evs []story.Event) []string {
	t.Helper()
	c := newUploadExec(t)
	var out []string
	for i := range evs {
		e := evs[i]
		e.Time = int64(1_700_000_000_000 + i)
		e.Key = "k" + string(rune('a'+i))
		e.Host = "h"
		e.Session = 7
		for _, a := range c.Process(ecs.Doc{}, &e, Flags{Key: e.Key}) {
			out = append(out, a.Doc.Str("xferhunt.chain.trigger")+" by "+e.Process)
		}
	}
	return out
}

func uploadEv(path, ino string) story.Event {
	return story.Event{Kind: story.Create, Action: "creation", Process: "sftp-server", Exe: "/usr/lib/openssh/sftp-server", Path: path, Inode: ino}
}

func execOf(proc, exe, path, ino, cwd string, args ...string) story.Event {
	return story.Event{Kind: story.Exec, Action: "exec", Process: proc, Exe: exe, Path: path, Inode: ino, Cwd: cwd, Args: args}
}

// An argument is not a run: `chmod +x f` and `ls -l f` name the upload
// without running it, and must neither raise "executed" nor spend the
// upload's one executed alert before the real run.
func TestAttackChainArgumentIsNotARun(t *testing.T) {
	got := chainSteps(t, []story.Event{
		uploadEv("/tmp/d/up", "42"),
		execOf("ls", "/usr/bin/ls", "/usr/bin/ls", "7", "/tmp/d", "ls", "-l", "up"),
		execOf("chmod", "/usr/bin/chmod", "/usr/bin/chmod", "8", "/tmp/d", "chmod", "+x", "/tmp/d/up"),
		{Kind: story.Chmod, Action: "attributes_modified", Process: "chmod", Path: "/tmp/d/up", Mode: "0755"},
		execOf("up", "/usr/bin/dash", "/tmp/d/up", "42", "/tmp/d", "/bin/sh", "./up"),
	})
	want := []string{"made_executable by chmod", "executed by up"}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		attackBug(t, "ranFiles (detect/chain.go) takes any path argument of any exec as the file run: triggers "+join(got)+", want "+join(want))
	}
}

// The kernel's exec record names the inode it ran: a hard link, a symlink,
// /proc/self/fd/N or a renamed directory reach the upload's inode under
// another name.
func TestAttackChainFollowsInode(t *testing.T) {
	for _, c := range []struct{ name, path string }{
		{"hard link", "/tmp/d/hl"},
		{"symlink", "/tmp/d/sl"},
		{"descriptor", "/proc/self/fd/3"},
	} {
		got := chainSteps(t, []story.Event{
			uploadEv("/tmp/d/up", "42"),
			execOf("x", "/usr/bin/dash", c.path, "42", "/tmp/d", "/bin/sh", c.path),
		})
		if len(got) != 1 {
			attackBug(t, "an exec of the upload's inode through a "+c.name+" ("+c.path+") raises "+join(got)+": the chain keys uploads by path only")
		}
	}
}

// fexecve (execveat with AT_EMPTY_PATH, as Python's os.execve(fd) and
// glibc's fexecve make it) hands the kernel no name: the exec's PATH
// record names "" and the upload's inode (captured on this host:
// `item=0 name="" inode=10027013`, exe= the upload's path). Before, no
// name meant no file run and the upload ran unseen.
func TestChainFexecveRunsByInode(t *testing.T) {
	got := chainSteps(t, []story.Event{
		uploadEv("/tmp/d/up", "42"),
		{Kind: story.Chmod, Action: "attributes_modified", Process: "python3", Path: "/tmp/d/up", Mode: "0755", Inode: "42"},
		execOf("up", "/tmp/d/up", "", "42", "/tmp/d", "up"),
	})
	want := []string{"made_executable by python3", "executed by up"}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("triggers %s, want %s", join(got), join(want))
	}
	// Another file's inode, or no inode at all, runs no upload.
	for _, ino := range []string{"43", ""} {
		got := chainSteps(t, []story.Event{uploadEv("/tmp/d/up", "42"), execOf("x", "/tmp/d/x", "", ino, "/tmp/d", "x")})
		if len(got) != 0 {
			t.Errorf("exec of no name, inode %q: triggers %s", ino, join(got))
		}
	}
}

// The alert of a run by inode names the upload's path (the exec named
// none), after a rename its new one.
func TestChainFexecveNamesTheUpload(t *testing.T) {
	c := newUploadExec(t)
	evs := []story.Event{
		uploadEv("/tmp/d/up", "42"),
		{Kind: story.Rename, Action: "rename", Process: "mv", OldPath: "/tmp/d/up", Path: "/tmp/d/up2", Inode: "42"},
		execOf("up2", "/tmp/d/up2", "", "42", "/tmp/d", "up2"),
	}
	var got []Alert
	for i := range evs {
		e := evs[i]
		e.Time, e.Key, e.Host = int64(1_700_000_000_000+i), "k"+string(rune('a'+i)), "h"
		got = append(got, c.Process(ecs.Doc{}, &e, Flags{Key: e.Key})...)
	}
	if len(got) != 1 {
		t.Fatalf("%d alerts, want the executed one", len(got))
	}
	explain, _ := got[0].Doc.Get("xferhunt.explain").(map[string]any)
	clauses, _ := explain["clauses"].([]any)
	if len(clauses) != 2 {
		t.Fatalf("explain %v", explain)
	}
	if c, _ := clauses[1].(map[string]any); c["clause"] != "executed: exec of /tmp/d/up2" {
		t.Errorf("clause %q, want the upload's new path", c["clause"])
	}
}

func TestAttackChainDirectoryRename(t *testing.T) {
	got := chainSteps(t, []story.Event{
		uploadEv("/tmp/d/sub/tool", "42"),
		{Kind: story.Rename, Action: "rename", Process: "mv", OldPath: "/tmp/d/sub", Path: "/tmp/d/sub2"},
		{Kind: story.Chmod, Action: "attributes_modified", Process: "chmod", Path: "/tmp/d/sub2/tool", Mode: "0755"},
		execOf("tool", "/usr/bin/dash", "/tmp/d/sub2/tool", "", "/tmp/d", "./sub2/tool"),
	})
	if len(got) != 2 {
		attackBug(t, "a rename of the upload's directory loses the upload: triggers "+join(got)+", want made_executable and executed")
	}
}

func join(s []string) string {
	if len(s) == 0 {
		return "[]"
	}
	out := "["
	for i, v := range s {
		if i > 0 {
			out += ", "
		}
		out += v
	}
	return out + "]"
}

// A story event keeps 64 arguments and 8 KiB of them (story.keepArgs): a
// command line that puts 70 options, or one argument over 8 KiB, before
// the script pushed the script past the cut and its run went unseen
// (TestAttackUploadExecEvasion's manyflags and longarg). The chain reads
// an interpreter's cut arguments from the event's document.
func TestChainReadsCutArguments(t *testing.T) {
	for name, args := range map[string][]any{
		"70 options": append(append([]any{"python3"}, slices.Repeat([]any{"-u"}, 70)...), "up"),
		"9 KiB arg":  {"python3", "-X", strings.Repeat("x", 9000), "up"},
	} {
		t.Run(name, func(t *testing.T) {
			c := newUploadExec(t)
			up := uploadEv("/tmp/d/up", "42")
			up.Time, up.Key, up.Host = 1_700_000_000_000, "ka", "h"
			c.Process(ecs.Doc{}, &up, Flags{Key: up.Key})
			doc := ecs.Doc{
				"@timestamp": "2023-11-14T22:13:21.000Z", "event": map[string]any{"action": "exec", "id": "kb"},
				"host":    map[string]any{"id": "h"},
				"process": map[string]any{"name": "python3", "executable": "/usr/bin/python3.11", "working_directory": "/tmp/d", "args": args},
				"file":    map[string]any{"path": "/usr/bin/python3.11", "inode": "7"},
			}
			e, ok := story.FromDoc(doc, "kb")
			if !ok || !e.ArgsCut() {
				t.Fatalf("story event %v (ok %v): its arguments are not cut, the test tests nothing", e.Args, ok)
			}
			got := c.Process(doc, &e, Flags{Key: e.Key})
			if len(got) != 1 || got[0].Doc.Str("xferhunt.chain.trigger") != "executed" {
				t.Fatalf("%d alerts, want executed", len(got))
			}
			// A program that is no interpreter runs nothing its arguments
			// name, cut or not.
			c2 := newUploadExec(t)
			c2.Process(ecs.Doc{}, &up, Flags{Key: up.Key})
			doc["process"].(map[string]any)["name"] = "ls"
			doc["process"].(map[string]any)["executable"] = "/usr/bin/ls"
			if e, _ := story.FromDoc(doc, "kb"); len(c2.Process(doc, &e, Flags{Key: e.Key})) != 0 {
				t.Error("ls with the upload among cut arguments raised an alert")
			}
		})
	}
}

// cp, mv and install copy an upload into another file: `cp up /usr/local/bin/`
// or a mv across file systems (a copy, then the upload deleted) made the
// run of the copy invisible to the chain. The copy is followed when its
// creator names the upload and the created file is the last argument or
// has the upload's name; a copy by another program is not (a gap).
func TestChainFollowsCopies(t *testing.T) {
	copyEv := func(proc, dst, ino string, args ...string) story.Event {
		return story.Event{Kind: story.Create, Action: "creation", Process: proc, Exe: "/usr/bin/" + proc, Path: dst, Inode: ino, Cwd: "/tmp/d", Args: args}
	}
	chmodEv := func(p string) story.Event {
		return story.Event{Kind: story.Chmod, Action: "attributes_modified", Process: "chmod", Path: p, Mode: "0755"}
	}
	for _, c := range []struct {
		name string
		evs  []story.Event
		want []string
	}{
		{"cp to a file", []story.Event{copyEv("cp", "/tmp/d/cpx", "50", "cp", "up", "cpx"), chmodEv("/tmp/d/cpx"),
			execOf("cpx", "/usr/bin/dash", "/tmp/d/cpx", "50", "/tmp/d", "./cpx")},
			[]string{"made_executable by chmod", "executed by cpx"}},
		{"cp into a directory", []story.Event{copyEv("cp", "/usr/local/bin/up", "51", "cp", "-p", "/tmp/d/up", "/usr/local/bin/"),
			execOf("up", "/usr/bin/dash", "/usr/local/bin/up", "51", "/", "up")},
			[]string{"executed by up"}},
		{"mv across file systems", []story.Event{copyEv("mv", "/dev/shm/x", "52", "mv", "up", "/dev/shm/x"),
			{Kind: story.Delete, Action: "deletion", Process: "mv", Path: "/tmp/d/up", Inode: "42"},
			chmodEv("/dev/shm/x"), execOf("x", "/usr/bin/dash", "/dev/shm/x", "52", "/tmp/d", "/dev/shm/x")},
			[]string{"made_executable by chmod", "executed by x"}},
		{"install", []story.Event{copyEv("install", "/usr/local/bin/tool", "53", "install", "-m", "755", "up", "/usr/local/bin/tool"),
			execOf("tool", "/usr/bin/dash", "/usr/local/bin/tool", "53", "/", "tool")},
			[]string{"executed by tool"}},
		// Not copies of the upload.
		{"cp of another file", []story.Event{copyEv("cp", "/tmp/e/other", "54", "cp", "other", "/tmp/e/"), chmodEv("/tmp/e/other"),
			execOf("other", "/usr/bin/dash", "/tmp/e/other", "54", "/tmp/e", "./other")}, nil},
		{"cp of two files, the other one's copy", []story.Event{copyEv("cp", "/tmp/e/other", "55", "cp", "up", "other", "/tmp/e/"),
			chmodEv("/tmp/e/other"), execOf("other", "/usr/bin/dash", "/tmp/e/other", "55", "/tmp/e", "./other")}, nil},
		{"tee is no copier", []story.Event{copyEv("tee", "/tmp/d/t", "56", "tee", "t", "up"), chmodEv("/tmp/d/t"),
			execOf("t", "/usr/bin/dash", "/tmp/d/t", "56", "/tmp/d", "./t")}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := chainSteps(t, append([]story.Event{uploadEv("/tmp/d/up", "42")}, c.evs...))
			if join(got) != join(c.want) {
				t.Errorf("triggers %s, want %s", join(got), join(c.want))
			}
		})
	}
}

// A copy of an interpreter runs scripts as the interpreter does:
// `cp /bin/sh ./notashell && ./notashell up` hid the run behind a name
// that is no interpreter's. A copy by cp, mv or install of a file named
// like an interpreter is followed (by path and inode); a copy of another
// program is not an interpreter.
func TestChainFollowsInterpreterCopies(t *testing.T) {
	cp := func(src, dst, ino string) story.Event {
		return story.Event{Kind: story.Create, Action: "creation", Process: "cp", Exe: "/usr/bin/cp", Path: dst, Inode: ino, Cwd: "/tmp/d", Args: []string{"cp", src, dst}}
	}
	got := chainSteps(t, []story.Event{
		uploadEv("/tmp/d/up", "42"),
		cp("/bin/sh", "/tmp/d/notashell", "60"),
		execOf("notashell", "/tmp/d/notashell", "/tmp/d/notashell", "60", "/tmp/d", "./notashell", "up"),
	})
	if join(got) != "[executed by notashell]" {
		t.Errorf("copy of sh: triggers %s, want [executed by notashell]", join(got))
	}
	got = chainSteps(t, []story.Event{
		uploadEv("/tmp/d/up", "42"),
		cp("/usr/bin/ls", "/tmp/d/notls", "61"),
		execOf("notls", "/tmp/d/notls", "/tmp/d/notls", "61", "/tmp/d", "./notls", "up"),
	})
	if len(got) != 0 {
		t.Errorf("copy of ls: triggers %s, want none", join(got))
	}
}
