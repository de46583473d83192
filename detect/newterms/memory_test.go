package newterms

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
)

// tupleBudget is the heap the history may hold per tuple (issue 12: ≤ 100
// bytes). Measured 35 B for a tuple seen once and 64 B for one seen
// three times; the margin absorbs the hash table's doubling, not a return
// of the tuple's text (~100 bytes alone for these tuples).
const tupleBudget = 100

// TestMemoryPerTuple pins the memory per tuple of the history: 300k
// distinct (executable, host, path) tuples, each seen once or each seen
// three times, must cost at most tupleBudget bytes each.
func TestMemoryPerTuple(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 300k tuples")
	}
	for _, seen := range []int{1, 3} {
		t.Run(fmt.Sprintf("seen=%d", seen), func(t *testing.T) { memoryPerTuple(t, seen) })
	}
}

func memoryPerTuple(t *testing.T, seen int) {
	const n = 300_000
	tr := NewTracker(nil, 240*time.Hour)
	tup := make([]string, 3)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		tup[0] = "/usr/lib/openssh/sftp-server-" + strconv.Itoa(i%50)
		tup[1] = "9f2a8c41d2e04b7c9d1e0f3a5b6c7d8e"
		tup[2] = fmt.Sprintf("/home/user%d/uploads/%d/report-%d.pdf", i%97, i%1000, i)
		for k := range seen {
			tr.Observe("r", tup, at(time.Duration(i)*time.Second+time.Duration(k)*time.Minute))
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	t.Logf("%.1f B per tuple (%d tuples seen %d times)", per, n, seen)
	if got := tr.Terms("r"); got != n {
		t.Fatalf("holds %d tuples, want %d", got, n)
	}
	if per > tupleBudget {
		t.Errorf("the history holds %.1f B per tuple, budget %d", per, tupleBudget)
	}
	if s := tr.Sightings("r", tup); len(s) != seen {
		t.Errorf("the last tuple kept %d sightings, want %d", len(s), seen)
	}
	runtime.KeepAlive(tr)
}

// TestFarSightings: sightings of one tuple more than 49 days apart (the
// reach of the compact older-sightings block) are kept exactly, and a
// tuple moves between the two layouts both ways.
func TestFarSightings(t *testing.T) {
	const day = 24 * time.Hour
	tr := NewTracker(nil, 90*day)
	tup := []string{"far"}
	for _, d := range []time.Duration{0, 60 * day, 60*day + time.Millisecond, 70 * day} {
		tr.Observe("r", tup, at(d))
	}
	want := []time.Time{at(0), at(60 * day), at(60*day + time.Millisecond), at(70 * day)}
	if got := tr.Sightings("r", tup); !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Fatalf("sightings %v, want %v", got, want)
	}
	if isNew, last := tr.Observe("r", tup, at(30*day)); isNew || !last.Equal(at(0)) {
		t.Fatalf("a late event 30 days after the first sighting: new=%v last=%v", isNew, last)
	}
	if got := tr.Coverage("r"); !got.Equal(at(0)) {
		t.Fatalf("Coverage = %v", got)
	}
	// Pruning the far sighting brings the rest back within 49 days.
	tr.Observe("r", []string{"late"}, at(95*day))
	tr.Observe("r", []string{"stale-record"}, at(100*day))
	tr.Prune(at(100 * day))
	want = []time.Time{at(60*day + time.Millisecond), at(70 * day)}
	if got := tr.Sightings("r", tup); !slices.EqualFunc(got[len(got)-2:], want, time.Time.Equal) || got[0].Before(at(10*day)) {
		t.Fatalf("after the prune: sightings %v", got)
	}
}

// TestTableMatchesReference drives the hash table through insertions,
// prunes and cap evictions at random and checks it against a map that
// keeps every tuple's newest sighting: the same tuples held, each found
// with its newest sighting (the table's backward-shift deletion and
// reused entries must lose or confuse none).
func TestTableMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const W = time.Hour
	tr := NewTracker(nil, W)
	tr.MaxTuples = 500
	ref := map[int]int64{} // tuple → newest sighting (ms)
	now := t0
	for step := range 30_000 {
		now = now.Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
		id := rng.IntN(2000)
		tup := []string{"t", strconv.Itoa(id)}
		evicted := tr.Evicted()
		tr.Observe("r", tup, now)
		ref[id] = now.UnixMilli()
		if tr.Evicted() != evicted {
			// The cap forgot one tuple of the oldest prune bucket (by
			// newest sighting): drop the one the tracker dropped.
			oldest := int64(1<<63 - 1)
			for _, ms := range ref {
				oldest = min(oldest, ms)
			}
			gone := 0
			for k, ms := range ref {
				if tr.bucketOf(ms) == tr.bucketOf(oldest) && tr.Sightings("r", []string{"t", strconv.Itoa(k)}) == nil {
					delete(ref, k)
					gone++
				}
			}
			if gone != 1 {
				t.Fatalf("step %d: the cap forgot %d tuples of the oldest bucket, want 1", step, gone)
			}
		}
		if step%500 == 499 {
			tr.Prune(now)
			for k, ms := range ref {
				if ms < now.UnixMilli()-W.Milliseconds()-W.Milliseconds()/pruneBuckets {
					delete(ref, k) // surely pruned
				}
			}
			for k := range ref {
				if tr.Sightings("r", []string{"t", strconv.Itoa(k)}) == nil {
					delete(ref, k) // pruned within a bucket's width of the cutoff
				}
			}
		}
		if tr.Terms("r") != len(ref) {
			t.Fatalf("step %d: tracker holds %d tuples, reference %d", step, tr.Terms("r"), len(ref))
		}
	}
	for k, ms := range ref {
		s := tr.Sightings("r", []string{"t", strconv.Itoa(k)})
		if len(s) == 0 || s[len(s)-1].UnixMilli() != ms {
			t.Fatalf("tuple %d: sightings %v, want newest %d", k, s, ms)
		}
	}
	if tr.Evicted() == 0 {
		t.Fatal("the cap never evicted: the test did not exercise it")
	}
}
