package state

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/xferhunt/xferhunt/internal/safefile"
)

// ErrDamaged matches (errors.Is) the error Open returns when state.db is
// not a consistent database: torn pages, a file cut short, garbage.
var ErrDamaged = errors.New("state is damaged")

// DamagedError says which database is damaged and what gave it away. Its
// message tells the user what to do, in one line.
type DamagedError struct {
	Path   string
	Reason error
}

// Error is the one line the command prints.
func (e *DamagedError) Error() string {
	return fmt.Sprintf("state is damaged: move it away (or --state-repair to set it aside and start fresh): %s: %v", e.Path, e.Reason)
}

// Is makes errors.Is(err, ErrDamaged) true.
func (e *DamagedError) Is(target error) bool { return target == ErrDamaged }

// Unwrap returns what gave the damage away.
func (e *DamagedError) Unwrap() error { return e.Reason }

// verify opens an existing database read-only and reads every page it
// references before the read-write open may touch it. bbolt trusts its
// file: a torn page panics deep inside it, and a page past the end of a
// file cut short is a SIGBUS on the memory map, which kills the process.
// Everything here runs on one goroutine with faults turned into panics,
// so either is caught and reported as damage, and a file that passes is
// one bbolt can use without either.
func verify(d *safefile.Dir, path string) error {
	if f, err := d.OpenFile(DBFile, os.O_RDONLY, 0); err != nil {
		return nil // missing (or refused): the read-write open decides
	} else {
		fi, err := f.Stat()
		f.Close()
		if err != nil || fi.Size() == 0 {
			return nil // new: bbolt initialises it
		}
	}
	var f *os.File
	var openErr error
	err := guarded(func() error {
		db, err := bolt.Open(path, 0o600, &bolt.Options{
			ReadOnly: true,
			Timeout:  lockTimeout,
			OpenFile: func(_ string, flag int, mode os.FileMode) (*os.File, error) {
				f, openErr = d.OpenFile(DBFile, flag, mode)
				return f, openErr
			},
		})
		if err != nil {
			// Opening the file and taking its lock are not about its
			// content; whatever else bbolt refuses (invalid meta pages,
			// a checksum, "file size too small") is.
			if openErr != nil || errors.Is(err, bolterrors.ErrTimeout) {
				return err
			}
			return &DamagedError{Path: path, Reason: err}
		}
		defer db.Close()
		return db.View(func(tx *bolt.Tx) error { return walk(tx, path, f) })
	})
	var p panicked
	if errors.As(err, &p) {
		if f != nil {
			// bbolt never returned the db, so its lock would stay held.
			f.Close()
		}
		return &DamagedError{Path: path, Reason: err}
	}
	return err
}

// panicked is a panic (or a memory fault) caught while reading the file.
type panicked struct{ v any }

func (p panicked) Error() string { return fmt.Sprintf("unreadable page (%v)", p.v) }

// guarded runs fn with memory faults turned into panics (the goroutine's
// setting is restored after) and a panic turned into a panicked error.
func guarded(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			err = panicked{v}
		}
	}()
	return fn()
}

// walk touches every page of the database: the pages its meta page claims
// must lie inside the file, checkPages must find a tree bbolt can follow
// (no cycle, nothing outside a page or the file), then every bucket and
// key is visited on this goroutine (a bad page panics here, inside
// guarded), and last
// bbolt's own check finds double frees and lost pages.
func walk(tx *bolt.Tx, path string, f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if tx.Size() > fi.Size() {
		return &DamagedError{Path: path, Reason: fmt.Errorf("file has %d bytes but its pages need %d (cut short?)", fi.Size(), tx.Size())}
	}
	if err := checkPages(f, fi.Size(), tx.DB().Info().PageSize, uint64(tx.ID()), uint64(tx.Size())/uint64(tx.DB().Info().PageSize)); err != nil {
		return &DamagedError{Path: path, Reason: err}
	}
	// checkPages has read every page, overflow pages included, and found
	// each inside the file: no value read through the map can fault past
	// the end, so the walk follows bbolt's cursor over every bucket and
	// key without touching the values' bytes again.
	var visit func(b *bolt.Bucket) error
	visit = func(b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				sub := b.Bucket(k)
				if sub == nil {
					return fmt.Errorf("key %x: neither value nor bucket", k)
				}
				return visit(sub)
			}
			return nil
		})
	}
	err = tx.ForEach(func(_ []byte, b *bolt.Bucket) error { return visit(b) })
	if err != nil {
		return &DamagedError{Path: path, Reason: err}
	}
	var first error
	for err := range tx.Check() {
		// Drain the channel: the checker goroutine must finish before
		// the transaction closes.
		if first == nil {
			first = &DamagedError{Path: path, Reason: err}
		}
	}
	return first
}

// SetAside renames the damaged database of state directory dir to
// state.db.damaged-<UTC time>, inside the same directory, so the next Open
// starts fresh while the old file stays for a post-mortem. It returns the
// new name.
func SetAside(dir string) (string, error) {
	d, err := safefile.OpenDir(dir)
	if err != nil {
		return "", fmt.Errorf("state dir: %w", err)
	}
	defer d.Close()
	name := DBFile + ".damaged-" + time.Now().UTC().Format("20060102T150405.000000000Z")
	if err := d.Rename(DBFile, name); err != nil {
		return "", fmt.Errorf("set damaged state aside: %w", err)
	}
	return name, nil
}
