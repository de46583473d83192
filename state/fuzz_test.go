package state

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
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
// store or an error (ErrDamaged for a file that is no database), never a
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
		if err := os.WriteFile(filepath.Join(dir, DBFile), db, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir)
		if err != nil {
			if len(db) > 0 && !errors.Is(err, ErrDamaged) {
				t.Fatalf("error for a bad file is not ErrDamaged: %v", err)
			}
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
