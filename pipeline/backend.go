package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/exceptions"
	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/enrich"
	"github.com/xferhunt/xferhunt/internal/liveness"
	"github.com/xferhunt/xferhunt/internal/procid"
	"github.com/xferhunt/xferhunt/internal/safefile"
	"github.com/xferhunt/xferhunt/respond"
	"github.com/xferhunt/xferhunt/state"
	"github.com/xferhunt/xferhunt/story"
	"github.com/xferhunt/xferhunt/triage"
)

// storedExceptionsKey is where exceptions added in the TUI are kept in the
// state store: one Kibana export document, so it can be moved to Kibana.
const storedExceptionsKey = exceptions.DefaultListID

// loadStoredExceptions merges the exceptions saved in the store into l.
func loadStoredExceptions(st *state.Store, l *exceptions.List) (*exceptions.List, error) {
	items, err := st.Exceptions()
	if err != nil {
		return l, err
	}
	for _, it := range items {
		if it.Key != storedExceptionsKey {
			continue
		}
		saved, err := exceptions.Load(bytes.NewReader(it.Data))
		if err != nil {
			return l, fmt.Errorf("exceptions saved in the state directory: %w", err)
		}
		if l == nil {
			l = &exceptions.List{}
		}
		for _, x := range saved.Items {
			l.Add(x)
		}
	}
	return l, nil
}

// backend is the TUI's window on the rest of xferhunt (tui.Backend). Its
// methods run inside tea.Cmds, off the UI goroutine.
type backend struct {
	s     *setup
	guide string

	mu          sync.Mutex
	added       *exceptions.List // exceptions added in this UI, persisted
	enr         *enrich.Enricher // for re-checks, made on first use
	tmpEvidence string           // the --ephemeral evidence dir, once made
}

func (b *backend) SetStatus(uuid string, status triage.Status) error {
	return b.s.store.SetTriage(uuid, state.Triage{Status: status, At: time.Now().UTC()})
}

func (b *backend) Statuses() map[string]triage.Status {
	all, err := b.s.store.AllTriage()
	if err != nil {
		return nil
	}
	out := make(map[string]triage.Status, len(all))
	for id, t := range all {
		out[id] = t.Status
	}
	return out
}

// saved returns the list of exceptions saved from the TUI, read from the
// store the first time. Call with b.mu held.
func (b *backend) saved() *exceptions.List {
	if b.added == nil {
		b.added = &exceptions.List{}
		if l, err := loadStoredExceptions(b.s.store, nil); err == nil && l != nil {
			b.added = l
		}
	}
	return b.added
}

// Exceptions returns the exceptions saved from the TUI (editable) and the
// ones --exceptions loaded (shown, never rewritten: the file is the
// responder's).
func (b *backend) Exceptions() (saved, loaded []exceptions.Item) {
	b.mu.Lock()
	defer b.mu.Unlock()
	saved = append(saved, b.saved().Items...)
	if b.s.fileExc != nil {
		loaded = append(loaded, b.s.fileExc.Items...)
	}
	return saved, loaded
}

// SaveException adds the item, or replaces the saved item of the same id,
// persists the TUI's list (Kibana's export format) and applies the whole
// set to the running engine at once.
func (b *backend) SaveException(it exceptions.Item) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	next := b.saved().Clone()
	replaced := false
	for i := range next.Items {
		if it.ID != "" && next.Items[i].ID == it.ID {
			next.Items[i], replaced = it, true
		}
	}
	if !replaced {
		next.Add(it)
	}
	return b.commit(next)
}

// DeleteException removes a saved item and applies the rest at once.
func (b *backend) DeleteException(id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	next := b.saved().Clone()
	n := len(next.Items)
	next.Items = slices.DeleteFunc(next.Items, func(it exceptions.Item) bool { return it.ID == id })
	if len(next.Items) == n {
		return fmt.Errorf("no saved exception %q", id)
	}
	return b.commit(next)
}

// commit persists the TUI's list and swaps the engine's exceptions for the
// file's plus it. Call with b.mu held.
func (b *backend) commit(next *exceptions.List) error {
	var buf bytes.Buffer
	if err := next.Export(&buf); err != nil {
		return err
	}
	if err := b.s.store.PutException(storedExceptionsKey, buf.Bytes()); err != nil {
		return err
	}
	b.added = next
	all := &exceptions.List{}
	if b.s.fileExc != nil {
		all = b.s.fileExc.Clone()
	}
	for _, it := range next.Items {
		all.Add(it)
	}
	b.s.exc = all
	b.s.engine.SetExcepter(excepter{all, b.s.scope})
	return nil
}

// ExportExceptions writes the exceptions saved from the TUI as a Kibana
// exception-list export (what --exceptions and Kibana's import read) to
// the new file path, created like Export's.
func (b *backend) ExportExceptions(path string) (int, error) {
	b.mu.Lock()
	l := b.saved().Clone()
	b.mu.Unlock()
	var buf bytes.Buffer
	if err := l.Export(&buf); err != nil {
		return 0, err
	}
	dir, err := safefile.OpenDir(filepath.Dir(path))
	if err != nil {
		return 0, fmt.Errorf("export exceptions: %w", err)
	}
	defer dir.Close()
	f, err := dir.Create(filepath.Base(path))
	if err != nil {
		return 0, fmt.Errorf("export exceptions: %w", err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return 0, err
	}
	return len(l.Items), f.Close()
}

// Ephemeral says nothing is kept after this run (--ephemeral): saved
// exceptions last for the run only.
func (b *backend) Ephemeral() bool { return b.s.store.Dir() == "" }

// RecheckFile takes the alert's file facts again, now. Refused for
// alerts that are not live on this host (internal/liveness: a recording,
// a backfilled alert from old logs, another host's). It reads only, so
// --readonly allows it.
func (b *backend) RecheckFile(a detect.Alert) (detect.Alert, error) {
	if b.s != nil && b.s.recorded {
		return a, errRecorded
	}
	if why := b.s.here.Check(liveness.Read(a.Doc)); why != "" {
		return a, errors.New(why + "; nothing was checked")
	}
	if a.Doc.Str("file.path") == "" {
		return a, errors.New("this alert has no file path")
	}
	upd := detect.Alert{Doc: a.Doc.Clone()}
	b.mu.Lock()
	if b.enr == nil {
		b.enr = enrich.New(b.s.enrichOpt)
	}
	e := b.enr
	b.mu.Unlock()
	e.Recheck(context.Background(), upd.Doc)
	return upd, nil
}

// Compile hands the TUI the compiled query itself, which alertdb
// evaluates on its index per rule template.
func (b *backend) Compile(q string) (alertdb.Matcher, error) {
	parsed, err := kql.ParseMapped(q)
	if err != nil {
		return nil, err
	}
	return parsed, nil
}

// errRecorded refuses an action on this host for an alert of a recording.
var errRecorded = errors.New("this alert is from a recording (demo, view): its pid and path are not this host's; nothing was done")

// mayAct says whether the host may be changed for alert a: not under
// --readonly, and only for an alert live on this host (internal/liveness,
// the one place that decides). The reason is one line.
func (b *backend) mayAct(a detect.Alert) error {
	if b.s.readOnly {
		return respond.ErrReadOnly
	}
	if b.s.recorded {
		return errRecorded
	}
	if why := b.s.here.Check(liveness.Read(a.Doc)); why != "" {
		return errors.New(why)
	}
	return nil
}

// log writes one response log entry; a failure to log is said with the
// result, never hidden.
func (b *backend) log(e respond.Entry) error {
	return respond.Log(b.s.store, e)
}

// refuse logs a refused action and returns the refusal.
func (b *backend) refuse(action string, a detect.Alert, target string, err error) error {
	if !errors.Is(err, respond.ErrReadOnly) && !errors.Is(err, errRecorded) {
		_ = b.log(respond.Entry{Action: action, Alert: a.ID(), Target: target, Result: err.Error()})
	}
	return err
}

// PlanKill reads, from /proc, what K would end for alert a: the event's
// process when it is provably still that process, and its login session.
func (b *backend) PlanKill(a detect.Alert) (respond.KillPlan, error) {
	if err := b.mayAct(a); err != nil {
		return respond.KillPlan{}, b.refuse(respond.ActionKillProcess, a, "pid "+a.Doc.Str("process.pid"), err)
	}
	return respond.PlanKill(a.Doc, procid.Root("")), nil
}

// Kill ends what plan offered, the session's processes or the event's
// process, each proved again to be the planned process just before the
// signal (SIGKILL: a transfer that traps SIGTERM would keep writing). The
// attempt is logged.
func (b *backend) Kill(a detect.Alert, plan respond.KillPlan, session bool) (string, error) {
	action, targets, refused := respond.ActionKillProcess, []procid.Identity{plan.Process}, plan.ProcessErr
	target := fmt.Sprintf("pid %d", plan.Process.PID)
	if session {
		action, targets, refused = respond.ActionKillSession, plan.Session, plan.SessionErr
		target = fmt.Sprintf("session %s (%d processes)", plan.Ses, len(plan.Session))
	}
	if err := b.mayAct(a); err != nil {
		return "", b.refuse(action, a, target, err)
	}
	if refused != "" || len(targets) == 0 || targets[0].PID <= 1 {
		if refused == "" {
			refused = "nothing to kill"
		}
		return "", b.refuse(action, a, target, errors.New(refused))
	}
	n, results := respond.Signal(targets, procid.Root(""))
	res := strings.Join(results, "; ")
	e := respond.Entry{Action: action, Alert: a.ID(), Target: target, OK: n > 0, Result: res}
	lerr := b.log(e)
	if n == 0 {
		return "", fmt.Errorf("%s: nothing killed: %s", target, res)
	}
	msg := fmt.Sprintf("killed %s: %s", target, res)
	if lerr != nil {
		msg += " (not logged: " + lerr.Error() + ")"
	}
	return msg, nil
}

// Evidence makes (or finds) the alert's evidence bundle: the file checked
// against the event's inode, the alert, its raw audit records, the
// session's events and a /proc snapshot, with a manifest of sha256s, in
// STATE/evidence/<alert id> (with --ephemeral in a private temporary
// directory made once per run).
func (b *backend) Evidence(a detect.Alert) (respond.Bundle, error) {
	target := a.Doc.Str("file.path")
	if err := b.mayAct(a); err != nil {
		return respond.Bundle{}, b.refuse(respond.ActionEvidence, a, target, err)
	}
	base, err := b.evidenceBase()
	if err != nil {
		return respond.Bundle{}, b.refuse(respond.ActionEvidence, a, target, fmt.Errorf("evidence: %w", err))
	}
	bun, err := respond.MakeBundle(base, bundleInput(a, b.s.stories, false))
	if err != nil {
		return bun, b.refuse(respond.ActionEvidence, a, target, err)
	}
	if !bun.Existing {
		if err := b.log(respond.Entry{Action: respond.ActionEvidence, Alert: a.ID(), Target: target, OK: true, Result: bun.Summary()}); err != nil {
			return bun, fmt.Errorf("%s (not logged: %w)", bun.Summary(), err)
		}
	}
	return bun, nil
}

// Quarantine takes every permission off the alert's file (mode 000).
func (b *backend) Quarantine(a detect.Alert) (string, error) {
	target := a.Doc.Str("file.path")
	if err := b.mayAct(a); err != nil {
		return "", b.refuse(respond.ActionQuarantine, a, target, err)
	}
	old, err := respond.Quarantine(a.Doc)
	if err != nil {
		return "", b.refuse(respond.ActionQuarantine, a, target, err)
	}
	msg := fmt.Sprintf("quarantined %s: mode %s → 0000", target, old)
	if err := b.log(respond.Entry{Action: respond.ActionQuarantine, Alert: a.ID(), Target: target, OK: true, Result: msg}); err != nil {
		msg += " (not logged: " + err.Error() + ")"
	}
	return msg, nil
}

// Responses is the response log, oldest first.
func (b *backend) Responses() ([]respond.Entry, error) { return respond.Entries(b.s.store) }

// bundleInput gathers what a bundle holds besides the file: the alert,
// its raw records and its login session's events from the event store.
func bundleInput(a detect.Alert, stories *story.Store, tarToo bool) respond.BundleInput {
	js, _ := ecs.AppendJSON(nil, map[string]any(a.Doc))
	in := respond.BundleInput{ID: a.ID(), Alert: a.Doc, AlertJSON: append(js, '\n'), Raw: a.Doc.Str("event.original"), Tar: tarToo}
	if in.Raw != "" && !strings.HasSuffix(in.Raw, "\n") {
		in.Raw += "\n"
	}
	if e, ok := story.FromAlert(a.Doc); ok && stories != nil {
		if sc, ok := story.ScopeOf(story.BySession, &e); ok {
			var buf bytes.Buffer
			if story.WriteNDJSON(&buf, stories.Story(sc)) == nil {
				in.SessionNDJSON = buf.Bytes()
			}
		}
	}
	return in
}

// evidenceBase is the evidence folder: inside the state directory, or for
// a memory store a private directory created once with a random name. A
// predictable name in the shared /tmp (it was xferhunt-evidence-<pid>) can
// be pre-created by anyone.
func (b *backend) evidenceBase() (string, error) {
	if dir := b.s.store.Dir(); dir != "" {
		return filepath.Join(dir, "evidence"), nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tmpEvidence == "" {
		d, err := safefile.MkdirTemp(os.TempDir(), "xferhunt-evidence-*")
		if err != nil {
			return "", err
		}
		d.Close()
		b.tmpEvidence = d.Path()
	}
	return b.tmpEvidence, nil
}

// Export writes the alerts as NDJSON to the new file path, created with
// O_EXCL in a directory that must be private to us: the working directory
// of a responder may be shared, and a planted link there must not turn the
// export into a root overwrite.
func (b *backend) Export(path string, alerts []detect.Alert) error {
	// The refusal names the directory in full: the TUI's default is ".",
	// and "./: refused" would not tell the responder which one.
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	dir, err := safefile.OpenDir(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	f, err := dir.Create(filepath.Base(path))
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	enc := &ndjson{w: bw}
	for _, a := range alerts {
		if err := enc.write(a.Doc); err != nil {
			f.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (b *backend) RuleGuide() string { return b.guide }

func (b *backend) Story(sc story.Scope) []story.Event { return b.s.stories.Story(sc) }
