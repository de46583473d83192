package detect

// Unit reproductions of the upload-exec evasions e2e/live
// TestAttackUploadExecEvasion makes for real. A broken defense is asserted
// as it should be and skipped with "BUG: …" unless
// XFERHUNT_ATTACK_STRICT=1.

import (
	"os"
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
