// Package state keeps what xferhunt must remember between runs in its state
// directory: new_terms history per rule, alert triage, exception items and
// evidence records. One bbolt file holds them all, so a crash (even kill -9)
// leaves the last committed transaction intact; OpenMemory gives the same API
// without touching the disk, for --ephemeral runs and tests.
package state

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/xferhunt/xferhunt/detect/newterms"
	"github.com/xferhunt/xferhunt/internal/safefile"
)

// DBFile is the name of the bbolt database inside the state directory.
const DBFile = "state.db"

// pidFile records who holds the database, so a second xferhunt can name it.
const pidFile = "xferhunt.pid"

// lockTimeout bounds how long Open waits for another process's flock: a
// second instance should fail fast with a clear message, not hang.
const lockTimeout = time.Second

var (
	bucketTerms      = []byte("terms.v2") // format 2, see terms.go
	bucketTriage     = []byte("triage")
	bucketExceptions = []byte("exceptions")
	bucketEvidence   = []byte("evidence")
)

// ErrInUse matches (errors.Is) the error Open returns when another process
// holds the state directory.
var ErrInUse = errors.New("state dir in use")

// InUseError says which state directory is held and, when known, by whom.
type InUseError struct {
	Dir string
	PID string // "unknown" when the holder left no pid file
}

// Error names the directory and the holder.
func (e *InUseError) Error() string {
	return fmt.Sprintf("state dir %s is in use by another xferhunt (pid %s)", e.Dir, e.PID)
}

// Is makes errors.Is(err, ErrInUse) true.
func (e *InUseError) Is(target error) bool { return target == ErrInUse }

// Store is an open state directory (or its in-memory stand-in). Its methods
// are safe for concurrent use.
type Store struct {
	dir string        // "" for memory stores
	d   *safefile.Dir // the verified directory; nil for memory stores
	kv  backend
	jr  journals
	// termsKey keys the tuple hashes of the term history (terms.go).
	termsKey newterms.HashKey
	// replaceCalls numbers the ReplaceTerms calls: each stages its
	// batches in a bucket of its own, so that calls running at once (or
	// one between another's batches) cannot touch each other's.
	replaceCalls atomic.Uint64
}

// Open opens (creating it with mode 0700 when needed) the state directory
// dir and the bbolt database inside it. The directory must be private to
// us (owned by the effective uid, not writable by group or others) and be
// reached without a symlink at any component: whoever else could write it
// could swap the database for one that suppresses alerts, or plant a link
// that turns the pid file into a root overwrite (internal/safefile). A
// directory Open did not create is used as it is, never chmod'ed. When
// another process holds the database, Open gives up after a second with an
// error wrapping ErrInUse that names that process's pid when known. An
// existing database is read in full, read-only, before it is opened for
// writing: a damaged one (torn pages, cut short, garbage) gives a
// *DamagedError (ErrDamaged) instead of a panic or SIGBUS later; SetAside
// moves it out of the way.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("state dir: empty path")
	}
	d, err := safefile.MkdirAll(dir)
	if err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	path := filepath.Join(dir, DBFile)
	if err := verify(d, path); err != nil {
		defer d.Close()
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, &InUseError{Dir: dir, PID: holderPID(d)}
		}
		return nil, err
	}
	var refused error // openDB's own error already names the path
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      lockTimeout,
		FreelistType: bolt.FreelistMapType,
		OpenFile: func(_ string, flag int, mode os.FileMode) (*os.File, error) {
			f, err := openDB(d, flag, mode)
			refused = err
			return f, err
		},
	})
	if err != nil {
		defer d.Close()
		switch {
		case errors.Is(err, bolterrors.ErrTimeout):
			return nil, &InUseError{Dir: dir, PID: holderPID(d)}
		case refused != nil:
			return nil, fmt.Errorf("state db: %w", err)
		}
		return nil, fmt.Errorf("open state db %s: %w", path, err)
	}
	var key newterms.HashKey
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketTriage, bucketExceptions, bucketEvidence, []byte(JournalAlerts), []byte(JournalEvents), []byte(JournalResponses)} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		var err error
		key, err = initTerms(tx, path)
		return err
	})
	if err != nil {
		_ = db.Close()
		d.Close()
		var damaged *DamagedError
		if errors.As(err, &damaged) || errors.Is(err, ErrNewerFormat) {
			return nil, err
		}
		if errors.Is(err, bolterrors.ErrIncompatibleValue) {
			// A value where our schema has a bucket, or a bucket
			// where it has a value: the file was made, not written.
			return nil, &DamagedError{Path: path, Reason: err}
		}
		return nil, fmt.Errorf("init state db %s: %w", path, err)
	}
	// Best effort: the pid only improves the "in use" message.
	_ = d.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"))
	return &Store{dir: dir, d: d, kv: &boltBackend{db: db}, termsKey: key}, nil
}

// openDB opens the database file inside the verified directory d, for
// bbolt: never through a symlink or a hard link, only a regular file we own.
func openDB(d *safefile.Dir, flag int, mode os.FileMode) (*os.File, error) {
	f, err := d.OpenFile(DBFile, flag, mode)
	if err != nil {
		return nil, err
	}
	// A database copied in or created by an older build may be readable by
	// others; the file is ours (checked), so tightening it is safe.
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm() != 0o600 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s has mode %v and cannot be fixed to 0600: %w", f.Name(), fi.Mode().Perm(), err)
		}
	}
	return f, nil
}

// OpenMemory returns a Store that keeps everything in memory and forgets it
// on Close (--ephemeral).
func OpenMemory() *Store {
	return &Store{kv: newMemBackend(), termsKey: newterms.NewHashKey()}
}

// Dir returns the state directory, or "" for a memory store.
func (s *Store) Dir() string { return s.dir }

// Ephemeral reports whether the store lives in memory only.
func (s *Store) Ephemeral() bool { return s.dir == "" }

// Close releases the database. Callers flush their buffered history (for
// example detect.Engine.Flush) before closing.
func (s *Store) Close() error {
	if s.d != nil {
		_ = s.d.Remove(pidFile)
		defer s.d.Close()
	}
	if err := s.kv.close(); err != nil {
		return fmt.Errorf("close state db: %w", err)
	}
	return nil
}

// holderPID reads the pid file of the process holding the database; it is
// read through the verified directory and bounded, as it only words an
// error.
func holderPID(d *safefile.Dir) string {
	f, err := d.OpenFile(pidFile, os.O_RDONLY, 0)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, 32))
	p := strings.TrimSpace(string(b))
	if _, err := strconv.Atoi(p); err != nil {
		return "unknown"
	}
	return p
}

// Check verifies the database's internal consistency (bbolt's page and
// freelist checks, then every stored sighting list). A memory store always
// passes.
func (s *Store) Check() error {
	bb, ok := s.kv.(*boltBackend)
	if !ok {
		return nil
	}
	err := bb.db.View(func(tx *bolt.Tx) error {
		// Drain the channel: the checker goroutine must finish before the
		// transaction closes.
		var first error
		for err := range tx.Check() {
			if first == nil {
				first = err
			}
		}
		return first
	})
	if err != nil {
		return fmt.Errorf("state db check: %w", err)
	}
	rules, err := s.TermRules()
	if err != nil {
		return err
	}
	for _, r := range rules {
		if err := s.LoadTerms(r, func(uint64, []int64) {}); err != nil {
			return err
		}
	}
	return nil
}
