package state

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/xferhunt/xferhunt/detect/newterms"
	"github.com/xferhunt/xferhunt/triage"
)

// FuzzDecodeTimes: a stored sighting list is either refused or decodes to
// times that encode back to a list decoding the same (records are read
// from a file another run, or a damaged disk, wrote).
//
//	go test -run '^$' -fuzz '^FuzzDecodeTimes$' -fuzztime 10s ./state
func FuzzDecodeTimes(f *testing.F) {
	f.Add(AppendTimes(nil, []int64{1700000000000, 1700000005000, 1700000005001}))
	f.Add(AppendTimes(nil, []int64{-3}))
	f.Add([]byte{termsFormat, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, in []byte) {
		times, err := DecodeTimes(in)
		if err != nil {
			return
		}
		again, err := DecodeTimes(AppendTimes(nil, times))
		if err != nil || !reflect.DeepEqual(again, times) {
			t.Fatalf("re-encoding %v gives %v, %v", times, again, err)
		}
	})
}

// FuzzOpen writes arbitrary bytes as state.db and opens it: Open returns a
// store or an error (ErrDamaged for a file that is no database, or
// ErrNewerFormat for a term history format above ours), never a
// panic or a fault; a store it returns can be read through. Seeds:
// testdata/fuzz/FuzzOpen (a real database, cut and torn).
//
//	go test -run '^$' -fuzz '^FuzzOpen$' -fuzztime 10s ./state
func FuzzOpen(f *testing.F) {
	// One directory per fuzzing process, the file rewritten for each
	// input: a directory per input cost more than Open itself (ext4
	// discards on rmdir here), so minimizing an input outlasted CI's
	// fuzz time.
	dir := filepath.Join(f.TempDir(), "st")
	if err := os.Mkdir(dir, 0o700); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, db []byte) {
		s := openFuzzed(t, dir, db)
		if s == nil {
			return
		}
		defer s.Close()
		if _, err := s.AllTriage(); err != nil {
			t.Logf("triage: %v", err)
		}
		if err := s.Check(); err != nil {
			t.Logf("check: %v", err)
		}
	})
}

// FuzzOpenUse writes arbitrary bytes as state.db and uses what Open
// accepts as a run does (triage, term history, a journal with retention),
// then closes and reopens it: no call may panic, fault or hang, and our
// writes must not damage a file Open accepted: it reopens, and passes
// Check again when it passed before. Seeds: a small real database (made
// here) and FuzzOpen's corpus shapes, in testdata/fuzz/FuzzOpenUse.
//
//	go test -run '^$' -fuzz '^FuzzOpenUse$' -fuzztime 10s ./state
func FuzzOpenUse(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "st")
	s, err := Open(dir)
	if err != nil {
		f.Fatal(err)
	}
	put := make([]newterms.Term, 40)
	for i := range put {
		put[i] = newterms.Term{Hash: uint64(i) * 0x9e3779b97f4a7c15, Times: []int64{1700000000000 + int64(i)}}
	}
	err = s.SaveTerms("rule", put, nil)
	if err == nil {
		err = s.SetTriage("a", Triage{Status: triage.StatusClosed})
	}
	if err == nil {
		_, err = s.Append(JournalAlerts, [][]byte{[]byte(`{"a":1}`), []byte(`{"b":2}`)}, Retention{})
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(filepath.Join(dir, DBFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, db []byte) {
		s := openFuzzed(t, dir, db)
		if s == nil {
			return
		}
		// Closed on every path: a store left open by a failing input
		// holds the file's lock, and every later input would fail on it
		// (minimizing then ends at any input, the real one lost).
		open := true
		defer func() {
			if open {
				s.Close()
			}
		}()
		checked := s.Check() == nil
		// Each call may fail on what the file holds; none may panic.
		_ = s.SetTriage("z", Triage{Status: triage.StatusOpen})
		_ = s.SaveTerms("rule", put[:3], []uint64{put[5].Hash})
		_, _ = s.Append(JournalAlerts, [][]byte{[]byte(`{"c":3}`)}, Retention{Records: 2})
		_, _ = s.AllTriage()
		_ = s.LoadTerms("rule", func(uint64, []int64) {})
		open = false
		if err := s.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		s, err := Open(dir)
		if err != nil {
			t.Fatalf("reopen after writing to a file Open accepted: %v", err)
		}
		open = true
		if err := s.Check(); checked && err != nil {
			t.Fatalf("check after writing to a file that passed it: %v", err)
		}
	})
}

// openFuzzed writes db as the state.db of dir and opens it; a refusal is
// nil, and must be ErrDamaged (ErrNewerFormat for a later format).
func openFuzzed(t *testing.T, dir string, db []byte) *Store {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, DBFile), db, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		if len(db) > 0 && !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrNewerFormat) {
			t.Fatalf("error for a bad file is not ErrDamaged: %v", err)
		}
		return nil
	}
	return s
}
