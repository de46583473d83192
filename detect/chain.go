package detect

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/story"
)

// TransferPrograms are the process names the seed rule's query names as
// remote file-transfer services: a file one of them creates is an upload.
var TransferPrograms = []string{"scp", "ftp", "sftp", "vsftpd", "sftp-server", "sync"}

// Bounds of the chain tracker: uploads followed at once, and steps kept
// per upload (a file renamed a thousand times keeps its first and last).
const (
	maxUploads = 1 << 16
	// maxInterpCopies bounds the copies of interpreters followed.
	maxInterpCopies = 1 << 12
	maxSteps        = 16
)

// Chain evaluates the companion rule upload-exec: a file created by a
// transfer process, followed through renames, later made executable or
// executed (SPEC §8). It raises at most one alert per upload for each of
// the two (made executable, executed). Not safe for concurrent use.
type Chain struct {
	rule   *rules.Rule
	static map[string]any
	// uploads are keyed by host and path, bounded (generations).
	uploads generations[upKey, *upload]
	// inodes finds an upload by the inode its creation record named: a
	// hard link, a symlink, /proc/self/fd/N or a renamed directory reach
	// it under another name, and the exec's record names that inode.
	inodes map[upKey]*upload
	// interps are copies of an interpreter (`cp /bin/sh ./notashell`)
	// by path and by inode: their execs run the scripts their arguments
	// name like the interpreter's would. Bounded (generations).
	interps generations[interpKey, struct{}]
	now     func() time.Time
	raised  atomic.Uint64 // read by status lines on other goroutines
	// max_signals per interval of event time, as the seed rule has it: a
	// flood of chains (a process named scp creating and running files in
	// a loop) cannot bury the real one under thousands of alerts.
	signalCap
}

type upKey struct{ host, path string }

// interpKey names a copy of an interpreter by path, or by inode (inode
// set): a key of its own, so an exec's lookup builds no string.
type interpKey struct {
	host, name string
	inode      bool
}

// upload is one followed file: the upload event and its later steps.
type upload struct {
	steps              []story.Event
	alert              string // uuid of the seed alert raised on the upload, if any
	madeExec, executed bool
}

// NewChain returns the evaluator of a companion rule (rules.UploadExec).
func NewChain(r *rules.Rule) *Chain {
	c := &Chain{
		rule:    r,
		static:  ruleFields(r, r.Interval.Milliseconds(), r.MaxSignals),
		uploads: newGenerations[upKey, *upload](maxUploads), inodes: map[upKey]*upload{},
		interps: newGenerations[interpKey, struct{}](maxInterpCopies),
		now:     time.Now,
	}
	c.init(r)
	return c
}

// Rule is the companion rule the chain evaluates.
func (c *Chain) Rule() *rules.Rule { return c.rule }

// Raised counts the alerts raised so far.
func (c *Chain) Raised() uint64 { return c.raised.Load() }

// transferExecutables are the file names the transfer programs run from:
// the name (comm) is the process's to choose (prctl, perl's $0), the
// executable is not, so a perl renamed scp is not an upload's author.
var transferExecutables = map[string]bool{
	"scp": true, "sftp": true, "sftp-server": true, "vsftpd": true, "ftp": true, "tnftp": true,
	"netkit-ftp": true, "sync": true,
}

// IsTransfer reports whether the event's process is a transfer program:
// its name is one the seed rule names and, when the source says, so is
// the file it runs.
func IsTransfer(e *story.Event) bool {
	for _, n := range TransferPrograms {
		if e.Process == n {
			return e.Exe == "" || transferExecutables[path.Base(e.Exe)]
		}
	}
	return false
}

func (c *Chain) get(k upKey) *upload {
	u, _ := c.uploads.get(k)
	return u
}

func (c *Chain) put(k upKey, u *upload) { c.uploads.put(k, u) }

func (c *Chain) drop(k upKey) { c.uploads.drop(k) }

// NoteAlert links the seed alert raised on an upload's event to the
// upload, so the chain's alert can name it among its ancestors.
func (c *Chain) NoteAlert(host, filePath, eventKey, alertID string) {
	if u := c.get(upKey{host, filePath}); u != nil && u.steps[0].Key == eventKey {
		u.alert = alertID
	}
}

// UploadAlert returns the seed alert of the upload a chain alert points
// at, "" when the upload raised none.
func UploadAlert(a *Alert) string {
	s, _ := a.Doc.Get("xferhunt.chain.upload.alert").(string)
	return s
}

// Process follows one story event; doc is its full document (the
// alert's source event). It returns the alerts the event completes.
func (c *Chain) Process(doc ecs.Doc, e *story.Event, f Flags) []Alert {
	switch e.Kind {
	case story.Create, story.Overwrite:
		if IsTransfer(e) && e.Path != "" {
			c.track(e, &upload{steps: []story.Event{*e}})
		} else if srcs := copySources(e); len(srcs) > 0 {
			if from := c.copiedFrom(e, srcs); from != nil {
				// The copy is another file: its own chmod and run,
				// once each, but the same upload's story (its first
				// step).
				u := &upload{steps: append([]story.Event(nil), from.steps...), alert: from.alert}
				u.step(*e)
				c.track(e, u)
			} else if e.Kind == story.Overwrite {
				c.drop(upKey{e.Host, e.Path})
				c.dropInode(e)
			}
			if slices.ContainsFunc(srcs, isInterpreter) {
				c.interps.put(interpKey{e.Host, e.Path, false}, struct{}{})
				if e.Inode != "" {
					c.interps.put(interpKey{e.Host, e.Inode, true}, struct{}{})
				}
			}
		} else if e.Kind == story.Overwrite {
			// Rewritten by something else: no longer the upload.
			c.drop(upKey{e.Host, e.Path})
			c.dropInode(e)
		}
	case story.Rename:
		from := upKey{e.Host, e.OldPath}
		u := c.get(from)
		c.drop(upKey{e.Host, e.Path}) // the name now holds another file
		if u != nil {
			c.drop(from)
			u.step(*e)
			c.put(upKey{e.Host, e.Path}, u)
		}
	case story.Delete:
		c.drop(upKey{e.Host, e.Path})
		c.dropInode(e) // the inode may be reused by another file
	case story.Chmod:
		u := c.find(e, e.Path)
		if u == nil || u.madeExec || !executable(e.Mode) {
			return nil
		}
		u.madeExec = true
		u.step(*e)
		if !c.admit(e.Time) {
			return nil
		}
		return []Alert{c.alert(doc, e, u, "made_executable", e.Path, f)}
	case story.Exec:
		args, interp := e.Args, c.runsScripts(e)
		if e.ArgsCut() && interp {
			args = allArgs(doc, args)
		}
		for _, p := range ranFiles(e, args, interp) {
			u := c.find(e, p)
			if u == nil || u.executed {
				continue
			}
			u.executed = true
			u.step(*e)
			if !c.admit(e.Time) {
				return nil
			}
			if p == "" {
				p = u.path()
			}
			return []Alert{c.alert(doc, e, u, "executed", p, f)}
		}
	}
	return nil
}

// interpreters run a script named by an argument: `sh tool.sh` needs no
// execute bit. Other programs' arguments are data (`chmod 755 tool.sh`,
// `ls tool.sh` run nothing).
var interpreters = map[string]bool{
	"sh": true, "bash": true, "dash": true, "zsh": true, "ksh": true, "mksh": true, "busybox": true, "ash": true,
	"python": true, "python2": true, "python3": true, "perl": true, "ruby": true, "php": true, "node": true,
	"lua": true, "tclsh": true, "awk": true, "gawk": true, "mawk": true, "expect": true,
}

// isInterpreter reads python3.11 as python3: versioned names are common.
// The dynamic loader counts too: `ld-linux-x86-64.so.2 ./tool` runs the
// ELF its argument names, and the kernel's record names only the loader
// (comm is its name cut to 15 bytes, ld-linux-x86-64).
func isInterpreter(exe string) bool {
	name := path.Base(exe)
	if interpreters[name] {
		return true
	}
	if strings.HasPrefix(name, "ld-linux") || strings.HasPrefix(name, "ld-musl") || name == "ld.so" {
		return true
	}
	if i := strings.IndexAny(name, "0123456789"); i > 0 {
		return interpreters[name[:i]] || interpreters[strings.TrimRight(name, ".0123456789")]
	}
	return false
}

// ranFiles are the files an exec runs: the one the kernel loaded (for a
// #! script the script itself), and a script given to an interpreter as
// its argument. A `-c` command string is not a file: `bash -c /tmp/tool.sh`
// is followed by the kernel's own exec of tool.sh, which is the one that
// counts.
//
// fexecve (execveat with AT_EMPTY_PATH) gives the kernel no name: its
// PATH record names "" with the file's inode, so "" stands for the
// event's own file, which find looks up by that inode.
//
// args are the exec's arguments: the story event's, or all of the
// document's when the story cut them; interp says the program runs
// scripts (Chain.runsScripts).
func ranFiles(e *story.Event, args []string, interp bool) []string {
	out := []string{}
	if e.Path != "" || e.Inode != "" {
		out = append(out, e.Path)
	}
	if !interp {
		return out
	}
	for i, a := range args {
		if i == 0 || args[i-1] == "-c" {
			continue
		}
		if p := story.ArgPath(a, e.Cwd); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// track follows u as the file e created, by path and by inode.
func (c *Chain) track(e *story.Event, u *upload) {
	c.put(upKey{e.Host, e.Path}, u)
	if e.Inode != "" {
		if len(c.inodes) >= maxUploads {
			clear(c.inodes)
		}
		c.inodes[upKey{e.Host, e.Inode}] = u
	}
}

// copiers copy a file their arguments name into the one they create.
// mv is among them: across file systems it copies and deletes (the
// rename it tries first fails, and the rules record successes only).
var copiers = map[string]bool{"cp": true, "mv": true, "install": true}

// copySources are the files e, a file creation by cp, mv or install, may
// copy: the arguments naming other files, when the created file is the
// last argument (cp up tool) or has the same name (cp up /usr/local/bin/).
// A copy by any other program (cat, python, dd) is a new file to the
// chain (README, Known limits).
func copySources(e *story.Event) []string {
	if e.Path == "" || !copiers[path.Base(e.Exe)] && !copiers[e.Process] {
		return nil
	}
	// The story event's arguments only (64 at most), not the document's
	// all: one cp of a hundred thousand files makes as many creations,
	// and reading every argument for each would cost the square.
	var ops []string
	for _, a := range e.Args[min(1, len(e.Args)):] {
		if p := story.ArgPath(a, e.Cwd); p != "" {
			ops = append(ops, p)
		}
	}
	var srcs []string
	for _, p := range ops {
		if p != e.Path && (e.Path == ops[len(ops)-1] || path.Base(e.Path) == path.Base(p)) {
			srcs = append(srcs, p)
		}
	}
	return srcs
}

// copiedFrom is the upload among the files e copies (copySources).
func (c *Chain) copiedFrom(e *story.Event, srcs []string) *upload {
	for _, p := range srcs {
		if u := c.get(upKey{e.Host, p}); u != nil {
			return u
		}
	}
	return nil
}

// runsScripts reports whether the exec's program runs a file its
// arguments name: an interpreter by name, or a copy of one.
func (c *Chain) runsScripts(e *story.Event) bool {
	if isInterpreter(e.Exe) || isInterpreter(e.Process) {
		return true
	}
	if _, ok := c.interps.get(interpKey{e.Host, e.Exe, false}); ok && e.Exe != "" {
		return true
	}
	// The exec's own file: the interpreter copy itself (not a #! script,
	// whose record names the script while exe names its interpreter).
	if e.Inode != "" && e.Exe == e.Path {
		_, ok := c.interps.get(interpKey{e.Host, e.Inode, true})
		return ok
	}
	return false
}

// allArgs returns the exec's arguments as its document holds them, or
// kept when it holds no more: an argument over 8 KiB, or 64 options,
// before the script pushed it past what a story event keeps
// (story.keepArgs), which hid the run (TestAttackUploadExecEvasion's
// longarg and manyflags).
func allArgs(doc ecs.Doc, kept []string) []string {
	vs := doc.Values("process.args")
	if len(vs) < len(kept) {
		return kept
	}
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// find is the upload at a path, else, for the event's own file, the
// upload with the inode the event's record names.
func (c *Chain) find(e *story.Event, p string) *upload {
	if u := c.get(upKey{e.Host, p}); u != nil {
		return u
	}
	if p == e.Path && e.Inode != "" {
		return c.inodes[upKey{e.Host, e.Inode}]
	}
	return nil
}

func (c *Chain) dropInode(e *story.Event) {
	if e.Inode != "" {
		delete(c.inodes, upKey{e.Host, e.Inode})
	}
}

// path is the upload's name now: that of its creation or last rename.
func (u *upload) path() string {
	for i := len(u.steps) - 1; i >= 0; i-- {
		if k := u.steps[i].Kind; k == story.Create || k == story.Overwrite || k == story.Rename {
			return u.steps[i].Path
		}
	}
	return u.steps[0].Path
}

func (u *upload) step(e story.Event) {
	if len(u.steps) >= maxSteps {
		u.steps = append(u.steps[:maxSteps-2], u.steps[maxSteps-1])
	}
	u.steps = append(u.steps, e)
}

// executable reports whether an octal mode has any execute bit.
func executable(mode string) bool {
	m, err := strconv.ParseUint(mode, 8, 32)
	return err == nil && m&0o111 != 0
}

// alert builds the Kibana-shaped alert of a completed chain: the trigger
// event's fields, the rule's, and xferhunt.chain with every step.
func (c *Chain) alert(ev ecs.Doc, e *story.Event, u *upload, what, target string, f Flags) Alert {
	up := &u.steps[0]
	evKey := eventKey(ev, f.Key)
	doc := companionAlert(c.static, ev, e, alertUUID(c.rule.RuleID, []string{what, up.Key, up.Path}, evKey), c.now(), f)
	doc["kibana.alert.reason"] = chainReason(e, up, what, c.rule)
	// Ancestors: the upload's event (a sequence's first event), then the
	// trigger; and the seed alert of the upload when it raised one.
	anc := []any{
		map[string]any{"id": up.Key, "index": "", "type": "event", "depth": 0},
		map[string]any{"id": evKey, "index": ancestorIndex(ev), "type": "event", "depth": 0},
	}
	depth := 1
	if u.alert != "" {
		anc = append(anc, map[string]any{"id": u.alert, "index": "", "type": "signal", "depth": 1})
		depth = 2
	}
	doc["kibana.alert.ancestors"] = anc
	doc["kibana.alert.depth"] = depth
	steps := make([]any, len(u.steps))
	for i := range u.steps {
		steps[i] = stepDoc(&u.steps[i])
	}
	upload := stepDoc(up)
	if u.alert != "" {
		upload["alert"] = u.alert
	}
	doc.Set("xferhunt.chain", map[string]any{
		"trigger": what,
		"upload":  upload,
		"steps":   steps,
	})
	doc.Set("xferhunt.explain", map[string]any{"clauses": []any{
		map[string]any{"clause": "upload: " + up.Action + " by " + up.Process + " (a transfer program)", "matched": true},
		map[string]any{"clause": strings.ReplaceAll(what, "_", " ") + ": " + e.Action + " of " + target, "matched": true},
	}})
	c.raised.Add(1)
	return Alert{Doc: doc}
}

// stepDoc is one step of a chain as JSON.
func stepDoc(e *story.Event) map[string]any {
	m := map[string]any{
		"action":     e.Action,
		"@timestamp": e.When().Format(kibanaTime),
		"event_key":  e.Key,
	}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put("path", e.Path)
	put("original_path", e.OldPath)
	put("process", e.Process)
	put("executable", e.Exe)
	put("user", e.User)
	put("source_ip", e.Addr)
	put("mode", e.Mode)
	if e.PID > 0 {
		m["pid"] = e.PID
	}
	if e.Session != story.NoSession {
		m["session"] = e.Session
	}
	if e.Kind == story.Exec && len(e.Args) > 0 {
		m["args"] = strs(e.Args)
	}
	return m
}

// chainReason is the alert's one readable sentence.
func chainReason(e, up *story.Event, what string, r *rules.Rule) string {
	var b strings.Builder
	name := path.Base(up.Path)
	fmt.Fprintf(&b, "upload %s by %s", name, up.Process)
	if up.User != "" {
		fmt.Fprintf(&b, " as %s", up.User)
	}
	if up.Addr != "" {
		fmt.Fprintf(&b, " from %s", up.Addr)
	}
	if what == "executed" {
		fmt.Fprintf(&b, " was executed by %s (pid %d)", e.Process, e.PID)
	} else {
		fmt.Fprintf(&b, " was made executable (mode %s) by %s", e.Mode, e.Process)
	}
	if e.User != "" {
		fmt.Fprintf(&b, " as %s", e.User)
	}
	if e.Addr != "" && e.Addr != up.Addr {
		fmt.Fprintf(&b, " from %s", e.Addr)
	}
	fmt.Fprintf(&b, " created %s alert %s.", r.Severity, r.Name)
	return b.String()
}
