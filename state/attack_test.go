package state

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/xferhunt/xferhunt/detect/newterms"
	"github.com/xferhunt/xferhunt/triage"
)

// wantDamaged opens the state in dir and uses it as a run does: Open
// must refuse it as damage (what the use then did is in the message).
func wantDamaged(t *testing.T, dir string) {
	t.Helper()
	openErr, useErr := openAndUse(t, dir)
	if !errors.Is(openErr, ErrDamaged) {
		t.Fatalf("Open: %v (then: %v), want ErrDamaged", openErr, useErr)
	}
	t.Log(openErr)
}

// openAndUse opens dir and uses the store as a run does (triage, term
// history, Check, Close, a second Open), on another goroutine bounded in
// time: a hang fails the test instead of stalling it, and a panic on that
// goroutine is returned as an error instead of killing the test binary.
// It returns Open's error, or the first error of a later call.
func openAndUse(t *testing.T, dir string) (openErr, useErr error) {
	t.Helper()
	type result struct{ open, use error }
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if v := recover(); v != nil {
				r.use = fmt.Errorf("panic: %v", v)
			}
			done <- r
		}()
		s, err := Open(dir)
		if err != nil {
			r.open = err
			return
		}
		steps := []func() error{
			func() error { return s.SetTriage("b", Triage{Status: triage.StatusAcknowledged}) },
			func() error {
				put := make([]newterms.Term, 200)
				for i := range put {
					put[i] = newterms.Term{Hash: uint64(i) << 40, Times: []int64{int64(i)}}
				}
				return s.SaveTerms("rule2", put, nil)
			},
			func() error { _, err := s.AllTriage(); return err },
			s.Check,
			s.Close,
			func() error {
				s, err := Open(dir)
				if err != nil {
					return fmt.Errorf("reopen: %w", err)
				}
				defer s.Close()
				return s.Check()
			},
		}
		for _, step := range steps {
			if err := step(); err != nil {
				r.use = err
				return
			}
		}
	}()
	select {
	case r := <-done:
		return r.open, r.use
	case <-time.After(20 * time.Second):
		t.Fatal("Open and use did not return in 20 s")
	}
	return nil, nil
}

// writeState writes db as the state.db of a new state directory.
func writeState(t *testing.T, db []byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "st")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, DBFile), db, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// changedState returns a new state directory made by Open and then
// changed by change in one raw bbolt transaction, as a hostile writer
// (or another program) would.
func changedState(t *testing.T, change func(tx *bolt.Tx) error) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "st")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, DBFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(change)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// boltWithFreelist returns a bbolt file (pages of the OS page size) with
// a value on overflow pages and free pages on its freelist, and the ids of
// the freelist page and of the overflowing leaf.
func boltWithFreelist(t *testing.T) (b []byte, freelist, leaf uint64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), DBFile)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps := db.Info().PageSize
	err = db.Update(func(tx *bolt.Tx) error {
		top, err := tx.CreateBucket([]byte("top"))
		if err != nil {
			return err
		}
		for i := range 500 {
			if err := top.Put([]byte(strconv.Itoa(i)), bytes.Repeat([]byte{1}, 40)); err != nil {
				return err
			}
		}
		return top.Put([]byte("big"), bytes.Repeat([]byte("v"), 3*ps))
	})
	for i := 0; err == nil && i < 3; i++ {
		err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("top")).Delete([]byte(strconv.Itoa(i))) })
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	m := liveMeta(b, ps)
	freelist = le.Uint64(m[metaFreelist:])
	for id := 2; (id+1)*ps <= len(b); id++ {
		p := b[id*ps:]
		if int(le.Uint64(p)) == id && le.Uint16(p[8:]) == leafPage && le.Uint32(p[12:]) > 0 {
			return b, freelist, uint64(id)
		}
	}
	t.Fatal("no leaf page with overflow pages")
	return
}

// liveMeta returns the meta page bbolt uses (the valid one of the higher
// transaction) of file b.
func liveMeta(b []byte, ps int) []byte {
	m0, m1 := b[:ps], b[ps:2*ps]
	if le.Uint64(m1[metaTxid:]) > le.Uint64(m0[metaTxid:]) {
		return m1
	}
	return m0
}

// sumMeta sets meta page m's checksum.
func sumMeta(m []byte) {
	h := fnv.New64a()
	h.Write(m[pageHeaderSize:metaChecksum])
	le.PutUint64(m[metaChecksum:], h.Sum64())
}

// addFree adds page ids to the freelist page fl of file b (in order, as
// bbolt writes them).
func addFree(t *testing.T, b []byte, ps int, fl uint64, ids ...uint64) {
	t.Helper()
	p := b[int(fl)*ps : int(fl+1)*ps]
	n := int(le.Uint16(p[10:]))
	if n == 0xFFFF || pageHeaderSize+8*(n+len(ids)) > ps {
		t.Fatalf("freelist of %d ids has no room", n)
	}
	all := ids
	for i := range n {
		all = append(all, le.Uint64(p[pageHeaderSize+8*i:]))
	}
	slices.Sort(all)
	for i, id := range all {
		le.PutUint64(p[pageHeaderSize+8*i:], id)
	}
	le.PutUint16(p[10:], uint16(len(all)))
}

// TestOpenRefusesFreedLivePages: a freelist that names a page in use is
// damage. bbolt's Check sees it only for the first page of a tree page:
// a freed overflow page of a value, or the freelist's own page, passed
// verify, and the read-write open then handed that page out again: the
// commit that frees the old freelist page panics ("page N already freed",
// unrecovered, in Open's first transaction), and an overflow page given to
// a new node overwrites a stored value.
func TestOpenRefusesFreedLivePages(t *testing.T) {
	ps := os.Getpagesize()
	cases := map[string]func(t *testing.T) []byte{
		"the freelist's own page": func(t *testing.T) []byte {
			b, fl, _ := boltWithFreelist(t)
			addFree(t, b, ps, fl, fl)
			return b
		},
		"an overflow page of a value": func(t *testing.T) []byte {
			b, fl, leaf := boltWithFreelist(t)
			addFree(t, b, ps, fl, leaf+1)
			return b
		},
		"a page twice": func(t *testing.T) []byte {
			b, fl, _ := boltWithFreelist(t)
			p := b[int(fl)*ps:]
			if le.Uint16(p[10:]) == 0 {
				t.Fatal("empty freelist")
			}
			addFree(t, b, ps, fl, le.Uint64(p[pageHeaderSize:]))
			return b
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			wantDamaged(t, writeState(t, build(t)))
		})
	}
}

// TestOpenRefusesMetaPageSize: the meta page bbolt uses must state the
// page size bbolt reads the file with. bbolt takes the size from meta page
// 0 but copies the live meta (here page 1, stating another size) into
// every commit, so the first write made page 0 state the other size and
// the next Open read the whole file at the wrong offsets.
func TestOpenRefusesMetaPageSize(t *testing.T) {
	b := filledDB(t)
	ps := os.Getpagesize()
	m := liveMeta(b, ps)
	m1 := b[ps : 2*ps]
	copy(m1, m)
	le.PutUint64(m1, 1)
	le.PutUint64(m1[metaTxid:], le.Uint64(m[metaTxid:])+1)
	le.PutUint32(m1[pageHeaderSize+8:], uint32(2*ps))
	sumMeta(m1)
	wantDamaged(t, writeState(t, b))
}

// TestJournalRefusesGaps: a journal's keys are consecutive record numbers
// (Append adds at the end, deletes from the front). A file whose journal
// holds records 0 and 2^40 made its length 2^40+1, and the first Append
// with a retention then deleted the missing records one by one, for hours;
// a last record numbered 2^64-1 made the next number wrap to 0, ahead of
// all others. Each is damage, reported by the first call that reads the
// journal.
func TestJournalRefusesGaps(t *testing.T) {
	cases := map[string][]uint64{
		"a gap":              {0, 1 << 40},
		"the last number":    {1<<64 - 2, 1<<64 - 1},
		"one record, at end": {1<<64 - 1},
	}
	for name, keys := range cases {
		t.Run(name, func(t *testing.T) {
			dir := changedState(t, func(tx *bolt.Tx) error {
				for _, k := range keys {
					if err := tx.Bucket([]byte(JournalAlerts)).Put([]byte(journalKey(k)), []byte("{}")); err != nil {
						return err
					}
				}
				return nil
			})
			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			// Closed only when both calls returned: Close waits for a
			// hung Append's transaction.
			type result struct {
				n   int
				err error
			}
			done := make(chan result, 2)
			go func() {
				n, err := s.JournalLen(JournalAlerts)
				done <- result{n, err}
				_, err = s.Append(JournalAlerts, [][]byte{[]byte("{}")}, Retention{Records: 10})
				done <- result{-1, err}
			}()
			var bad []string
			for range 2 {
				select {
				case r := <-done:
					if !errors.Is(r.err, ErrDamaged) {
						bad = append(bad, fmt.Sprintf("got %d, %v; want ErrDamaged", r.n, r.err))
					}
					t.Log(r.err)
				case <-time.After(20 * time.Second):
					t.Fatalf("Append did not return in 20 s (%v)", bad)
				}
			}
			s.Close()
			if bad != nil {
				t.Fatal(bad)
			}
		})
	}
}

// TestOpenRefusesWrongKinds: a value where the schema has a bucket, or a
// bucket where it has a value, in the records Open writes is damage, not a
// bare bbolt "incompatible value" the user cannot act on; so is a term
// history format that is no format (it asked for a newer xferhunt, or
// below 1 was taken as the current one).
func TestOpenRefusesWrongKinds(t *testing.T) {
	cases := map[string]func(tx *bolt.Tx) error{
		"terms format is a bucket": func(tx *bolt.Tx) error {
			m := tx.Bucket(bucketMeta)
			if err := m.Delete(metaTermsFormat); err != nil {
				return err
			}
			_, err := m.CreateBucket(metaTermsFormat)
			return err
		},
		"terms format is no number": func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(metaTermsFormat, []byte("\x00x"))
		},
		"terms format is below 1": func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(metaTermsFormat, []byte("-7"))
		},
		"terms key is a bucket": func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketTerms)
			if err := b.Delete(termsKeyName); err != nil {
				return err
			}
			_, err := b.CreateBucket(termsKeyName)
			return err
		},
		"a format-1 rule is a value in format 2": func(tx *bolt.Tx) error {
			old, err := tx.CreateBucket(bucketTermsV1)
			if err != nil {
				return err
			}
			if _, err := old.CreateBucket([]byte("r")); err != nil {
				return err
			}
			return tx.Bucket(bucketTerms).Put([]byte("r"), []byte("x"))
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			wantDamaged(t, changedState(t, change))
		})
	}
}

// TestOpenRefusesHugePages: a page size no system gives bbolt is damage.
// A meta page stating 64 MiB pages (the file sparse) had verify allocate a
// page-sized buffer and the read-write open allocate and write one per
// page it commits; at the 4 GiB a meta page can state, gigabytes each.
func TestOpenRefusesHugePages(t *testing.T) {
	const ps = 64 << 20
	dir := filepath.Join(t.TempDir(), "st")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, DBFile), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	// Two meta pages (transactions 0 and 1), an empty freelist (page 2)
	// and an empty root leaf (page 3), as bbolt initialises a file.
	for id := range uint64(2) {
		m := make([]byte, pageHeaderSize+64)
		le.PutUint64(m, id)
		le.PutUint16(m[8:], metaPage)
		le.PutUint32(m[metaMagic:], boltMagic)
		le.PutUint32(m[metaVersion:], boltVersion)
		le.PutUint32(m[metaPageSize:], ps)
		le.PutUint64(m[metaRoot:], 3)
		le.PutUint64(m[metaFreelist:], 2)
		le.PutUint64(m[metaPgid:], 4)
		le.PutUint64(m[metaTxid:], id)
		sumMeta(m)
		if _, err := f.WriteAt(m, int64(id)*ps); err != nil {
			t.Fatal(err)
		}
	}
	for id, flags := range map[uint64]uint16{2: freelistPage, 3: leafPage} {
		h := make([]byte, pageHeaderSize)
		le.PutUint64(h, id)
		le.PutUint16(h[8:], flags)
		if _, err := f.WriteAt(h, int64(id)*ps); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Truncate(4 * ps); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s, err := Open(dir)
	runtime.ReadMemStats(&after)
	if err == nil {
		s.Close()
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; !errors.Is(err, ErrDamaged) || alloc > 16<<20 {
		t.Fatalf("Open allocated %d MiB: %v, want ErrDamaged", alloc>>20, err)
	}
	t.Log(err)
}

// stateBytes returns the bytes of a state.db made by Open and fill.
func stateBytes(t *testing.T, fill func(s *Store) error) []byte {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	err = fill(s)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// smallState returns the bytes of a state.db whose triage bucket is
// inline (two records, "a" and "b") in the root leaf page.
func smallState(t *testing.T) []byte {
	t.Helper()
	return stateBytes(t, func(s *Store) error {
		for _, k := range []string{"a", "b"} {
			if err := s.SetTriage(k, Triage{Status: triage.StatusClosed}); err != nil {
				return err
			}
		}
		return nil
	})
}

// inlineBucket returns the inline page of top-level bucket name in b.
func inlineBucket(t *testing.T, b []byte, name string) []byte {
	t.Helper()
	ps := os.Getpagesize()
	m := liveMeta(b, ps)
	root := le.Uint64(m[metaRoot:])
	p := b[int(root)*ps : int(root+1)*ps]
	if le.Uint16(p[8:]) != leafPage {
		t.Fatalf("root page %d is not a leaf", root)
	}
	for i := range int(le.Uint16(p[10:])) {
		at := pageHeaderSize + i*pageElemSize
		e := p[at:]
		pos, ks, vs := int(le.Uint32(e[4:])), int(le.Uint32(e[8:])), int(le.Uint32(e[12:]))
		if string(p[at+pos:at+pos+ks]) == name {
			v := p[at+pos+ks : at+pos+ks+vs]
			if le.Uint64(v) != 0 {
				t.Fatalf("bucket %s is not inline", name)
			}
			return v[bucketHead:]
		}
	}
	t.Fatalf("no bucket %s", name)
	return nil
}

// TestOpenRefusesUnsortedInlineKeys: bbolt's Check skips inline buckets,
// and its cursor finds keys by binary search, so an inline bucket whose
// keys were out of order (or a key twice) passed verify, and then a
// SetTriage of a key got a second copy while AllTriage kept reading the
// old value: the change silently lost, Check passing.
func TestOpenRefusesUnsortedInlineKeys(t *testing.T) {
	for name, keys := range map[string]string{"swapped": "ba", "twice": "aa"} {
		t.Run(name, func(t *testing.T) {
			b := smallState(t)
			ip := inlineBucket(t, b, "triage")
			if le.Uint16(ip[10:]) != 2 {
				t.Fatalf("triage holds %d records, want 2", le.Uint16(ip[10:]))
			}
			for i := range 2 {
				e := ip[pageHeaderSize+i*pageElemSize:]
				if le.Uint32(e[8:]) != 1 {
					t.Fatal("triage keys are not one byte")
				}
				e[le.Uint32(e[4:])] = keys[i]
			}
			wantDamaged(t, writeState(t, b))
		})
	}
}

// TestOpenRefusesWrappingTxid: bbolt takes the meta page of the higher
// transaction id as the live one, so a file at transaction 2^64-2 opened
// (its first commit is 2^64-1), then a SetTriage committed as
// transaction 0 and was ignored: AllTriage and the next Open lacked it,
// and Check found freed pages reachable.
func TestOpenRefusesWrappingTxid(t *testing.T) {
	b := smallState(t)
	m := liveMeta(b, os.Getpagesize())
	le.PutUint64(m[metaTxid:], 1<<64-2)
	sumMeta(m)
	wantDamaged(t, writeState(t, b))
}

// TestLoadTermsRefusesHugeSightingLists: a stored sighting list is a few
// dozen bytes (the tracker keeps MaxSightings times); one of 4 MB of
// one-byte gaps decoded to 4M times, 8 bytes of memory per byte of file
// (a 300 MB file: gigabytes). LoadTerms refuses it without decoding.
func TestLoadTermsRefusesHugeSightingLists(t *testing.T) {
	huge := append([]byte{termsFormat, 2}, bytes.Repeat([]byte{1}, 4<<20)...)
	dir := changedState(t, func(tx *bolt.Tx) error {
		rule, err := tx.Bucket(bucketTerms).CreateBucket([]byte("rule"))
		if err != nil {
			return err
		}
		if err := rule.Put([]byte{0, 0, 0, 0, 0, 0, 0, 1}, AppendTimes(nil, []int64{5})); err != nil {
			return err
		}
		return rule.Put([]byte{0, 0, 0, 0, 0, 0, 0, 2}, huge)
	})
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	n := 0
	err = s.LoadTerms("rule", func(uint64, []int64) { n++ })
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; err == nil || alloc > 4<<20 {
		t.Fatalf("LoadTerms allocated %d MiB for %d terms: %v, want an error", alloc>>20, n, err)
	}
	t.Log(err)
}

// TestOpenUsesOtherBoltShapes: what bbolt writes on other systems or with
// other options is no damage: page sizes from 1 KiB to 64 KiB (a state
// dir copied from a host of another page size), and a file without a
// freelist page (NoFreelistSync, which bbolt rebuilds by scanning). Each
// opens, takes a run's writes, reopens and passes Check.
func TestOpenUsesOtherBoltShapes(t *testing.T) {
	for _, opt := range []bolt.Options{{PageSize: 1024}, {PageSize: 2048}, {PageSize: 16384}, {PageSize: 65536}, {NoFreelistSync: true}} {
		t.Run(fmt.Sprintf("pages %d, no freelist %v", opt.PageSize, opt.NoFreelistSync), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "st")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			db, err := bolt.Open(filepath.Join(dir, DBFile), 0o600, &opt)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket(bucketExceptions)
				if err != nil {
					return err
				}
				for i := range 300 { // several pages, some freed by the next
					if err := b.Put([]byte(strconv.Itoa(i)), bytes.Repeat([]byte{'x'}, 100)); err != nil {
						return err
					}
				}
				return nil
			})
			if err == nil {
				err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketExceptions).Delete([]byte("7")) })
			}
			if cerr := db.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			openErr, useErr := openAndUse(t, dir)
			if openErr != nil || useErr != nil {
				t.Fatalf("Open: %v, then: %v", openErr, useErr)
			}
		})
	}
}

// TestOpenRefusesEmptyKeys: bbolt never writes an empty key, reads one
// (verify and Check passed it), and asserts on it when a write loads its
// page: SaveTerms or SetTriage panicked ("read: zero-length inode key",
// unrecovered; FuzzOpenUse found it). An inline bucket's passed; a page's
// first key was refused already by Check (below its parent's key), now
// by checkPages.
func TestOpenRefusesEmptyKeys(t *testing.T) {
	cases := map[string]func(t *testing.T) []byte{
		"inline bucket": func(t *testing.T) []byte {
			b := smallState(t)
			le.PutUint32(inlineBucket(t, b, "triage")[pageHeaderSize+8:], 0)
			return b
		},
		"leaf page": func(t *testing.T) []byte {
			b := filledDB(t)
			ps := os.Getpagesize()
			for id := 2; (id+1)*ps <= len(b); id++ {
				p := b[id*ps:]
				if int(le.Uint64(p)) == id && le.Uint16(p[8:]) == leafPage && le.Uint16(p[10:]) > 1 && le.Uint32(p[pageHeaderSize+8:]) == 8 {
					le.PutUint32(p[pageHeaderSize+8:], 0) // a term's key
					return b
				}
			}
			t.Fatal("no leaf page of terms")
			return nil
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			wantDamaged(t, writeState(t, build(t)))
		})
	}
}

// TestOpenRefusesOneChildBranch: bbolt writes no branch page of one child
// (a split leaves two keys or more a page, a root of one child is
// collapsed) and asserts on one when a delete shrinks the child: a branch
// cut to its first child, the others freed, passed verify, and the
// SaveTerms that deleted that rule's tuples panicked unrecovered ("parent
// must have at least 2 children"). Deletes as heavy as bbolt's own
// rebalancing sees leave no such page (the second half).
func TestOpenRefusesOneChildBranch(t *testing.T) {
	b := filledDB(t)
	ps := os.Getpagesize()
	br := 0
	for id := 2; (id+1)*ps <= len(b); id++ {
		p := b[id*ps:]
		if int(le.Uint64(p)) == id && le.Uint16(p[8:]) == branchPage && le.Uint16(p[10:]) >= 2 {
			br = id
		}
	}
	if br == 0 {
		t.Fatal("filled db has no branch page")
	}
	p := b[br*ps:]
	var orphans []uint64
	for i := 1; i < int(le.Uint16(p[10:])); i++ {
		c := le.Uint64(p[pageHeaderSize+i*pageElemSize+8:])
		for o := range uint64(le.Uint32(b[int(c)*ps+12:])) + 1 {
			orphans = append(orphans, c+o)
		}
	}
	le.PutUint16(p[10:], 1)
	addFree(t, b, ps, le.Uint64(liveMeta(b, ps)[metaFreelist:]), orphans...)
	dir := writeState(t, b)
	done := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- fmt.Errorf("panic: %v", v)
			}
		}()
		s, err := Open(dir)
		if err != nil {
			done <- err
			return
		}
		defer s.Close()
		var del []uint64
		if err := s.LoadTerms("rule", func(h uint64, _ []int64) { del = append(del, h) }); err != nil || len(del) < 2 {
			done <- fmt.Errorf("load: %d terms, %v", len(del), err)
			return
		}
		done <- fmt.Errorf("opened; deleting %d tuples: %v", len(del)-1, s.SaveTerms("rule", nil, del[1:]))
	}()
	if err := <-done; !errors.Is(err, ErrDamaged) {
		t.Fatalf("%v, want ErrDamaged", err)
	} else {
		t.Log(err)
	}

	// bbolt's own deletes, heavy and in many transactions, pass.
	path := filepath.Join(t.TempDir(), DBFile)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := func(i int) []byte { return []byte(fmt.Sprintf("%08d", i*7919%20000)) }
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("b"))
		for i := 0; err == nil && i < 20000; i++ {
			err = b.Put(key(i), []byte("value"))
		}
		return err
	})
	for round := 0; err == nil && round < 10; round++ {
		err = db.Update(func(tx *bolt.Tx) error {
			for i := round; i < 20000; i += 11 {
				if err := tx.Bucket([]byte("b")).Delete(key(i)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	raw, _ := os.ReadFile(path)
	m := liveMeta(raw, ps)
	if err := checkPages(f, fi.Size(), ps, le.Uint64(m[metaTxid:]), le.Uint64(m[metaPgid:])); err != nil {
		t.Fatalf("bbolt's deletes refused: %v", err)
	}
}

// TestOpenRefusesBranchKeyMismatch: bbolt finds a child in its parent by
// the child's first key when a write moves or drops it. A leaf below a
// branch emptied, or whose first key was raised above its branch key
// (bbolt's Check only wants it no smaller), passed verify; the write that
// then dropped or moved it left the parent's entry behind while the page
// was freed, and a later write freed it again: a panic ("page N already
// freed", unrecovered) in SaveTerms. structured mutation of filledDB
// found the first (one byte: a page's count).
func TestOpenRefusesBranchKeyMismatch(t *testing.T) {
	ps := os.Getpagesize()
	secondChild := func(t *testing.T, b []byte) []byte {
		for id := 2; (id+1)*ps <= len(b); id++ {
			p := b[id*ps:]
			if int(le.Uint64(p)) == id && le.Uint16(p[8:]) == branchPage && le.Uint16(p[10:]) >= 3 {
				c := le.Uint64(p[pageHeaderSize+pageElemSize+8:])
				return b[int(c)*ps : int(c+1)*ps]
			}
		}
		t.Fatal("no branch page of three children")
		return nil
	}
	cases := map[string]func(c []byte){
		"child emptied": func(c []byte) { le.PutUint16(c[10:], 0) },
		"child's first key raised": func(c []byte) {
			e := c[pageHeaderSize:]
			k := c[pageHeaderSize+le.Uint32(e[4:]):]
			k[le.Uint32(e[8:])-1]++ // still below the child's second key
		},
	}
	for name, corrupt := range cases {
		t.Run(name, func(t *testing.T) {
			b := filledDB(t)
			corrupt(secondChild(t, b))
			wantDamaged(t, writeState(t, b))
		})
	}
}
