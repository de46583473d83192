package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/exceptions"
	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/enrich"
	"github.com/xferhunt/xferhunt/internal/safefile"
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
// alerts whose file is not this host's now (a recording, a backfilled
// alert from old logs).
func (b *backend) RecheckFile(a detect.Alert) (detect.Alert, error) {
	if b.s != nil && b.s.recorded {
		return a, errRecorded
	}
	if h, _ := a.Doc.Get("xferhunt.historical").(bool); h {
		return a, errors.New("this alert was raised from old logs (backfill): its path may name another file now; nothing was checked")
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

func (b *backend) Compile(q string) (func(ecs.Doc) bool, error) {
	parsed, err := kql.ParseMapped(q)
	if err != nil {
		return nil, err
	}
	return parsed.Match, nil
}

// Kill sends SIGKILL: the responder has confirmed, and a transfer process
// that traps SIGTERM would keep writing.
// errRecorded refuses an action on this host for an alert of a recording.
var errRecorded = errors.New("this alert is from a recording (demo, view): its pid and path are not this host's; nothing was done")

func (b *backend) Kill(pid int) error {
	if b.s != nil && b.s.recorded {
		return errRecorded
	}
	if pid <= 1 {
		return fmt.Errorf("refusing to kill pid %d", pid)
	}
	return syscall.Kill(pid, syscall.SIGKILL)
}

// evidence is what PreserveEvidence records in the state store.
type evidence struct {
	Alert     string    `json:"alert"`
	Original  string    `json:"original_path"`
	Copy      string    `json:"copy"`
	SHA256    string    `json:"sha256"`
	Size      int64     `json:"size"`
	Preserved time.Time `json:"preserved"`
}

// PreserveEvidence copies the alert's file into the state directory's
// evidence/ folder (with --ephemeral, into a private directory of random
// name under the temporary directory, made once per run). The source is
// opened without following a symlink at any component (the file or one of
// its directories could have been swapped for a link to a secret) and only
// a regular file is copied; everything written goes through safefile.
func (b *backend) PreserveEvidence(a detect.Alert) (string, string, error) {
	if b.s != nil && b.s.recorded {
		return "", "", errRecorded
	}
	src := a.Doc.Str("file.path")
	if src == "" {
		return "", "", errors.New("alert has no file.path")
	}
	base, err := b.evidenceBase()
	if err != nil {
		return "", "", fmt.Errorf("evidence: %w", err)
	}
	root, err := safefile.MkdirAll(base)
	if err != nil {
		return "", "", fmt.Errorf("evidence: %w", err)
	}
	defer root.Close()
	dir, err := root.Mkdir(a.ID())
	if err != nil {
		return "", "", fmt.Errorf("evidence: %w", err)
	}
	defer dir.Close()
	in, _, err := safefile.OpenRegular(src)
	if err != nil {
		return "", "", err
	}
	defer in.Close()
	out, err := dir.Create("file")
	if err != nil {
		return "", "", fmt.Errorf("evidence: %w", err)
	}
	dest := out.Name()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", "", fmt.Errorf("copy %q: %w", src, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	rec, _ := json.Marshal(evidence{Alert: a.ID(), Original: src, Copy: dest, SHA256: sum, Size: n, Preserved: time.Now().UTC()})
	if err := dir.WriteFile("evidence.json", append(rec, '\n')); err != nil {
		return "", "", fmt.Errorf("evidence: %w", err)
	}
	if err := b.s.store.PutEvidence(a.ID(), rec); err != nil {
		return "", "", err
	}
	return dest, sum, nil
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
