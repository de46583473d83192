package story

// Unit reproductions of what e2e/live's story attacks found for real. A
// broken defense is asserted as it should be and skipped with "BUG: …"
// unless XFERHUNT_ATTACK_STRICT=1.

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
)

func attackBug(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := "BUG: " + fmt.Sprintf(format, args...)
	if os.Getenv("XFERHUNT_ATTACK_STRICT") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// One exec with 32,768 short absolute paths as arguments (256 KiB of
// argv) must not cost the detection goroutine seconds: Files dedupes with
// a nested loop, and Add and the eviction both call it under the lock.
// Held since 695ffaf (FromDoc keeps 64 arguments).
func TestAttackManyPathArguments(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of CPU today")
	}
	args := []any{"/bin/true"}
	for i := 0; i < 32768; i++ {
		args = append(args, fmt.Sprintf("/%d", i))
	}
	e, ok := FromDoc(ecs.Doc{"@timestamp": "2026-12-05T10:00:00Z", "event.action": "exec", "process.executable": "/bin/true",
		"file.path": "/bin/true", "process.args": args, "xferhunt.session.id": 1}, "k")
	if !ok {
		t.Fatal("FromDoc")
	}
	s := NewStore(1 << 20)
	start := time.Now()
	s.Add(e)
	add := time.Since(start)
	start = time.Now()
	s.Add(Event{Kind: Create, Action: "creation", Path: "/x", Time: 2, Session: 1, Args: []string{string(make([]byte, 1<<20))}})
	evict := time.Since(start)
	t.Logf("Add %v, its eviction %v", add, evict)
	if add > 250*time.Millisecond || evict > 250*time.Millisecond {
		attackBug(t, "an exec with 32,768 path arguments costs Add %v and its eviction %v under the store's lock, on the detection goroutine (Event.Files dedupes in O(n²))", add, evict)
	}
}

// The state journal must give back the bytes it was given: a file name or
// argument that is not UTF-8 is a different name after a restart
// (json.Marshal writes U+FFFD), and two names can become one.
func TestAttackJournalKeepsBytes(t *testing.T) {
	for _, p := range []string{"/tmp/a\xffb", "/tmp/a\xfeb"} {
		e := Event{Kind: Create, Action: "creation", Path: p, Args: []string{"x\x9by"}, Time: 1, Session: 1}
		b, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		d, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if d.Path != p || d.Args[0] != e.Args[0] {
			attackBug(t, "the journal's encoding changes %q to %q and %q to %q", p, d.Path, e.Args[0], d.Args[0])
		}
	}
}

// A stored event the journal cannot read back must not be written: an
// exec padded past MaxEncoded was journaled, then skipped at restore, and
// vanished from the story. Held since 695ffaf for arguments; the working
// directory (4 KiB of '<', 24 KiB as JSON) is checked too.
func TestAttackJournalOversizeEvent(t *testing.T) {
	e, ok := FromDoc(ecs.Doc{"@timestamp": "2026-12-05T10:00:00Z", "event.action": "exec", "process.executable": "/bin/echo",
		"process.args":              []any{"/bin/echo", "HIDE-ME", string(make([]byte, 100000)) + "<", string(make([]byte, 100000))},
		"process.working_directory": strings.Repeat("/"+strings.Repeat("<", 255), 16)}, "k")
	if !ok {
		t.Fatal("FromDoc")
	}
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(b); err != nil {
		attackBug(t, "an exec with 200 kB of arguments encodes to %d bytes and does not decode (%v): after a restart it is not in any story", len(b), err)
	}
}

// Audit session ids restart at boot, and the state keeps events across
// restarts: two logins with one session id are two stories.
func TestAttackSessionIDReuse(t *testing.T) {
	s := NewStore(0)
	day := int64(24 * 3600 * 1000)
	s.Add(Event{Kind: LogOn, Action: "log_on", Session: 5, User: "alice", Addr: "10.0.0.1", Time: 1})
	s.Add(Event{Kind: Create, Action: "creation", Session: 5, User: "alice", Path: "/tmp/alice-upload", Time: 2})
	s.Add(Event{Kind: LogOff, Action: "log_off", Session: 5, User: "alice", Addr: "10.0.0.1", Time: 3})
	s.Add(Event{Kind: LogOn, Action: "log_on", Session: 5, User: "mallory", Addr: "10.6.6.6", Time: day})
	s.Add(Event{Kind: Exec, Action: "exec", Session: 5, User: "mallory", Exe: "/bin/rm", Time: day + 1})
	users := map[string]bool{}
	for _, e := range s.Story(Scope{Kind: BySession, Session: 5}) {
		users[e.User] = true
	}
	if len(users) > 1 {
		attackBug(t, "the story of session 5 mixes two logins (users %v): the store keys sessions by id alone", users)
	}
}

// The process tree of a pid is that process's, not the next holder's.
func TestAttackTreePIDReuse(t *testing.T) {
	s := NewStore(0)
	s.Add(Event{Kind: Exec, Action: "exec", PID: 100, PPID: 1, Session: 5, User: "alice", Exe: "/bin/sh", Time: 1})
	s.Add(Event{Kind: Exec, Action: "exec", PID: 100, PPID: 90, Session: 9, User: "mallory", Exe: "/bin/sh", Time: 50})
	s.Add(Event{Kind: Create, Action: "creation", PID: 100, PPID: 90, Session: 9, User: "mallory", Path: "/tmp/planted", Time: 51})
	for _, e := range s.Story(Scope{Kind: ByProcess, PID: 100}) {
		if e.User == "mallory" {
			attackBug(t, "the process tree of pid 100 (alice's) holds mallory's process that reused the pid later: %s %s", e.Action, e.Path)
		}
	}
}
