package state

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/xferhunt/xferhunt/detect/newterms"
)

// writeV1 writes a state.db as xferhunt wrote term history before format
// 2: bucket "terms", one sub-bucket per rule, each tuple keyed by its text
// (newterms.Key) with a format-1 sighting list.
func writeV1(t *testing.T, dir string, rule string, terms map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, DBFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketTermsV1)
		if err != nil {
			return err
		}
		sub, err := b.CreateBucket([]byte(rule))
		if err != nil {
			return err
		}
		for k, v := range terms {
			if err := sub.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// v1Times is a format-1 sighting list (the encoding of format 2 under
// format byte 1).
func v1Times(times ...int64) []byte {
	b := AppendTimes(nil, times)
	b[0] = termsFormatV1
	return b
}

// TestMigratesTermsV1: a state.db whose term history keys tuples by their
// text (format 1) is rewritten on Open as format 2, each tuple under the
// keyed hash a tracker computes for it with the store's key, its times
// intact; the old bucket is gone and a second Open finds the same key and
// history.
func TestMigratesTermsV1(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "st")
	tuples := map[string][]int64{
		newterms.Key([]string{"/usr/lib/openssh/sftp-server", "host-1", "/home/a/x.pdf"}): {1700000000000, 1700000005000},
		newterms.Key([]string{"/usr/bin/scp", "host-2", "/srv/\x00odd\npath"}):            {-3},
	}
	v1 := map[string][]byte{}
	for k, times := range tuples {
		v1[k] = v1Times(times...)
	}
	writeV1(t, dir, "rule-a", v1)
	for round := range 2 {
		s, err := Open(dir)
		if err != nil {
			t.Fatalf("open %d: %v", round, err)
		}
		key, _ := s.TermsKey()
		want := map[uint64][]int64{}
		for k, times := range tuples {
			want[key.Hash([]byte(k))] = times
		}
		got := map[uint64][]int64{}
		if err := s.LoadTerms("rule-a", func(h uint64, v []int64) { got[h] = slices.Clone(v) }); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("open %d: migrated history %v, want %v", round, got, want)
		}
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
		old := false
		s.kv.(*boltBackend).db.View(func(tx *bolt.Tx) error {
			old = tx.Bucket(bucketTermsV1) != nil
			return nil
		})
		if old {
			t.Fatal("the format-1 bucket is still there after the migration")
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMigrationOfDamagedV1: a format-1 sighting list that does not decode
// makes Open fail with a *DamagedError (so --state-repair can set the
// file aside) and leaves the file as it was.
func TestMigrationOfDamagedV1(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "st")
	writeV1(t, dir, "r", map[string][]byte{newterms.Key([]string{"a"}): v1Times(5), newterms.Key([]string{"b"}): {termsFormatV1, 0x80}})
	before, _ := os.ReadFile(filepath.Join(dir, DBFile))
	_, err := Open(dir)
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "format 1") {
		t.Fatalf("Open = %v, want a damaged-state error naming the format-1 history", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, DBFile))
	db, err := bolt.Open(filepath.Join(dir, DBFile), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketTermsV1) == nil || tx.Bucket(bucketTerms) != nil {
			t.Errorf("a failed migration changed the database (%d → %d bytes)", len(before), len(after))
		}
		return nil
	})
}

// TestRefusesNewerTermsFormat: term history in a later format is refused
// with one line saying what to do, not read as garbage.
func TestRefusesNewerTermsFormat(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "st")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.kv.(*boltBackend).db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(metaTermsFormat, []byte("3"))
	})
	s.Close()
	_, err = Open(dir)
	if !errors.Is(err, ErrNewerFormat) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "newer xferhunt") {
		t.Fatalf("Open = %v, want ErrNewerFormat in one line", err)
	}
}
