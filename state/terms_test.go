package state

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
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

// The histories of the ReplaceTerms kill tests: replaceOld tuples before,
// replaceNew after (several batches), no hash in both.
const (
	replaceOld = 5000
	replaceNew = 5*replaceBatch + 123
)

func oldTerm(i int) (uint64, []int64) { return uint64(i)*2 + 1, []int64{int64(i), int64(i) + 7} }
func newTerm(i int) (uint64, []int64) { return uint64(i) * 2, []int64{int64(i) * 3} }

// history returns rule r's stored history of the store in dir.
func history(t *testing.T, dir string) map[uint64][]int64 {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	got := map[uint64][]int64{}
	if err := s.LoadTerms("r", func(h uint64, times []int64) { got[h] = slices.Clone(times) }); err != nil {
		t.Fatal(err)
	}
	bb := s.kv.(*boltBackend)
	_ = bb.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketTermsNext) != nil {
			t.Errorf("the cut-short replacement's bucket is still there after Open")
		}
		return nil
	})
	return got
}

// sameHistory reports whether got is exactly the n tuples term gives.
func sameHistory(got map[uint64][]int64, n int, term func(int) (uint64, []int64)) bool {
	if len(got) != n {
		return false
	}
	for i := range n {
		h, times := term(i)
		if !slices.Equal(got[h], times) {
			return false
		}
	}
	return true
}

// TestReplaceTermsKilled: a process killed (SIGKILL) while ReplaceTerms
// writes its batches leaves the old history whole — not the batches
// written so far beside it — and the next Open clears what it wrote; run
// to its end, the replacement leaves exactly the new history.
func TestReplaceTermsKilled(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	put := make([]newterms.Term, replaceOld)
	for i := range put {
		h, times := oldTerm(i)
		put[i] = newterms.Term{Hash: h, Times: times}
	}
	if err := s.SaveTerms("r", put, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()

	cmd, lines := startChild(t, dir, "replace")
	for l := range lines {
		if strings.HasPrefix(l, "error") || l == "done" {
			t.Fatalf("child: %s", l)
		}
		if l == "batch 3" {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if got := history(t, dir); !sameHistory(got, replaceOld, oldTerm) {
		t.Fatalf("after a kill mid-replacement: %d tuples, not the old history of %d", len(got), replaceOld)
	}

	t.Setenv("XFERHUNT_STATE_THROUGH", "1")
	cmd, lines = startChild(t, dir, "replace")
	last := ""
	for l := range lines {
		last = l
	}
	if err := cmd.Wait(); err != nil || last != "done" {
		t.Fatalf("child: %v, last line %q", err, last)
	}
	if got := history(t, dir); !sameHistory(got, replaceNew, newTerm) {
		t.Fatalf("after the replacement: %d tuples, not the new history of %d", len(got), replaceNew)
	}
}

// TestReplaceTermsMemory: a memory store's ReplaceTerms leaves exactly the
// new history too.
func TestReplaceTermsMemory(t *testing.T) {
	s := OpenMemory()
	defer s.Close()
	if err := s.SaveTerms("r", []newterms.Term{{Hash: 1, Times: []int64{5}}, {Hash: 2, Times: []int64{6}}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceTerms("r", 3, func(i int) (uint64, []int64) { return uint64(i + 2), []int64{int64(i)} }); err != nil {
		t.Fatal(err)
	}
	got := map[uint64][]int64{}
	_ = s.LoadTerms("r", func(h uint64, times []int64) { got[h] = slices.Clone(times) })
	if !reflect.DeepEqual(got, map[uint64][]int64{2: {0}, 3: {1}, 4: {2}}) {
		t.Fatalf("history %v", got)
	}
}

// TestReplaceTermsInterleaved: a Store's methods are safe for concurrent
// use, so a ReplaceTerms may run between the batches of another (two
// goroutines; here, deterministically, from replaceHook after the first
// batch): another rule's, or the same rule's. Each replacement builds
// apart and moves in whole: the other rule keeps its own new history, the
// same rule ends with the replacement that finished last, never a mix,
// and nothing is left staged. On the shared staging bucket the inner
// call's move deleted the outer call's batches and the outer's next batch
// dereferenced a nil bucket.
func TestReplaceTermsInterleaved(t *testing.T) {
	for _, inner := range []string{"other", "r"} {
		t.Run(inner, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			ran := false
			replaceHook = func(batches int) {
				if batches == 1 && !ran {
					ran = true
					if err := s.ReplaceTerms(inner, 10, oldTerm); err != nil {
						t.Errorf("inner ReplaceTerms: %v", err)
					}
				}
			}
			defer func() { replaceHook = nil }()
			err = s.ReplaceTerms("r", replaceNew, newTerm)
			replaceHook = nil
			if err != nil {
				t.Fatal(err)
			}
			if !ran {
				t.Fatal("the inner replacement did not run")
			}
			var other map[uint64][]int64
			if inner != "r" {
				other = map[uint64][]int64{}
				if err := s.LoadTerms(inner, func(h uint64, times []int64) { other[h] = slices.Clone(times) }); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			if got := history(t, dir); !sameHistory(got, replaceNew, newTerm) {
				t.Fatalf("rule r: %d tuples, not the outer replacement's %d", len(got), replaceNew)
			}
			if inner != "r" && !sameHistory(other, 10, oldTerm) {
				t.Fatalf("rule %s: %d tuples, not its own replacement's 10", inner, len(other))
			}
		})
	}
}

// TestReplaceTermsFailedLeavesNothing: a ReplaceTerms that fails after its
// batches (here its move: "key" names the term history's hash key, a
// value, not a rule's bucket) deletes what it staged at once instead of
// leaving a history's worth of pages in the file until the next Open.
func TestReplaceTermsFailedLeavesNothing(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.ReplaceTerms(string(termsKeyName), 10, newTerm); err == nil {
		t.Fatal("ReplaceTerms over the hash key's name succeeded")
	}
	_ = s.kv.(*boltBackend).db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketTermsNext) != nil {
			t.Errorf("the failed replacement's batches are still staged")
		}
		return nil
	})
}
