package detect

import (
	"fmt"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/story"
)

// maxReceivers bounds the processes ShellPipe follows at once.
const maxReceivers = 1 << 16

// ShellPipe evaluates the companion rule coverage-shell-pipe: a file
// written by the command of an ssh login that runs without a terminal
// (`cat f | ssh host 'cat > x'`, `tar c . | ssh host tar x`). sshd runs
// such a command as the account's shell with -c (or, for `ssh -T host <
// script`, as a login shell reading the channel); the shell and every
// process it starts are the command's receivers, followed by pid over exec
// events. The first file one of them creates or rewrites raises one alert
// per command. Not safe for concurrent use.
type ShellPipe struct {
	rule   *rules.Rule
	static map[string]any
	// recv are the followed processes, bounded (generations).
	recv   generations[procKey, *receiver]
	now    func() time.Time
	raised atomic.Uint64 // read by status lines on other goroutines
	// max_signals per interval of event time: a loop of ssh commands
	// cannot bury the other alerts.
	signalCap
}

type procKey struct {
	host string
	pid  int
}

// receiver is one ssh command and what it wrote.
type receiver struct {
	root    story.Event // the exec of the shell sshd started
	command string      // the -c string, "" for a login shell
	alerted bool
}

// NewShellPipe returns the evaluator of the companion rule rules.ShellPipe.
func NewShellPipe(r *rules.Rule) *ShellPipe {
	s := &ShellPipe{
		rule:   r,
		static: ruleFields(r, r.Interval.Milliseconds(), r.MaxSignals),
		recv:   newGenerations[procKey, *receiver](maxReceivers),
		now:    time.Now,
	}
	s.init(r)
	return s
}

// Rule is the companion rule the evaluator runs.
func (s *ShellPipe) Rule() *rules.Rule { return s.rule }

// Raised counts the alerts raised so far.
func (s *ShellPipe) Raised() uint64 { return s.raised.Load() }

// shells are the process names of the shells sshd may run a command with.
var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "zsh": true, "ksh": true, "mksh": true,
	"ash": true, "busybox": true, "fish": true, "tcsh": true, "csh": true}

// ownReceivers are programs that receive files over ssh by a protocol of
// their own, which other rules cover (the seed, coverage-rsync) or that
// serve repositories (git): a command that runs one of them is not a
// shell pipe.
var ownReceivers = map[string]bool{"sftp-server": true, "scp": true, "rsync": true,
	"git-receive-pack": true, "git-upload-pack": true, "git-upload-archive": true}

// Process follows one story event; doc is its full document.
func (s *ShellPipe) Process(doc ecs.Doc, e *story.Event, f Flags) []Alert {
	switch e.Kind {
	case story.Exec:
		s.exec(doc, e)
	case story.Create, story.Overwrite:
		r := s.receiverOf(e)
		if r == nil || !written(doc, e) {
			return nil
		}
		// A child that wrote without an exec of its own (bash's subshell
		// doing `> x`) belongs to the command too.
		s.put(procKey{e.Host, e.PID}, r)
		if r.alerted || ownReceivers[e.Process] {
			return nil
		}
		r.alerted = true
		if !s.admit(e.Time) {
			return nil
		}
		return []Alert{s.alert(doc, e, r, f)}
	}
	return nil
}

// exec starts following a shell sshd ran for a command without a
// terminal, follows its children, and lets go of a command that turns out
// to be a transfer program's own (`bash -c /usr/lib/openssh/sftp-server`).
func (s *ShellPipe) exec(doc ecs.Doc, e *story.Event) {
	k := procKey{e.Host, e.PID}
	if ownReceivers[e.Process] {
		s.drop(k)
		return
	}
	if cmd, ok := sshCommand(doc, e); ok {
		if first, _, _ := strings.Cut(strings.TrimSpace(cmd), " "); ownReceivers[path.Base(first)] {
			s.drop(k)
			return
		}
		s.put(k, &receiver{root: *e, command: cmd})
		return
	}
	if s.get(k) != nil {
		return // the shell exec'd the command in its own process
	}
	if r := s.get(procKey{e.Host, e.PPID}); r != nil && r.root.Session == e.Session {
		s.put(k, r)
	}
}

// sshCommand reports whether an exec is a shell sshd started for a login
// without a terminal, and its command (-c), "" for a login shell that
// reads its commands from the channel (`ssh -T host < script`).
func sshCommand(doc ecs.Doc, e *story.Event) (string, bool) {
	if !shells[e.Process] || len(e.Args) == 0 {
		return "", false
	}
	if v, ok := doc.Get("process.interactive").(bool); !ok || v {
		return "", false
	}
	parent := doc.Str("process.parent.name")
	if parent == "" {
		parent = path.Base(doc.Str("process.parent.executable"))
	}
	if parent != "sshd" && parent != "sshd-session" {
		return "", false
	}
	if len(e.Args) >= 3 && e.Args[1] == "-c" {
		return e.Args[2], true
	}
	if strings.HasPrefix(e.Args[0], "-") {
		return "", true // a login shell: argv[0] is "-bash"
	}
	return "", false
}

// receiverOf returns the command a file event's process belongs to: its
// own, or its parent's in the same login session.
func (s *ShellPipe) receiverOf(e *story.Event) *receiver {
	if r := s.get(procKey{e.Host, e.PID}); r != nil && r.root.Session == e.Session {
		return r
	}
	if r := s.get(procKey{e.Host, e.PPID}); r != nil && r.root.Session == e.Session {
		return r
	}
	return nil
}

// written reports whether a file event is a file the command wrote:
// directories (coverage-dirs) and the kernel's and runtime's own trees
// (a redirection to /dev/null) are not.
func written(doc ecs.Doc, e *story.Event) bool {
	if e.Path == "" || doc.Str("file.type") == "dir" {
		return false
	}
	for _, p := range []string{"/dev/", "/proc/", "/sys/", "/run/", "/var/run/"} {
		if strings.HasPrefix(e.Path, p) {
			return false
		}
	}
	return true
}

func (s *ShellPipe) get(k procKey) *receiver {
	r, _ := s.recv.get(k)
	return r
}

func (s *ShellPipe) put(k procKey, r *receiver) { s.recv.put(k, r) }

func (s *ShellPipe) drop(k procKey) { s.recv.drop(k) }

// alert builds the Kibana-shaped alert on the command's first file: the
// file event's fields, the rule's, and xferhunt.receiver naming the
// command, its shell and the login.
func (s *ShellPipe) alert(ev ecs.Doc, e *story.Event, r *receiver, f Flags) Alert {
	evKey := eventKey(ev, f.Key)
	doc := companionAlert(s.static, ev, e, alertUUID(s.rule.RuleID, []string{"receiver", r.root.Key}, evKey), s.now(), f)
	doc["kibana.alert.reason"] = shellPipeReason(e, r, s.rule)
	doc["kibana.alert.ancestors"] = []any{
		map[string]any{"id": r.root.Key, "index": "", "type": "event", "depth": 0},
		map[string]any{"id": evKey, "index": ancestorIndex(ev), "type": "event", "depth": 0},
	}
	doc["kibana.alert.depth"] = 1
	recv := stepDoc(&r.root)
	recv["login_shell"] = r.command == ""
	if r.command != "" {
		recv["command"] = r.command
	}
	doc.Set("xferhunt.receiver", recv)
	what := "the ssh command " + r.command
	if r.command == "" {
		what = "a login shell reading the ssh channel"
	}
	doc.Set("xferhunt.explain", map[string]any{"clauses": []any{
		map[string]any{"clause": "receiver: " + what + ", started by sshd without a terminal", "matched": true},
		map[string]any{"clause": "written: " + e.Action + " by " + e.Process + " in the command's process tree", "matched": true},
	}})
	s.raised.Add(1)
	return Alert{Doc: doc}
}

// shellPipeReason is the alert's one readable sentence.
func shellPipeReason(e *story.Event, r *receiver, rl *rules.Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "file %s written by %s (pid %d) ", path.Base(e.Path), e.Process, e.PID)
	if r.command != "" {
		fmt.Fprintf(&b, "for the ssh command %q without a terminal", r.command)
	} else {
		b.WriteString("for an ssh login shell without a terminal")
	}
	if r.root.User != "" {
		fmt.Fprintf(&b, " as %s", r.root.User)
	}
	if r.root.Addr != "" {
		fmt.Fprintf(&b, " from %s", r.root.Addr)
	}
	fmt.Fprintf(&b, " created %s alert %s.", rl.Severity, rl.Name)
	return b.String()
}
