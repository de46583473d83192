package newterms

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"
)

// replacing is a fakeHistory that can replace a rule's whole history.
type replacing struct {
	*fakeHistory
	replaces int
	order    []uint64 // the hashes of the last replacement, in order
}

func (r *replacing) ReplaceTerms(rule string, n int, term func(int) (uint64, []int64)) error {
	if r.fail != nil {
		return r.fail
	}
	r.replaces++
	m := map[uint64][]int64{}
	r.order = r.order[:0]
	for i := range n {
		h, times := term(i)
		m[h] = slices.Clone(times)
		r.order = append(r.order, h)
	}
	r.data[rule] = m
	return nil
}

// TestSuspendThenReplace: while suspended the tracker writes nothing, and
// Resume writes more than FlushTuples changes as one replacement of the
// whole history, in ascending hash order, deletions included; a few
// changes stay a batch (SaveTerms).
func TestSuspendThenReplace(t *testing.T) {
	h := &replacing{fakeHistory: newFake()}
	h.data["r"] = map[uint64][]int64{h.hash("old"): {at(0).UnixMilli()}}
	tr := NewTracker(h, time.Hour)
	tr.FlushTuples = 100
	tr.Suspend()
	for i := range 1000 {
		tr.Record("r", []string{strconv.Itoa(i)}, at(2*time.Hour+time.Duration(i)*time.Millisecond).UnixMilli())
	}
	tr.Prune(at(2*time.Hour + time.Second)) // forgets "old"
	if h.saves != 0 || h.replaces != 0 {
		t.Fatalf("suspended, the tracker wrote %d batches and %d replacements", h.saves, h.replaces)
	}
	if err := tr.Resume(); err != nil {
		t.Fatal(err)
	}
	if h.saves != 0 || h.replaces != 1 || tr.Pending() != 0 {
		t.Fatalf("%d batches, %d replacements, %d pending; want one replacement", h.saves, h.replaces, tr.Pending())
	}
	if len(h.data["r"]) != 1000 || h.data["r"][h.hash("old")] != nil || !slices.IsSorted(h.order) {
		t.Fatalf("replaced by %d tuples (old one kept: %v, sorted: %v)", len(h.data["r"]), h.data["r"][h.hash("old")] != nil, slices.IsSorted(h.order))
	}
	if got := h.data["r"][h.hash("7")]; !slices.Equal(got, []int64{at(2*time.Hour + 7*time.Millisecond).UnixMilli()}) {
		t.Fatalf("tuple 7 stored as %v", got)
	}
	tr.Record("r", []string{"one more"}, at(3*time.Hour).UnixMilli())
	if err := tr.Flush(); err != nil {
		t.Fatal(err)
	}
	if h.saves != 1 || h.replaces != 1 || len(h.data["r"]) != 1001 {
		t.Fatalf("a small change: %d batches, %d replacements, %d stored", h.saves, h.replaces, len(h.data["r"]))
	}
}

// failingLoad is a replacing history whose load fails after its first
// tuple.
type failingLoad struct{ *replacing }

func (f failingLoad) LoadTerms(rule string, fn func(uint64, []int64)) error {
	for k, v := range f.data[rule] {
		fn(k, slices.Clone(v))
		break
	}
	return errors.New("torn sighting list")
}

// TestPartialLoadNeverReplaced: when the stored history loaded only in
// part, many changes are written as a batch, never as a replacement of the
// whole history by what memory holds, which would delete what did not
// load.
func TestPartialLoadNeverReplaced(t *testing.T) {
	h := &replacing{fakeHistory: newFake()}
	h.data["r"] = map[uint64][]int64{1: {at(0).UnixMilli()}, 2: {at(0).UnixMilli()}, 3: {at(0).UnixMilli()}}
	tr := NewTracker(failingLoad{h}, 240*time.Hour)
	tr.FlushTuples = 10
	tr.Suspend()
	for i := range 100 {
		tr.Record("r", []string{strconv.Itoa(i)}, at(time.Duration(i)*time.Second).UnixMilli())
	}
	if tr.Err() == nil {
		t.Fatal("the failed load was not reported")
	}
	if err := tr.Resume(); err != nil {
		t.Fatal(err)
	}
	if h.replaces != 0 || len(h.data["r"]) != 103 {
		t.Fatalf("%d replacements, %d tuples stored; want none and all 103", h.replaces, len(h.data["r"]))
	}
}

// TestSuspendHoldsFlushIfDue: FlushIfDue is an automatic flush too (a
// ticker's): while suspended it writes nothing however long ago the last
// flush was, and Resume writes the changes.
func TestSuspendHoldsFlushIfDue(t *testing.T) {
	h := &replacing{fakeHistory: newFake()}
	tr := NewTracker(h, time.Hour)
	now := at(0)
	tr.Clock = func() time.Time { return now }
	tr.Suspend()
	tr.Record("r", []string{"a"}, at(time.Minute).UnixMilli())
	now = now.Add(time.Hour)
	if err := tr.FlushIfDue(); err != nil {
		t.Fatal(err)
	}
	if h.saves != 0 || h.replaces != 0 {
		t.Fatalf("suspended, FlushIfDue wrote %d batches and %d replacements", h.saves, h.replaces)
	}
	if err := tr.Resume(); err != nil {
		t.Fatal(err)
	}
	if h.saves != 1 || len(h.data["r"]) != 1 {
		t.Fatalf("Resume: %d batches, %d tuples stored; want 1 and 1", h.saves, len(h.data["r"]))
	}
}
