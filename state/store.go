// Package state keeps what xferhunt must remember between runs in its state
// directory: new_terms history per rule, alert triage, exception items and
// evidence records. One bbolt file holds them all, so a crash (even kill -9)
// leaves the last committed transaction intact; OpenMemory gives the same API
// without touching the disk, for --ephemeral runs and tests.
package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// DBFile is the name of the bbolt database inside the state directory.
const DBFile = "state.db"

// pidFile records who holds the database, so a second xferhunt can name it.
const pidFile = "xferhunt.pid"

// lockTimeout bounds how long Open waits for another process's flock: a
// second instance should fail fast with a clear message, not hang.
const lockTimeout = time.Second

var (
	bucketTerms      = []byte("terms")
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
	dir string // "" for memory stores
	kv  backend
}

// Open opens (creating it when needed) the state directory dir with mode
// 0700, fixing looser permissions, and the bbolt database inside it. When
// another process holds the database, Open gives up after a second with an
// error wrapping ErrInUse that names that process's pid when known.
func Open(dir string) (*Store, error) {
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, DBFile)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, &InUseError{Dir: dir, PID: holderPID(dir)}
		}
		return nil, fmt.Errorf("open state db %s: %w", path, err)
	}
	// A database copied in or created by an older build may be readable by
	// others; bbolt only applies the mode when it creates the file.
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm() != 0o600 {
		if err := os.Chmod(path, 0o600); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("state db %s has mode %v and cannot be fixed to 0600: %w", path, fi.Mode().Perm(), err)
		}
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketTerms, bucketTriage, bucketExceptions, bucketEvidence} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("init state db %s: %w", path, err)
	}
	// Best effort: the pid only improves the "in use" message.
	_ = os.WriteFile(filepath.Join(dir, pidFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
	return &Store{dir: dir, kv: &boltBackend{db: db}}, nil
}

// OpenMemory returns a Store that keeps everything in memory and forgets it
// on Close (--ephemeral).
func OpenMemory() *Store {
	return &Store{kv: newMemBackend()}
}

// Dir returns the state directory, or "" for a memory store.
func (s *Store) Dir() string { return s.dir }

// Ephemeral reports whether the store lives in memory only.
func (s *Store) Ephemeral() bool { return s.dir == "" }

// Close releases the database. Callers flush their buffered history (for
// example detect.Engine.Flush) before closing.
func (s *Store) Close() error {
	if s.dir != "" {
		_ = os.Remove(filepath.Join(s.dir, pidFile))
	}
	if err := s.kv.close(); err != nil {
		return fmt.Errorf("close state db: %w", err)
	}
	return nil
}

func ensureDir(dir string) error {
	if dir == "" {
		return errors.New("state dir: empty path")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create state dir %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("state dir %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("state dir %s: not a directory", dir)
	}
	// Term history and exceptions tell an intruder what is watched: only
	// the owner may read them, even when the directory pre-existed.
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("state dir %s has mode %v and cannot be fixed to 0700: %w", dir, fi.Mode().Perm(), err)
		}
	}
	return nil
}

func holderPID(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, pidFile))
	if err != nil {
		return "unknown"
	}
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
		if err := s.LoadTerms(r, func(string, []int64) {}); err != nil {
			return err
		}
	}
	return nil
}
