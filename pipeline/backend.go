package pipeline

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/exceptions"
	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/state"
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

	mu    sync.Mutex
	added *exceptions.List // exceptions added in this UI, persisted
}

func (b *backend) SetStatus(uuid, status string) error {
	return b.s.store.SetTriage(uuid, state.Triage{Status: status, At: time.Now().UTC()})
}

func (b *backend) Statuses() map[string]string {
	all, err := b.s.store.AllTriage()
	if err != nil {
		return nil
	}
	out := make(map[string]string, len(all))
	for id, t := range all {
		out[id] = t.Status
	}
	return out
}

// AddException saves an "is" exception on field=value and applies it to
// the running engine at once.
func (b *backend) AddException(field, value string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	it := exceptions.NewItemFromField(field, value)
	if b.added == nil {
		b.added = &exceptions.List{}
		if l, err := loadStoredExceptions(b.s.store, nil); err == nil && l != nil {
			b.added = l
		}
	}
	b.added.Add(it)
	var buf bytes.Buffer
	if err := b.added.Export(&buf); err != nil {
		return err
	}
	if err := b.s.store.PutException(storedExceptionsKey, buf.Bytes()); err != nil {
		return err
	}
	all := &exceptions.List{}
	if b.s.exc != nil {
		all = b.s.exc.Clone()
	}
	all.Add(it)
	b.s.exc = all
	b.s.engine.SetExcepter(excepter{all})
	return nil
}

func (b *backend) Compile(q string) (func(ecs.Doc) bool, error) {
	parsed, err := kql.Parse(q)
	if err != nil {
		return nil, err
	}
	return parsed.Match, nil
}

// Kill sends SIGKILL: the responder has confirmed, and a transfer process
// that traps SIGTERM would keep writing.
func (b *backend) Kill(pid int) error {
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
// evidence/ folder. It never follows a symlink (the file could have been
// swapped for one pointing at a secret) and copies only regular files.
func (b *backend) PreserveEvidence(a detect.Alert) (string, string, error) {
	src := a.Doc.Str("file.path")
	if src == "" {
		return "", "", errors.New("alert has no file.path")
	}
	base := b.s.store.Dir()
	if base == "" {
		base = filepath.Join(os.TempDir(), fmt.Sprintf("xferhunt-evidence-%d", os.Getpid()))
	}
	dir := filepath.Join(base, "evidence", a.ID())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	in, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", "", fmt.Errorf("open %q: %w", src, err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return "", "", err
	}
	if !fi.Mode().IsRegular() {
		return "", "", fmt.Errorf("%q is not a regular file (%s)", src, fi.Mode().Type())
	}
	dest := filepath.Join(dir, "file")
	out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", "", err
	}
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
	if err := os.WriteFile(filepath.Join(dir, "evidence.json"), append(rec, '\n'), 0o600); err != nil {
		return "", "", err
	}
	if err := b.s.store.PutEvidence(a.ID(), rec); err != nil {
		return "", "", err
	}
	return dest, sum, nil
}

func (b *backend) Export(path string, alerts []detect.Alert) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
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
