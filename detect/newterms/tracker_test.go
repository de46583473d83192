package newterms

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// fakeHistory counts writes and can fail them.
type fakeHistory struct {
	key   HashKey
	data  map[string]map[uint64][]int64
	saves int
	fail  error
}

func newFake() *fakeHistory {
	return &fakeHistory{key: NewHashKey(), data: map[string]map[uint64][]int64{}}
}

// hash is the hash a tracker on f keeps tuple under.
func (f *fakeHistory) hash(tuple ...string) uint64 { return f.key.Hash([]byte(Key(tuple))) }

func (f *fakeHistory) TermsKey() (HashKey, error) { return f.key, nil }

func (f *fakeHistory) LoadTerms(rule string, fn func(uint64, []int64)) error {
	for k, v := range f.data[rule] {
		fn(k, append([]int64(nil), v...))
	}
	return nil
}

func (f *fakeHistory) SaveTerms(rule string, put []Term, del []uint64) error {
	if f.fail != nil {
		return f.fail
	}
	f.saves++
	m := f.data[rule]
	if m == nil {
		m = map[uint64][]int64{}
		f.data[rule] = m
	}
	for _, k := range del {
		delete(m, k)
	}
	for _, p := range put {
		m[p.Hash] = append([]int64(nil), p.Times...)
	}
	return nil
}

func TestObserveWindow(t *testing.T) {
	const W = 10 * time.Second
	tup := []string{"/usr/bin/scp", "host-1"}
	type obs struct {
		at       time.Duration
		wantNew  bool
		wantLast time.Duration // -1 = never
	}
	cases := []struct {
		name string
		seq  []obs
	}{
		{"first sighting is new", []obs{{0, true, -1}}},
		{"seen inside window", []obs{{0, true, -1}, {5 * time.Second, false, 0}}},
		{"exactly t-W counts as seen", []obs{{0, true, -1}, {W, false, 0}}},
		{"t-W-1ms does not", []obs{{0, true, -1}, {W + time.Millisecond, true, 0}}},
		{"refresh keeps it known", []obs{{0, true, -1}, {8 * time.Second, false, 0}, {16 * time.Second, false, 8 * time.Second}, {27 * time.Second, true, 16 * time.Second}}},
		{"duplicate delivery at same t", []obs{{0, true, -1}, {0, false, -1}}},
		{"duplicate after a gap", []obs{{0, true, -1}, {30 * time.Second, true, 0}, {30 * time.Second, false, 0}}},
		{"late event inside an earlier sighting's window", []obs{{0, true, -1}, {20 * time.Second, true, 0}, {15 * time.Second, false, 0}}},
		{"late event covered by a later sighting", []obs{{100 * time.Second, true, -1}, {95 * time.Second, false, -1}}},
		{"late event far before a later sighting", []obs{{100 * time.Second, true, -1}, {80 * time.Second, true, -1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := NewTracker(nil, W)
			for i, o := range c.seq {
				gotNew, gotLast := tr.Observe("r", tup, at(o.at))
				var wantLast time.Time
				if o.wantLast >= 0 {
					wantLast = at(o.wantLast)
				}
				if gotNew != o.wantNew || !gotLast.Equal(wantLast) {
					t.Fatalf("step %d at %v: got new=%v last=%v, want new=%v last=%v", i, o.at, gotNew, gotLast, o.wantNew, wantLast)
				}
			}
		})
	}
}

func TestTuplesAreIndependent(t *testing.T) {
	tr := NewTracker(nil, time.Hour)
	if n, _ := tr.Observe("r", []string{"a", "h"}, at(0)); !n {
		t.Fatal("first tuple not new")
	}
	if n, _ := tr.Observe("r", []string{"b", "h"}, at(time.Second)); !n {
		t.Fatal("second tuple not new")
	}
	if n, _ := tr.Observe("other", []string{"a", "h"}, at(2*time.Second)); !n {
		t.Fatal("same tuple under another rule not new")
	}
	// Length-prefixed keys: ("ab","c") and ("a","bc") differ.
	if n, _ := tr.Observe("r", []string{"ab", "c"}, at(3*time.Second)); !n {
		t.Fatal("ab|c not new")
	}
	if n, _ := tr.Observe("r", []string{"a", "bc"}, at(4*time.Second)); !n {
		t.Fatal("a|bc collided with ab|c")
	}
	if got := tr.Terms("r"); got != 4 {
		t.Fatalf("Terms = %d, want 4", got)
	}
}

func TestCapKeepsOldestAndRecent(t *testing.T) {
	tr := NewTracker(nil, time.Hour)
	tup := []string{"x"}
	for i := range 20 {
		tr.Observe("r", tup, at(time.Duration(i)*time.Second))
	}
	s := tr.Sightings("r", tup)
	if len(s) != MaxSightings {
		t.Fatalf("kept %d sightings, want %d", len(s), MaxSightings)
	}
	if !s[0].Equal(at(0)) || !s[len(s)-1].Equal(at(19*time.Second)) || !s[1].Equal(at(time.Duration(20-MaxSightings+1)*time.Second)) {
		t.Fatalf("kept %v", s)
	}
	if got := tr.Coverage("r"); !got.Equal(at(0)) {
		t.Fatalf("Coverage = %v", got)
	}
}

// TestMildDisorderMatchesReference checks the capped list against a
// reference that keeps every sighting, on streams where events arrive up to
// a few positions late.
func TestMildDisorderMatchesReference(t *testing.T) {
	const W = 50 * time.Millisecond
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		tr := NewTracker(nil, W)
		var all []int64
		base := int64(0)
		for range 300 {
			base += int64(rng.IntN(30))
			ts := base - int64(rng.IntN(15)) // up to 15 ms late
			ms := t0.UnixMilli() + ts
			// Reference: new unless a sighting lies in [t−W, t+W].
			wantNew := true
			for _, s := range all {
				if s >= ms-W.Milliseconds() && s <= ms+W.Milliseconds() {
					wantNew = false
				}
			}
			gotNew, _ := tr.Observe("r", []string{"k"}, time.UnixMilli(ms))
			if gotNew != wantNew {
				t.Fatalf("round %d: at %d got new=%v want %v (history %v)", round, ts, gotNew, wantNew, all)
			}
			all = append(all, ms)
		}
	}
}

func TestPrune(t *testing.T) {
	tr := NewTracker(nil, 10*time.Second)
	tr.Observe("r", []string{"old"}, at(0))
	tr.Observe("r", []string{"mixed"}, at(time.Second))
	tr.Observe("r", []string{"mixed"}, at(15*time.Second))
	tr.Observe("r", []string{"new"}, at(20*time.Second))
	if n := tr.Prune(at(20 * time.Second)); n != 1 {
		t.Fatalf("Prune removed %d tuples, want 1", n)
	}
	if got := tr.Terms("r"); got != 2 {
		t.Fatalf("Terms = %d, want 2", got)
	}
	if s := tr.Sightings("r", []string{"mixed"}); len(s) != 1 || !s[0].Equal(at(15*time.Second)) {
		t.Fatalf("mixed sightings after prune: %v", s)
	}
	if got := tr.Coverage("r"); !got.Equal(at(15 * time.Second)) {
		t.Fatalf("Coverage = %v", got)
	}
	if n, _ := tr.Observe("r", []string{"old"}, at(21*time.Second)); !n {
		t.Fatal("pruned tuple should be new again")
	}
}

func TestFlushBatches(t *testing.T) {
	h := newFake()
	tr := NewTracker(h, time.Hour)
	tr.FlushTuples = 3
	wall := t0
	tr.Clock = func() time.Time { return wall }
	tr.Observe("r", []string{"a"}, at(0))
	tr.Observe("r", []string{"b"}, at(0))
	if h.saves != 0 {
		t.Fatalf("flushed after 2 changes (saves=%d)", h.saves)
	}
	tr.Observe("r", []string{"c"}, at(0))
	if h.saves != 1 || len(h.data["r"]) != 3 {
		t.Fatalf("after 3 changes: saves=%d stored=%d", h.saves, len(h.data["r"]))
	}
	// A duplicate changes nothing and writes nothing.
	tr.Observe("r", []string{"c"}, at(0))
	if err := tr.Flush(); err != nil || h.saves != 1 {
		t.Fatalf("empty flush wrote: saves=%d err=%v", h.saves, err)
	}
	// Time-based flush: one change, then 64 events later with the clock moved.
	tr.Observe("r", []string{"d"}, at(time.Second))
	wall = wall.Add(time.Second)
	for i := range 64 {
		tr.Observe("r", []string{"d"}, at(time.Duration(i+2)*time.Second))
	}
	if h.saves != 2 {
		t.Fatalf("time-based flush did not happen: saves=%d", h.saves)
	}
	// Pruned tuples are deleted from the history.
	tr.Prune(at(2 * time.Hour))
	if err := tr.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(h.data["r"]) != 0 {
		t.Fatalf("pruned tuples still stored: %v", h.data["r"])
	}
}

func TestFlushFailureKeepsChanges(t *testing.T) {
	h := newFake()
	h.fail = errors.New("disk full")
	tr := NewTracker(h, time.Hour)
	tr.Observe("r", []string{"a"}, at(0))
	if err := tr.Flush(); err == nil || !errors.Is(err, h.fail) {
		t.Fatalf("Flush err = %v", err)
	}
	if tr.Err() == nil {
		t.Fatal("Err() lost the failure")
	}
	h.fail = nil
	if err := tr.Flush(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(h.data["r"][h.hash("a")], []int64{t0.UnixMilli()}) {
		t.Fatalf("retry did not write the buffered change: %v", h.data)
	}
}

func TestLoadsHistoryLazily(t *testing.T) {
	h := newFake()
	h.data["r"] = map[uint64][]int64{h.hash("a"): {t0.UnixMilli()}}
	tr := NewTracker(h, time.Hour)
	n, last := tr.Observe("r", []string{"a"}, at(time.Minute))
	if n || !last.Equal(t0) {
		t.Fatalf("stored history ignored: new=%v last=%v", n, last)
	}
}

func TestKeyRoundTrip(t *testing.T) {
	for _, tup := range [][]string{{"a"}, {"", "x"}, {"with\x00nul", "ü", ""}} {
		got, err := SplitKey(Key(tup))
		if err != nil || !reflect.DeepEqual(got, tup) {
			t.Fatalf("SplitKey(Key(%q)) = %q, %v", tup, got, err)
		}
	}
	if _, err := SplitKey("\x05ab"); err == nil {
		t.Fatal("truncated key accepted")
	}
}

func TestFlushIfDue(t *testing.T) {
	h := newFake()
	tr := NewTracker(h, time.Hour)
	wall := t0
	tr.Clock = func() time.Time { return wall }
	tr.Flush() // sets the last flush time
	tr.Observe("r", []string{"a"}, at(0))
	if err := tr.FlushIfDue(); err != nil || h.saves != 0 {
		t.Fatalf("flushed before the interval: saves=%d err=%v", h.saves, err)
	}
	wall = wall.Add(DefaultFlushInterval)
	if err := tr.FlushIfDue(); err != nil || h.saves != 1 || tr.Pending() != 0 {
		t.Fatalf("not flushed when due: saves=%d pending=%d err=%v", h.saves, tr.Pending(), err)
	}
	wall = wall.Add(time.Hour)
	if err := tr.FlushIfDue(); err != nil || h.saves != 1 {
		t.Fatal("flushed with nothing pending")
	}
}

// TestPruneIsIncremental: Prune visits the tuples that left the window,
// not every tuple held. 100k tuples 10 ms apart, a 1000 s window: moving
// the cutoff 50 s past the first forgets the ~5000 before it (less at
// most a bucket's width, 15.6 s, still waiting at the edge) and visits
// only those; a second Prune at the same time visits nothing.
func TestPruneIsIncremental(t *testing.T) {
	const n = 100_000
	const step = 10 * time.Millisecond
	window := 1000 * time.Second
	tr := NewTracker(nil, window)
	for i := range n {
		tr.Observe("r", []string{"tool", strconv.Itoa(i)}, at(time.Duration(i)*step))
	}
	width := int(window / pruneBuckets / step) // tuples per bucket
	now := at(window + 50*time.Second)
	forgot := tr.Prune(now)
	if forgot > 5000 || forgot < 5000-width {
		t.Fatalf("Prune forgot %d, want the 5000 before the cutoff less at most %d", forgot, width)
	}
	if v := int(tr.visits); v != forgot {
		t.Fatalf("Prune visited %d tuples of %d to forget %d", v, n, forgot)
	}
	if got := tr.Terms("r"); got != n-forgot {
		t.Fatalf("Terms = %d after forgetting %d of %d", got, forgot, n)
	}
	before := tr.visits
	if tr.Prune(now) != 0 || tr.visits != before {
		t.Fatalf("a second Prune at the same time visited %d", tr.visits-before)
	}
	// A forgotten tuple is new again; one inside the window is not.
	if isNew, _ := tr.Observe("r", []string{"tool", "0"}, now); !isNew {
		t.Fatal("a tuple last seen more than a window ago is not new")
	}
	if isNew, _ := tr.Observe("r", []string{"tool", strconv.Itoa(n - 1)}, now); isNew {
		t.Fatal("a tuple seen inside the window is new")
	}
}

// TestPruneFollowsResightings: a tuple seen again stays as long as its
// newest sighting is in the window, however old its first record.
func TestPruneFollowsResightings(t *testing.T) {
	tr := NewTracker(nil, time.Hour)
	for i := range 10 {
		tr.Observe("r", []string{"busy"}, at(time.Duration(i)*20*time.Minute))
	}
	tr.Observe("r", []string{"once"}, at(0))
	if n := tr.Prune(at(3*time.Hour + 10*time.Minute)); n != 1 {
		t.Fatalf("Prune forgot %d, want 1 (once)", n)
	}
	if s := tr.Sightings("r", []string{"busy"}); len(s) == 0 || s[0].Before(at(2*time.Hour+10*time.Minute)) {
		t.Fatalf("busy kept sightings older than the window: %v", s)
	}
	if n := tr.Prune(at(5 * time.Hour)); n != 1 || tr.Terms("r") != 0 {
		t.Fatalf("Prune forgot %d, %d left; want busy forgotten", n, tr.Terms("r"))
	}
}

// TestMaxTuplesEvictsOldest: at the cap the tuple seen longest ago goes,
// counted; seen again it is new.
func TestMaxTuplesEvictsOldest(t *testing.T) {
	h := newFake()
	tr := NewTracker(h, 240*time.Hour)
	tr.MaxTuples = 3
	tr.Observe("r", []string{"a"}, at(0))
	tr.Observe("r", []string{"b"}, at(time.Hour))
	tr.Observe("r", []string{"c"}, at(2*time.Hour))
	tr.Observe("r", []string{"a"}, at(3*time.Hour)) // a is now the newest
	if n, _ := tr.Observe("r", []string{"d"}, at(4*time.Hour)); !n {
		t.Fatal("d is not new")
	}
	if tr.Terms("r") != 3 || tr.Evicted() != 1 {
		t.Fatalf("Terms %d, Evicted %d; want 3 and 1", tr.Terms("r"), tr.Evicted())
	}
	if s := tr.Sightings("r", []string{"b"}); s != nil {
		t.Fatalf("b (oldest newest sighting) was kept: %v", s)
	}
	if err := tr.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.data["r"][h.hash("b")]; ok {
		t.Fatal("the evicted tuple is still in the history")
	}
	if n, _ := tr.Observe("r", []string{"b"}, at(5*time.Hour)); !n {
		t.Fatal("an evicted tuple seen again is not new")
	}
	if tr.Evicted() != 2 || tr.Terms("r") != 3 {
		t.Fatalf("Terms %d, Evicted %d; want 3 and 2", tr.Terms("r"), tr.Evicted())
	}
}

// TestLoadedTermsArePruned: tuples loaded from the History are pruned
// like the ones observed in this run.
func TestLoadedTermsArePruned(t *testing.T) {
	h := newFake()
	h.data["r"] = map[uint64][]int64{h.hash("old"): {at(0).UnixMilli()}, h.hash("new"): {at(9 * time.Hour).UnixMilli()}}
	tr := NewTracker(h, 10*time.Hour)
	if tr.Terms("r") != 2 {
		t.Fatalf("loaded %d", tr.Terms("r"))
	}
	if n := tr.Prune(at(12 * time.Hour)); n != 1 || tr.Sightings("r", []string{"new"}) == nil {
		t.Fatalf("Prune forgot %d; new kept: %v", n, tr.Sightings("r", []string{"new"}))
	}
}
