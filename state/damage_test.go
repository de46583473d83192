package state

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/xferhunt/xferhunt/detect/newterms"
	"github.com/xferhunt/xferhunt/internal/safefile"
	"github.com/xferhunt/xferhunt/triage"
)

// filledDB returns the bytes of a real state.db holding enough term
// history to span many pages.
func filledDB(t *testing.T) []byte {
	t.Helper()
	b := stateBytes(t, func(s *Store) error {
		var put []newterms.Term
		for i := range 3000 {
			put = append(put, newterms.Term{Hash: uint64(i) * 0x9e3779b97f4a7c15, Times: []int64{1700000000000 + int64(i), 1700000005000 + int64(i)}})
		}
		if err := s.SaveTerms("rule", put, nil); err != nil {
			return err
		}
		return s.SetTriage("a", Triage{Status: triage.StatusClosed})
	})
	if len(b) < 16*4096 {
		t.Fatalf("db only %d bytes; the cuts below need many pages", len(b))
	}
	return b
}

// TestOpenDamaged: a damaged state.db (the shapes a crash, a full disk or
// a hostile copy leave) is a *DamagedError with the one-line advice, never
// a panic or a SIGBUS (before: a file cut in half SIGBUSed, torn pages
// panicked in the freelist reader), and SetAside lets the next Open start
// fresh while keeping the old file.
func TestOpenDamaged(t *testing.T) {
	good := filledDB(t)
	page := 4096
	cases := map[string]func([]byte) []byte{
		"cut in half":        func(b []byte) []byte { return b[:len(b)/2] },
		"cut to three pages": func(b []byte) []byte { return b[:3*page] },
		"torn after the metas": func(b []byte) []byte {
			copy(b[2*page:], bytes.Repeat([]byte{0xAA}, len(b)-2*page))
			return b
		},
		"torn middle pages": func(b []byte) []byte {
			mid := len(b) / 2 / page * page
			copy(b[mid-4*page:mid], bytes.Repeat([]byte{0x5A}, 4*page))
			return b
		},
		"both metas zeroed": func(b []byte) []byte {
			clear(b[:2*page])
			return b
		},
		"garbage": func(b []byte) []byte {
			for i := range b {
				b[i] = byte(i*131 + i>>7)
			}
			return b
		},
	}
	for name, corrupt := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "st")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(dir, DBFile)
			bad := corrupt(append([]byte(nil), good...))
			if err := os.WriteFile(db, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(dir)
			if err == nil {
				// A tear bbolt can tolerate must still leave a store
				// that reads without crashing.
				cerr := s.Check()
				s.Close()
				t.Fatalf("damaged db opened (check: %v)", cerr)
			}
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("error %v does not match ErrDamaged", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "state is damaged: move it away (or --state-repair") || strings.Contains(msg, "\n") {
				t.Fatalf("message %q is not the one-line advice", msg)
			}
			moved, err := SetAside(dir)
			if err != nil {
				t.Fatal(err)
			}
			if kept, err := os.ReadFile(filepath.Join(dir, moved)); err != nil || !bytes.Equal(kept, bad) {
				t.Fatalf("set-aside file %s not kept as it was (err %v)", moved, err)
			}
			s, err = Open(dir)
			if err != nil {
				t.Fatalf("fresh start after SetAside: %v", err)
			}
			defer s.Close()
			if rules, err := s.TermRules(); err != nil || len(rules) != 0 {
				t.Fatalf("fresh store has term rules %v (err %v)", rules, err)
			}
		})
	}
}

// TestOpenIntactAfterVerify: the read-only check leaves a healthy database
// as it was and usable.
func TestOpenIntactAfterVerify(t *testing.T) {
	good := filledDB(t)
	dir := filepath.Join(t.TempDir(), "st")
	os.Mkdir(dir, 0o700)
	os.WriteFile(filepath.Join(dir, DBFile), good, 0o600)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	if err := s.LoadTerms("rule", func(uint64, []int64) { n++ }); err != nil || n != 3000 {
		t.Fatalf("loaded %d terms, err %v", n, err)
	}
}

// TestOpenRefusesCycles: bbolt follows page ids blindly, so a branch page
// that names itself (or two branches sharing a child) sent Open's walk
// round for ever (FuzzOpen found it: CI stopped at the fuzz deadline) and
// bbolt's Check would recurse until the stack limit killed the process.
// Each is damage, reported promptly.
func TestOpenRefusesCycles(t *testing.T) {
	good := filledDB(t)
	const page = 4096
	var branches []int // page ids of branch pages with two or more children
	for id := 2; (id+1)*page <= len(good); id++ {
		p := good[id*page:]
		if int(le.Uint64(p)) == id && le.Uint16(p[8:]) == branchPage && le.Uint16(p[10:]) >= 2 {
			branches = append(branches, id)
		}
	}
	if len(branches) == 0 {
		t.Fatal("filled db has no branch page to corrupt")
	}
	child := func(b []byte, id, i int) []byte { return b[id*page+pageHeaderSize+i*pageElemSize+8:] }
	cases := map[string]func([]byte){
		"branch names itself": func(b []byte) {
			le.PutUint64(child(b, branches[0], 0), uint64(branches[0]))
		},
		"branch children share a page": func(b []byte) {
			le.PutUint64(child(b, branches[0], 1), le.Uint64(child(b, branches[0], 0)))
		},
		"branch names a meta page": func(b []byte) {
			le.PutUint64(child(b, branches[0], 0), 1)
		},
	}
	for name, corrupt := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "st")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			bad := append([]byte(nil), good...)
			corrupt(bad)
			if err := os.WriteFile(filepath.Join(dir, DBFile), bad, 0o600); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				s, err := Open(dir)
				if err == nil {
					s.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, ErrDamaged) {
					t.Fatalf("Open: %v, want ErrDamaged", err)
				}
				t.Log(err)
			case <-time.After(20 * time.Second):
				t.Fatal("Open did not return in 20 s")
			}
		})
	}
}

// TestCheckPagesAcceptsBoltShapes: every shape bbolt writes passes the
// page check: nested and inline buckets, values on overflow pages, a tree
// with branch pages, a freelist with ids, a grown file, at the page size
// this host gives bbolt. A walk that refused one would call a healthy
// state damaged.
func TestCheckPagesAcceptsBoltShapes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, DBFile)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		top, err := tx.CreateBucket([]byte("top"))
		if err != nil {
			return err
		}
		for i := range 5000 { // branch pages
			if err := top.Put([]byte(strconv.Itoa(i)), bytes.Repeat([]byte{byte(i)}, 40)); err != nil {
				return err
			}
		}
		if err := top.Put([]byte("big"), bytes.Repeat([]byte("v"), 3*db.Info().PageSize)); err != nil { // overflow
			return err
		}
		inner := top
		for i := range 5 { // nested, the innermost ones inline
			if inner, err = inner.CreateBucket([]byte("nest" + strconv.Itoa(i))); err != nil {
				return err
			}
			if err := inner.Put([]byte("k"), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Free pages: delete half the keys in a later transaction.
	err = db.Update(func(tx *bolt.Tx) error {
		top := tx.Bucket([]byte("top"))
		for i := 0; i < 5000; i += 2 {
			if err := top.Delete([]byte(strconv.Itoa(i))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A third commit moves the second's pending pages to the free list.
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("top")).Put([]byte("x"), nil) }); err != nil {
		t.Fatal(err)
	}
	free := db.Stats().FreePageN + db.Stats().PendingPageN
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if free == 0 {
		t.Fatal("the deletes freed no page")
	}
	d, err := safefile.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := verify(d, path); err != nil {
		t.Fatalf("healthy bbolt file refused: %v", err)
	}
	// The same file with its overflow value's page count raised past the
	// end is refused.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ps := os.Getpagesize()
	for id := 2; (id+1)*ps <= len(b); id++ {
		p := b[id*ps:]
		if int(le.Uint64(p)) == id && le.Uint16(p[8:]) == leafPage && le.Uint32(p[12:]) > 0 {
			le.PutUint32(p[12:], uint32(len(b)/ps))
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := verify(d, path); !errors.Is(err, ErrDamaged) {
				t.Fatalf("overflow past the end: %v, want ErrDamaged", err)
			}
			return
		}
	}
	t.Fatal("no leaf page with overflow pages in the file")
}
