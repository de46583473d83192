package state

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/detect/newterms"
	"github.com/xferhunt/xferhunt/triage"
)

// both runs a test against a bbolt store and a memory store: they promise
// the same behaviour.
func both(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Run("bbolt", func(t *testing.T) {
		s, err := Open(filepath.Join(t.TempDir(), "st"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		fn(t, s)
	})
	t.Run("memory", func(t *testing.T) {
		s := OpenMemory()
		defer s.Close()
		fn(t, s)
	})
}

// TestOpenCreatesPrivateAndNeverChmodsOthers: a state dir Open creates is
// 0700; one that already exists and is ours is used as it is, since a
// mistaken --state /etc must not chmod /etc.
func TestOpenCreatesPrivateAndNeverChmodsOthers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("mode %v, err %v", fi.Mode().Perm(), err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o755 {
		t.Fatalf("mode of an existing state dir changed to %v", fi.Mode().Perm())
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o600)
	if _, err := Open(f); err == nil {
		t.Fatal("Open accepted a regular file as state dir")
	}
}

func TestTermsRoundTrip(t *testing.T) {
	both(t, func(t *testing.T, s *Store) {
		put := []newterms.Term{{Hash: 0xa, Times: []int64{1, 5, 1000000}}, {Hash: 0xb, Times: []int64{-3}}, {Hash: 1 << 63, Times: []int64{1700000000000, 1700000000001}}}
		if err := s.SaveTerms("rule1", put, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveTerms("rule1", []newterms.Term{{Hash: 0xd, Times: []int64{7}}}, []uint64{0xb}); err != nil {
			t.Fatal(err)
		}
		got := map[uint64][]int64{}
		if err := s.LoadTerms("rule1", func(h uint64, v []int64) { got[h] = slices.Clone(v) }); err != nil {
			t.Fatal(err)
		}
		want := map[uint64][]int64{0xa: {1, 5, 1000000}, 1 << 63: {1700000000000, 1700000000001}, 0xd: {7}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v want %v", got, want)
		}
		n := 0
		s.LoadTerms("rule2", func(uint64, []int64) { n++ })
		if n != 0 {
			t.Fatal("rules share history")
		}
		rules, err := s.TermRules()
		if err != nil || !reflect.DeepEqual(rules, []string{"rule1"}) {
			t.Fatalf("TermRules = %v, %v", rules, err)
		}
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRecords(t *testing.T) {
	both(t, func(t *testing.T, s *Store) {
		at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		if err := s.SetTriage("u1", Triage{Status: triage.StatusAcknowledged, At: at}); err != nil {
			t.Fatal(err)
		}
		tr, ok, err := s.Triage("u1")
		if err != nil || !ok || tr.Status != triage.StatusAcknowledged || !tr.At.Equal(at) {
			t.Fatalf("Triage = %+v %v %v", tr, ok, err)
		}
		if _, ok, _ := s.Triage("nope"); ok {
			t.Fatal("unknown uuid has triage")
		}
		all, _ := s.AllTriage()
		if len(all) != 1 {
			t.Fatalf("AllTriage = %v", all)
		}

		s.PutException("e2", []byte("two"))
		s.PutException("e1", []byte("one"))
		s.DeleteException("e2")
		s.PutException("e3", []byte("three"))
		items, err := s.Exceptions()
		if err != nil || len(items) != 2 || items[0].Key != "e1" || string(items[1].Data) != "three" {
			t.Fatalf("Exceptions = %+v %v", items, err)
		}

		if err := s.PutEvidence("u1", []byte(`{"x":1}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutEvidence("u2", []byte(`{bad`)); err == nil {
			t.Fatal("invalid JSON evidence accepted")
		}
		ev, err := s.Evidence("u1")
		if err != nil || string(ev) != `{"x":1}` {
			t.Fatalf("Evidence = %s %v", ev, err)
		}
		if ev, _ := s.Evidence("u2"); ev != nil {
			t.Fatal("rejected evidence stored")
		}
	})
}

func TestPersistsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.SaveTerms("r", []newterms.Term{{Hash: 42, Times: []int64{42}}}, nil)
	s.SetTriage("u", Triage{Status: triage.StatusClosed})
	s.PutException("e", []byte("x"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []int64
	key1, _ := s.TermsKey()
	s.LoadTerms("r", func(_ uint64, v []int64) { got = slices.Clone(v) })
	tr, ok, _ := s.Triage("u")
	ex, _ := s.Exceptions()
	if key2, _ := s.TermsKey(); key2 != key1 || key1 == (newterms.HashKey{}) {
		t.Fatalf("the term hash key changed on reopen (or is zero): %x, %x", key1, key2)
	}
	if !reflect.DeepEqual(got, []int64{42}) || !ok || tr.Status != triage.StatusClosed || len(ex) != 1 {
		t.Fatalf("after reopen: terms %v triage %+v %v exceptions %v", got, tr, ok, ex)
	}
}

func TestLockedByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd, _ := startChild(t, dir, "hold")
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	start := time.Now()
	_, err := Open(dir)
	if err == nil {
		t.Fatal("second Open succeeded while another process holds the db")
	}
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("err = %v, want ErrInUse", err)
	}
	want := fmt.Sprintf("state dir %s is in use by another xferhunt (pid %d)", dir, cmd.Process.Pid)
	if got := err.Error(); got != want {
		t.Fatalf("err = %q, want %q", got, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Open waited %v", d)
	}
}

// TestKill9MidWrite kills a child process with SIGKILL while it commits
// term batches as fast as it can, then checks the database opens, passes
// bbolt's consistency check, and holds every batch the child saw committed.
func TestKill9MidWrite(t *testing.T) {
	dir := t.TempDir()
	cmd, lines := startChild(t, dir, "write")
	committed := 0
	for committed < 40 {
		l, ok := <-lines
		if !ok {
			t.Fatalf("child exited early after %d batches", committed)
		}
		if n, err := strconv.Atoi(l); err == nil {
			committed = n
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	s, err := Open(dir)
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer s.Close()
	if err := s.Check(); err != nil {
		t.Fatalf("db inconsistent after kill -9: %v", err)
	}
	batches := map[int64]int{}
	err = s.LoadTerms("r", func(k uint64, v []int64) {
		if len(v) != 3 || v[1] != v[0]+1 || v[2] != v[0]+2 {
			t.Errorf("term %x torn: %v", k, v)
		}
		batches[v[0]]++
	})
	if err != nil {
		t.Fatal(err)
	}
	for b := int64(1); b <= int64(committed); b++ {
		if batches[b] != childBatch {
			t.Fatalf("batch %d: %d of %d terms survived (child reported %d committed)", b, batches[b], childBatch, committed)
		}
	}
	for b, n := range batches {
		if n != childBatch {
			t.Fatalf("batch %d partially written: %d terms", b, n)
		}
	}
}

const childBatch = 50

func startChild(t *testing.T, dir, mode string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildProcess$")
	cmd.Env = append(os.Environ(), "XFERHUNT_STATE_CHILD="+mode, "XFERHUNT_STATE_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	ready := make(chan struct{})
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		first := true
		for sc.Scan() {
			if first {
				close(ready)
				first = false
			}
			lines <- sc.Text()
		}
		if first {
			close(ready)
		}
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("child did not start")
	}
	return cmd, lines
}

// TestChildProcess is the body of the child processes above; it does
// nothing in a normal run.
func TestChildProcess(t *testing.T) {
	mode := os.Getenv("XFERHUNT_STATE_CHILD")
	if mode == "" {
		return
	}
	s, err := Open(os.Getenv("XFERHUNT_STATE_DIR"))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	switch mode {
	case "replace":
		// Replace the history with replaceNew, pausing after the third
		// committed batch (the parent kills it there) unless told to run
		// through.
		through := os.Getenv("XFERHUNT_STATE_THROUGH") != ""
		replaceHook = func(b int) {
			fmt.Println("batch", b)
			if b == 3 && !through {
				time.Sleep(time.Minute)
			}
		}
		if err := s.ReplaceTerms("r", replaceNew, func(i int) (uint64, []int64) { return newTerm(i) }); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("done")
	case "hold":
		fmt.Println("ready")
		time.Sleep(time.Minute)
	case "write":
		for b := int64(1); ; b++ {
			put := make([]newterms.Term, 0, childBatch)
			for i := range childBatch {
				put = append(put, newterms.Term{Hash: uint64(b)<<32 | uint64(i), Times: []int64{b, b + 1, b + 2}})
			}
			if err := s.SaveTerms("r", put, nil); err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
			fmt.Println(b)
		}
	}
	os.Exit(0)
}

func TestOpenFixesDBFileMode(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	os.Chmod(filepath.Join(dir, DBFile), 0o644)
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if fi, _ := os.Stat(filepath.Join(dir, DBFile)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("db mode %v", fi.Mode().Perm())
	}
}

// BenchmarkSaveTerms measures one flush of 4096 changed tuples (one bbolt
// transaction with fsync).
func BenchmarkSaveTerms(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	put := make([]newterms.Term, 0, 4096)
	for i := range 4096 {
		put = append(put, newterms.Term{Hash: uint64(i) * 0x9e3779b97f4a7c15, Times: []int64{1700000000000, 1700000000500, int64(1700000001000) + int64(i)}})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.SaveTerms("r", put, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOpenRefusesHostileStateDirs plays the attacks of issue 9 items 3 and
// 4 as root with what an unprivileged user can plant: a --state directory
// owned by that user (with the pid file linked to a root file), one that
// is group-writable, a symlink to a system directory and a symlinked
// intermediate component. Each is refused with one line naming the path,
// and nothing outside is written or chmod'ed.
func TestOpenRefusesHostileStateDirs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("plants directories owned by another uid: needs root")
	}
	tmp := t.TempDir()
	secret := filepath.Join(tmp, "secret")
	if err := os.WriteFile(secret, []byte("root only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	theirs := filepath.Join(tmp, "theirs")
	os.Mkdir(theirs, 0o700)
	if err := os.Symlink(secret, filepath.Join(theirs, pidFile)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(tmp, "shared")
	os.Mkdir(shared, 0o700)
	os.Chmod(shared, 0o770)
	etc := filepath.Join(tmp, "etc")
	os.Mkdir(etc, 0o755)
	os.Chmod(etc, 0o755)
	link := filepath.Join(tmp, "link")
	if err := os.Symlink(etc, link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ dir, want string }{
		{theirs, "owned by uid 65534"},
		{shared, "lets group or others write it"},
		{link, "symbolic link"},
		{filepath.Join(link, "xh"), "symbolic link"},
	} {
		s, err := Open(c.dir)
		if err == nil {
			s.Close()
			t.Fatalf("Open(%s) accepted", c.dir)
		}
		if msg := err.Error(); !strings.Contains(msg, c.want) || !strings.Contains(msg, c.dir) || strings.Contains(msg, "\n") {
			t.Fatalf("Open(%s): %q, want one line naming the path and %q", c.dir, msg, c.want)
		}
	}
	if b, _ := os.ReadFile(secret); string(b) != "root only\n" {
		t.Fatalf("root file overwritten through the pid file: %q", b)
	}
	fi, _ := os.Stat(etc)
	entries, _ := os.ReadDir(etc)
	if fi.Mode().Perm() != 0o755 || len(entries) != 0 {
		t.Fatalf("symlink target touched: mode %v, %d entries", fi.Mode().Perm(), len(entries))
	}
}
