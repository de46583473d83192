package newterms_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xferhunt/xferhunt/detect/newterms"
	"github.com/xferhunt/xferhunt/state"
)

// fullDisk mounts a small tmpfs, opens a real state store on it and fills
// the rest with a file, so the store's next growth fails with ENOSPC. The
// returned func frees the space again.
func fullDisk(t *testing.T) (*state.Store, func()) {
	t.Helper()
	mnt := t.TempDir()
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=8m,mode=0700"); err != nil {
		t.Skipf("mount tmpfs (needs root): %v", err)
	}
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
	st, err := state.Open(filepath.Join(mnt, "st"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, unix.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()
	return st, func() { os.Remove(filler) }
}

// counting passes every call through to the real store and counts the
// writes attempted.
type counting struct {
	*state.Store
	saves int
}

func (c *counting) SaveTerms(rule string, put []newterms.Term, del []uint64) error {
	c.saves++
	return c.Store.SaveTerms(rule, put, del)
}

// TestFullDiskBacksOff: on a full state disk the tracker tries one write,
// then none until the backoff ends, however many events arrive (before:
// every event past the 4096-tuple batch retried a write of every pending
// tuple — 16,000 attempts here); the failure is counted, and once space
// is back the next due flush stores everything.
func TestFullDiskBacksOff(t *testing.T) {
	st, free := fullDisk(t)
	h := &counting{Store: st}
	tr := newterms.NewTracker(h, 24*time.Hour)
	wall := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tr.Clock = func() time.Time { return wall }
	ev := wall.Add(-time.Hour)
	const n = 20000
	start := time.Now()
	for i := range n {
		tr.Observe("r", []string{fmt.Sprintf("/usr/bin/scp-%06d", i), "host"}, ev)
	}
	took := time.Since(start)
	if h.saves != 1 || tr.FlushFailures() != 1 || tr.Err() == nil {
		t.Fatalf("%d write attempts, %d counted failures, err %v; want one of each", h.saves, tr.FlushFailures(), tr.Err())
	}
	t.Logf("%d events on a full disk: %v, %d write attempts", n, took, h.saves)
	if err := tr.FlushIfDue(); err != nil || h.saves != 1 {
		t.Fatalf("FlushIfDue retried inside the backoff: %d attempts, err %v", h.saves, err)
	}
	free()
	wall = wall.Add(newterms.FirstRetry)
	if err := tr.FlushIfDue(); err != nil || tr.Pending() != 0 {
		t.Fatalf("after space came back: err %v, %d pending", err, tr.Pending())
	}
	stored := 0
	if err := st.LoadTerms("r", func(uint64, []int64) { stored++ }); err != nil || stored != n {
		t.Fatalf("stored %d tuples (err %v), want %d", stored, err, n)
	}
}
