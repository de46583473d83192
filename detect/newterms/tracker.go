// Package newterms decides, event by event, whether a new_terms tuple is new
// for a rule (elastic-semantics §3.5 streamed, SPEC §5), and keeps the term
// history that decision needs in memory, persisted in batches through a
// History.
//
// # What is kept per tuple
//
// A tuple is new at event time t when no sighting lies in [t−W, t). For an
// in-order stream the newest sighting alone answers that, but a single
// timestamp is wrong when events arrive out of order, and keeping every
// sighting costs memory proportional to traffic. Each tuple therefore keeps
// a sorted list of distinct sighting times capped at MaxSightings: the
// oldest one plus the most recent MaxSightings−1. The answer is exact
// whenever t is later than the oldest of those recent sightings (always, for
// in-order and mildly out-of-order streams): a dropped sighting d in
// [t−W, t) implies the kept sighting right after it is also in [t−W, t).
// Only an event older than MaxSightings−1 later sightings of the same tuple
// can be misjudged, and then only towards "new".
//
// # Duplicates and late events
//
// A sighting at exactly t (the same event delivered twice, or a second event
// in the same millisecond) makes t not new: Kibana raises one alert per
// tuple, for the earliest document. A late event at t that falls inside the
// window of a later sighting s (s in (t, t+W]) is not new either: s has
// already been judged (and alerted, if it was new), and alerting again for
// the same episode would be a duplicate. Neither case occurs in an in-order
// stream of distinct times, so in-order results match the definition
// exactly.
//
// # Pruning and the cap
//
// Sightings older than the window are forgotten incrementally: every
// tuple sits in a time bucket (a 64th of the window wide) of its newest
// sighting, and Prune visits only the buckets that fell out of the window,
// so its cost follows the tuples that expire, not the tuples held — a
// history of 1M tuples costs the same per event as one of 10k (issue 12:
// walking every tuple was 31–45% of a scan's CPU). A tuple seen again
// moves to a later bucket only when its newest sighting has advanced a
// bucket's width, so a busy tuple costs a few records a window, not one
// per event. At most MaxTuples tuples are held per rule; beyond that the
// tuple whose newest sighting is oldest is forgotten and counted
// (Evicted): the next sighting of an evicted tuple is new again, which
// errs towards an extra alert, never a missed one.
//
// # Memory: a hash, not the tuple
//
// A tuple is kept as the 64-bit keyed hash of its Key (HashKey.Hash,
// SipHash-2-4 under a random key the History stores), never as its text:
// what an alert shows of a tuple comes from the event that raised it. An
// entry is 24 bytes (the hash, the newest sighting, the count of
// sightings, a flag and the index of its older sightings), found through
// an open-addressing table of 4-byte indices, and filed in a prune bucket
// by a 4-byte record; a tuple seen more than once keeps its older
// sightings in a block of 28 bytes (as ms before the newest; 56 bytes in
// the rare case they span more than 49 days). Entries and blocks sit in
// chunked pools, so growth never doubles them. That is ~35 bytes a tuple
// seen once and ~65 with older sightings (TestMemoryPerTuple,
// BenchmarkTermGrowth), against ~250 when the tuple's text was the key.
//
// Two tuples of a rule whose hashes collide are one tuple to the history:
// the second is judged known when the first was seen in its window (a
// missed alert). Among n tuples the odds that any two collide are about
// n²/2⁶⁵: 2⁻⁴⁵ at 10k tuples, 2⁻²⁵ at 1M, 2⁻²³ at the 2 M cap. The key is
// secret (state.db is private to its owner) and random per state store,
// so events cannot be crafted to collide on purpose.
package newterms

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"time"
)

// MaxSightings caps the sighting times kept per tuple (see the package doc).
const MaxSightings = 8

// DefaultMaxTuples is the default cap on the tuples held per rule: under
// 100 bytes each in memory (see the package doc), so ~100–200 MB at the
// cap.
const DefaultMaxTuples = 2_000_000

// pruneBuckets is how many prune buckets span one window.
const pruneBuckets = 64

// Flush policy: buffered history is written back after this much wall time
// or this many changed tuples, whichever comes first, so a crash loses at
// most one batch while the hot path never touches the database.
const (
	DefaultFlushInterval = 500 * time.Millisecond
	DefaultFlushTuples   = 4096
)

// Term is one tuple's stored history: its hash (HashKey.Hash of its Key)
// and its sighting times, Unix milliseconds ascending.
type Term struct {
	Hash  uint64
	Times []int64
}

// History persists term history; state.Store implements it.
type History interface {
	// TermsKey returns the key the stored hashes were made with.
	TermsKey() (HashKey, error)
	// LoadTerms calls fn for every stored tuple of ruleID; times (Unix
	// ms, ascending) is only valid during the call.
	LoadTerms(ruleID string, fn func(hash uint64, times []int64)) error
	// SaveTerms writes one batch: put replaces tuples' times, del
	// forgets tuples (no hash is in both).
	SaveTerms(ruleID string, put []Term, del []uint64) error
}

// Replacer is a History that can also replace a rule's whole stored
// history in one step a crash cannot split (state.Store): n tuples,
// term(i) giving the i-th one's hash and times (valid until the next
// call), in ascending hash order.
type Replacer interface {
	ReplaceTerms(ruleID string, n int, term func(i int) (hash uint64, times []int64)) error
}

// Tracker answers "is this tuple new" for one or more rules sharing a
// history window. It is not safe for concurrent use: the detection engine
// drives it from one goroutine.
type Tracker struct {
	h      History
	key    HashKey
	window int64 // ms
	rules  map[string]*ruleTerms

	// FlushInterval and FlushTuples tune write-back (defaults above).
	FlushInterval time.Duration
	FlushTuples   int
	// Clock is the wall clock used for the flush interval (tests replace it).
	Clock func() time.Time

	// Start, when set, gives the window start of a sighting at ms (a
	// rule's rounded or calendar history_window_start evaluated with now =
	// ms); the window is then [Start(ms), ms) and window (the longest
	// one) only bounds what is kept. Start must not decrease as ms grows.
	Start func(ms int64) int64

	// MaxTuples caps the tuples held per rule (DefaultMaxTuples); the
	// oldest beyond it are forgotten and counted (Evicted).
	MaxTuples int

	lastFlush time.Time
	pending   int  // changed tuples not yet written, over all rules
	suspended bool // Suspend: no automatic flush
	evicted   uint64
	cutoff    int64  // the last Prune's cutoff (ms), for Coverage
	visits    uint64 // records Prune has visited (tests: the cost of pruning)
	tick      int
	err       error
	keyBuf    []byte
	timesBuf  [MaxSightings]int64

	// A failing History (a full disk) is retried after a backoff, not on
	// every event: each try encodes every pending tuple, so retrying per
	// event made a scan 140 times slower and spent the CPU of a live run.
	retryAt  time.Time     // no automatic flush before this
	backoff  time.Duration // 0 while flushes succeed
	failures uint64        // failed flushes
}

// Backoff bounds for retrying a failed flush: doubling from the first to
// the last, so a disk that frees up is noticed within half a minute.
const (
	FirstRetry = time.Second
	MaxRetry   = 30 * time.Second
)

// ruleTerms is one rule's history: entries in a dense slice (an index is
// a tuple's identity while it is held), found by hash through an
// open-addressing table, filed by prune bucket.
type ruleTerms struct {
	ents  pool[entry]
	live  int
	table []uint32 // linear probing by hash; 0 empty, else entry index+1
	// The sightings before the newest, of entries with more than one,
	// ascending: as ms before the newest when all fit 32 bits (49 days),
	// else as Unix ms (entry.older says which).
	near pool[[MaxSightings - 1]uint32]
	far  pool[[MaxSightings - 1]int64]

	dirty   []uint32            // entries changed since the last flush
	deleted map[uint64]struct{} // hashes forgotten since the last flush
	// buckets[b] holds a record for every entry whose newest sighting
	// was in [b·width, (b+1)·width) when the record was made; minBucket
	// is the lowest bucket that may hold any. A record is current when
	// its entry is held and its newest sighting is still in b: the
	// newest only grows, and grows into a new record.
	buckets   map[int64][]uint32
	minBucket int64
	// partial: loading the stored history failed part way. What did not
	// load is still in the store, so the history is never replaced
	// (Replacer) from memory, which would delete it.
	partial bool
}

// entry is one tuple's history: 24 bytes.
type entry struct {
	hash   uint64
	newest int64  // Unix ms
	older  uint32 // 0 when n ≤ 1; else a block of near (farBit clear) or far, + 1
	n      uint8  // sightings kept (0: a free entry)
	dirty  bool
}

// farBit marks an entry.older block in ruleTerms.far.
const farBit = 1 << 31

// pool holds fixed-size items in chunks, by uint32 index: no append
// doubling (up to twice the memory, and a copy of it all, at a million
// tuples), and freed items are reused.
type pool[T any] struct {
	chunks [][]T
	n      uint32   // items handed out, freed or not
	free   []uint32 // freed items, reused first
}

const poolChunk = 4096

func (p *pool[T]) at(i uint32) *T { return &p.chunks[i/poolChunk][i%poolChunk] }

// alloc returns a zeroed item.
func (p *pool[T]) alloc() uint32 {
	var zero T
	if k := len(p.free); k > 0 {
		i := p.free[k-1]
		p.free = p.free[:k-1]
		*p.at(i) = zero
		return i
	}
	if p.n%poolChunk == 0 {
		p.chunks = append(p.chunks, make([]T, poolChunk))
	}
	p.n++
	return p.n - 1
}

func (p *pool[T]) release(i uint32) { p.free = append(p.free, i) }

// ent returns entry i.
func (r *ruleTerms) ent(i uint32) *entry { return r.ents.at(i) }

// NewTracker returns a tracker whose tuples are new when unseen for window.
// h may be nil: history then lives only in memory, hashed under a random
// key.
func NewTracker(h History, window time.Duration) *Tracker {
	t := &Tracker{
		h:             h,
		window:        window.Milliseconds(),
		rules:         map[string]*ruleTerms{},
		FlushInterval: DefaultFlushInterval,
		FlushTuples:   DefaultFlushTuples,
		MaxTuples:     DefaultMaxTuples,
		Clock:         time.Now,
		key:           NewHashKey(),
	}
	if h != nil {
		k, err := h.TermsKey()
		if err != nil {
			// The stored hashes cannot be matched: judge without them
			// (extra alerts rather than none); Err reports it.
			t.err = fmt.Errorf("term history key: %w", err)
			t.h = nil
		} else {
			t.key = k
		}
	}
	return t
}

// Hash returns the hash under which tuple is kept (for callers that hold
// tuples by hash themselves, as detect's order-free scan does).
func (t *Tracker) Hash(tuple []string) uint64 {
	var h uint64
	h, t.keyBuf = t.key.HashTuple(t.keyBuf, tuple)
	return h
}

// bucketOf returns the prune bucket of a sighting at ms.
func (t *Tracker) bucketOf(ms int64) int64 {
	w := max(t.window/pruneBuckets, 1)
	q := ms / w
	if ms < 0 && ms%w != 0 {
		q--
	}
	return q
}

// queue files a record of entry i in the bucket of its newest sighting.
func (t *Tracker) queue(r *ruleTerms, i uint32) {
	b := t.bucketOf(r.ent(i).newest)
	r.buckets[b] = append(r.buckets[b], i)
	if b < r.minBucket {
		r.minBucket = b
	}
}

// Evicted returns how many tuples the MaxTuples cap has forgotten.
func (t *Tracker) Evicted() uint64 { return t.evicted }

// Window returns the history window.
func (t *Tracker) Window() time.Duration { return time.Duration(t.window) * time.Millisecond }

// rule returns the in-memory terms of ruleID, loading them from the
// History on first use.
func (t *Tracker) rule(ruleID string) *ruleTerms {
	if r := t.rules[ruleID]; r != nil {
		return r
	}
	r := &ruleTerms{deleted: map[uint64]struct{}{}, buckets: map[int64][]uint32{}, minBucket: 1<<63 - 1}
	t.rules[ruleID] = r
	if t.h != nil {
		err := t.h.LoadTerms(ruleID, func(h uint64, times []int64) {
			if len(times) == 0 || !slices.IsSorted(times) {
				return
			}
			if len(times) > MaxSightings {
				times = append(times[:1:1], times[len(times)-MaxSightings+1:]...)
			}
			if _, ok := r.find(h); ok {
				return
			}
			i := r.add(h)
			r.set(i, times)
			t.queue(r, i)
		})
		if err != nil {
			r.partial = true
		}
		if err != nil && t.err == nil {
			// Carry on with what loaded: a partial baseline raises extra
			// alerts, which is safer than raising none. Err reports it.
			t.err = err
		}
	}
	return r
}

// find returns the entry of hash h.
func (r *ruleTerms) find(h uint64) (uint32, bool) {
	if len(r.table) == 0 {
		return 0, false
	}
	mask := uint64(len(r.table) - 1)
	for p := h & mask; ; p = (p + 1) & mask {
		v := r.table[p]
		if v == 0 {
			return 0, false
		}
		if r.ent(v-1).hash == h {
			return v - 1, true
		}
	}
}

// add makes an entry for hash h (not held yet), without sightings.
func (r *ruleTerms) add(h uint64) uint32 {
	if (r.live+1)*4 > len(r.table)*3 {
		r.grow()
	}
	i := r.ents.alloc()
	r.ent(i).hash = h
	r.insert(i)
	r.live++
	return i
}

// insert puts entry i in the table (which has room).
func (r *ruleTerms) insert(i uint32) {
	mask := uint64(len(r.table) - 1)
	p := r.ent(i).hash & mask
	for r.table[p] != 0 {
		p = (p + 1) & mask
	}
	r.table[p] = i + 1
}

// grow doubles the table (at most ¾ full, so a probe ends soon).
func (r *ruleTerms) grow() {
	n := max(2*len(r.table), 16)
	r.table = make([]uint32, n)
	for i := range r.ents.n {
		if r.ent(i).n > 0 {
			r.insert(i)
		}
	}
}

// remove drops entry i from the table and frees it and its older block.
func (r *ruleTerms) remove(i uint32) {
	mask := uint64(len(r.table) - 1)
	p := r.ent(i).hash & mask
	for r.table[p] != i+1 {
		p = (p + 1) & mask
	}
	// Backward-shift deletion: move up every later entry of the run
	// whose home lies at or before the hole, so lookups need no
	// tombstones.
	for q := (p + 1) & mask; r.table[q] != 0; q = (q + 1) & mask {
		home := r.ent(r.table[q]-1).hash & mask
		if (q-home)&mask >= (q-p)&mask {
			r.table[p] = r.table[q]
			p = q
		}
	}
	r.table[p] = 0
	r.freeOlder(r.ent(i))
	*r.ent(i) = entry{}
	r.ents.release(i)
	r.live--
}

// times returns entry i's sightings in buf.
func (r *ruleTerms) times(i uint32, buf *[MaxSightings]int64) []int64 {
	e := r.ent(i)
	n := int(e.n)
	if n == 0 {
		return buf[:0]
	}
	switch {
	case n == 1:
	case e.older&farBit != 0:
		copy(buf[:n-1], r.far.at(e.older&^farBit - 1)[:n-1])
	default:
		for k, d := range r.near.at(e.older - 1)[:n-1] {
			buf[k] = e.newest - int64(d)
		}
	}
	buf[n-1] = e.newest
	return buf[:n]
}

// oldest returns entry e's oldest sighting.
func (r *ruleTerms) oldest(e *entry) int64 {
	switch {
	case e.n <= 1:
		return e.newest
	case e.older&farBit != 0:
		return r.far.at(e.older&^farBit - 1)[0]
	}
	return e.newest - int64(r.near.at(e.older - 1)[0])
}

// freeOlder releases e's block of older sightings.
func (r *ruleTerms) freeOlder(e *entry) {
	switch {
	case e.older == 0:
	case e.older&farBit != 0:
		r.far.release(e.older&^farBit - 1)
	default:
		r.near.release(e.older - 1)
	}
	e.older = 0
}

// set stores times (1 to MaxSightings, ascending) as entry i's sightings.
func (r *ruleTerms) set(i uint32, times []int64) {
	e := r.ent(i)
	n := len(times)
	newest := times[n-1]
	e.n, e.newest = uint8(n), newest
	if n == 1 {
		r.freeOlder(e)
		return
	}
	if newest-times[0] <= 1<<32-1 {
		if e.older == 0 || e.older&farBit != 0 {
			r.freeOlder(e)
			e.older = r.near.alloc() + 1
		}
		b := r.near.at(e.older - 1)
		for k, ms := range times[:n-1] {
			b[k] = uint32(newest - ms)
		}
		return
	}
	if e.older&farBit == 0 {
		r.freeOlder(e)
		e.older = (r.far.alloc() + 1) | farBit
	}
	copy(r.far.at(e.older&^farBit - 1)[:], times[:n-1])
}

// Observe records that tuple was seen by ruleID at ts and reports whether it
// is new (no sighting in [ts−W, ts), see the package doc for duplicates and
// late events) and when it was last seen before ts (zero when never, as far
// as the kept history knows).
func (t *Tracker) Observe(ruleID string, tuple []string, ts time.Time) (isNew bool, lastSeen time.Time) {
	return t.observeHash(ruleID, t.Hash(tuple), ts.UnixMilli())
}

func (t *Tracker) observeHash(ruleID string, h uint64, ms int64) (bool, time.Time) {
	r := t.rule(ruleID)
	idx, found := r.find(h)
	var times []int64
	if found {
		times = r.times(idx, &t.timesBuf)
	}
	// First index whose time is >= ms; lists are short and events mostly
	// in order, so scanning from the end beats a binary search.
	i := len(times)
	for i > 0 && times[i-1] >= ms {
		i--
	}
	var last time.Time
	seenBefore := false
	if i > 0 {
		last = time.UnixMilli(times[i-1])
		seenBefore = times[i-1] >= t.WindowStart(ms)
	}
	exact := i < len(times) && times[i] == ms
	later := i < len(times) && t.WindowStart(times[i]) <= ms
	isNew := !seenBefore && !later

	if !exact {
		if !found {
			if t.MaxTuples > 0 && r.live >= t.MaxTuples {
				t.evictOldest(r)
			}
			idx = r.add(h)
			delete(r.deleted, h)
			t.timesBuf[0] = ms
			r.set(idx, t.timesBuf[:1])
			t.queue(r, idx)
		} else {
			oldBucket := t.bucketOf(r.ent(idx).newest)
			r.set(idx, insertCapped(times, i, ms))
			if t.bucketOf(r.ent(idx).newest) > oldBucket {
				t.queue(r, idx) // a bucket later: the old record is skipped
			}
		}
		t.markDirty(r, idx)
		t.maybeFlush()
	}
	return isNew, last
}

// insertCapped inserts ms at index i and, beyond MaxSightings, drops the
// second-oldest time: the oldest keeps coverage, the recent ones exactness.
// times has room for MaxSightings (Tracker.timesBuf).
func insertCapped(times []int64, i int, ms int64) []int64 {
	if len(times) < MaxSightings {
		times = append(times, 0)
		copy(times[i+1:], times[i:])
		times[i] = ms
		return times
	}
	// Full: remove index 1, then insert, in place.
	switch {
	case i == 0:
		// New oldest; the old oldest (now second) goes.
		times[1] = times[0]
		times[0] = ms
	case i == 1:
		times[1] = ms
	default:
		copy(times[1:i-1], times[2:i])
		times[i-1] = ms
	}
	return times
}

func (t *Tracker) maybeFlush() {
	if t.h == nil || t.suspended {
		return
	}
	if t.pending >= t.FlushTuples && t.backoff == 0 {
		_ = t.Flush()
		return
	}
	// Reading the clock on every event costs more than the rest of the
	// bookkeeping; every 64th is plenty for a 500 ms cadence.
	t.tick++
	if t.tick&63 != 0 {
		return
	}
	now := t.Clock()
	if t.lastFlush.IsZero() {
		t.lastFlush = now
		return
	}
	if t.due(now) {
		_ = t.Flush()
	}
}

// Suspend stops automatic flushes until Resume: the changes of a batch of
// work (a scan's whole input, recorded at its end) then reach the History
// together, through Resume's one Flush.
func (t *Tracker) Suspend() { t.suspended = true }

// Resume lets automatic flushes run again and flushes what is pending.
func (t *Tracker) Resume() error {
	t.suspended = false
	return t.Flush()
}

// due reports whether an automatic flush may run at now: the interval has
// passed and, after a failure, so has the backoff.
func (t *Tracker) due(now time.Time) bool {
	return now.Sub(t.lastFlush) >= t.FlushInterval && !now.Before(t.retryAt)
}

// Flush writes every changed tuple back to the History, one transaction per
// rule — or, when a rule has more than FlushTuples changes and the History
// is a Replacer, its whole history through ReplaceTerms: a transaction of
// a million changes holds them all in memory until it commits, and
// batches of them would leave a mix of old and new history after a
// crash. It returns (and remembers, see Err) the first failure; the
// changes stay buffered and are retried, by the automatic flushes only
// after a backoff (FirstRetry doubling to MaxRetry), by an explicit Flush
// at once.
func (t *Tracker) Flush() error {
	now := t.Clock()
	t.lastFlush = now
	if t.h == nil || t.pending == 0 {
		return nil
	}
	var first error
	for id, r := range t.rules {
		if len(r.dirty) == 0 && len(r.deleted) == 0 {
			continue
		}
		if rp, ok := t.h.(Replacer); ok && !r.partial && len(r.dirty)+len(r.deleted) > t.FlushTuples {
			if err := t.replace(rp, id, r); err != nil && first == nil {
				first = err
			}
			continue
		}
		// One backing array for the batch's times: a term's Times are
		// the store's to read until SaveTerms returns.
		flat := make([]int64, 0, len(r.dirty)*2)
		put := make([]Term, 0, len(r.dirty))
		for _, i := range r.dirty {
			e := r.ent(i)
			if e.n == 0 || !e.dirty {
				continue // forgotten, or listed twice (a reused entry)
			}
			e.dirty = false // until the write fails, below
			at := len(flat)
			flat = append(flat, r.times(i, &t.timesBuf)...)
			put = append(put, Term{Hash: e.hash, Times: flat[at:len(flat):len(flat)]})
		}
		del := make([]uint64, 0, len(r.deleted))
		for h := range r.deleted {
			del = append(del, h)
		}
		// In key order a batch touches neighbouring pages of the store.
		slices.SortFunc(put, func(a, b Term) int { return cmp.Compare(a.Hash, b.Hash) })
		slices.Sort(del)
		if err := t.h.SaveTerms(id, put, del); err != nil {
			if first == nil {
				first = err
			}
			for _, i := range r.dirty {
				if e := r.ent(i); e.n > 0 {
					e.dirty = true
				}
			}
			continue
		}
		clear(r.dirty)
		r.dirty = r.dirty[:0]
		clear(r.deleted)
	}
	// Recount rather than subtract: prune-then-reobserve paths make
	// incremental bookkeeping fragile, and this runs twice a second at most.
	t.pending = 0
	for _, r := range t.rules {
		t.pending += len(r.dirty) + len(r.deleted)
	}
	if first != nil {
		if t.err == nil {
			t.err = first
		}
		t.failures++
		t.backoff = min(max(2*t.backoff, FirstRetry), MaxRetry)
		t.retryAt = now.Add(t.backoff)
		return fmt.Errorf("flush term history: %w", first)
	}
	t.backoff, t.retryAt = 0, time.Time{}
	return nil
}

// replace writes rule r's whole history through rp, in hash order, and
// forgets its changes once written.
func (t *Tracker) replace(rp Replacer, id string, r *ruleTerms) error {
	idx := make([]uint32, 0, r.live)
	for i := range r.ents.n {
		if r.ent(i).n > 0 {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b uint32) int { return cmp.Compare(r.ent(a).hash, r.ent(b).hash) })
	err := rp.ReplaceTerms(id, len(idx), func(k int) (uint64, []int64) {
		return r.ent(idx[k]).hash, r.times(idx[k], &t.timesBuf)
	})
	if err != nil {
		return err
	}
	for _, i := range r.dirty {
		r.ent(i).dirty = false
	}
	r.dirty = nil // a scan's million changes: not kept as capacity
	clear(r.deleted)
	return nil
}

// FlushFailures returns how many flushes have failed so far.
func (t *Tracker) FlushFailures() uint64 { return t.failures }

// FlushIfDue flushes when changes are pending, FlushInterval has passed
// since the last flush, no failure's backoff is running and the tracker is
// not suspended (Suspend): cheap enough to call after every batch of events
// or on a ticker, so a quiet stream still reaches the store in time.
func (t *Tracker) FlushIfDue() error {
	// Suspended, the changes wait for Resume's one flush, a ticker's too.
	if t.h == nil || t.suspended || t.pending == 0 || !t.due(t.Clock()) {
		return nil
	}
	return t.Flush()
}

// Pending returns how many changed tuples await a flush.
func (t *Tracker) Pending() int { return t.pending }

// Err returns the first history load or write failure, if any.
func (t *Tracker) Err() error { return t.err }

// Prune forgets the tuples whose newest sighting is older than now − W
// (now is the newest event time), and the older sightings of the tuples
// it visits; it returns how many tuples were forgotten. It visits only
// the buckets that fell out of the window since the last call (see the
// package doc), so a sighting may outlive the cutoff by up to a bucket
// width until the next call. The deletions reach the History with the
// next Flush.
func (t *Tracker) Prune(now time.Time) int {
	cutoff := now.UnixMilli() - t.window
	t.cutoff = max(t.cutoff, cutoff)
	cut := t.bucketOf(cutoff) // buckets below it lie wholly before cutoff
	n := 0
	for _, r := range t.rules {
		if len(r.buckets) == 0 || r.minBucket >= cut {
			continue
		}
		var due []int64
		if gap := cut - r.minBucket; gap > int64(4*len(r.buckets)) {
			// Event time jumped (old files, then new): the held
			// buckets, not every bucket number in between.
			for b := range r.buckets {
				if b < cut {
					due = append(due, b)
				}
			}
			slices.Sort(due)
		} else {
			for b := r.minBucket; b < cut; b++ {
				if _, ok := r.buckets[b]; ok {
					due = append(due, b)
				}
			}
		}
		for _, b := range due {
			recs := r.buckets[b]
			delete(r.buckets, b)
			for _, i := range recs {
				n += t.visit(r, i, cutoff)
			}
		}
		r.minBucket = cut
		if len(r.buckets) == 0 {
			r.minBucket = 1<<63 - 1
		}
	}
	return n
}

// visit handles a record of entry i from a bucket that fell out of the
// window: the entry is forgotten when its newest sighting is older than
// cutoff, else (a record left behind when its newest moved on) its older
// sightings are. It returns 1 when the entry was forgotten. An entry
// forgotten and reused since the record was made is another tuple, held
// to the same rule: sightings before cutoff go.
func (t *Tracker) visit(r *ruleTerms, i uint32, cutoff int64) int {
	t.visits++
	e := r.ent(i)
	if e.n == 0 {
		return 0
	}
	if e.newest < cutoff {
		t.forget(r, i)
		return 1
	}
	if r.oldest(e) < cutoff {
		times := r.times(i, &t.timesBuf)
		j := sort.Search(len(times), func(k int) bool { return times[k] >= cutoff })
		r.set(i, times[j:])
		t.markDirty(r, i)
	}
	return 0
}

// forget drops entry i from memory and, with the next Flush, from the
// History.
func (t *Tracker) forget(r *ruleTerms, i uint32) {
	h := r.ent(i).hash
	r.remove(i)
	if t.h != nil {
		r.deleted[h] = struct{}{}
		t.pending++
	}
}

func (t *Tracker) markDirty(r *ruleTerms, i uint32) {
	if e := r.ent(i); !e.dirty && t.h != nil {
		e.dirty = true
		r.dirty = append(r.dirty, i)
		t.pending++
	}
}

// evictOldest forgets the tuple whose newest sighting is oldest (its
// record is the first current one of the lowest bucket), for the cap.
func (t *Tracker) evictOldest(r *ruleTerms) {
	for len(r.buckets) > 0 {
		recs, ok := r.buckets[r.minBucket]
		if !ok {
			if r.minBucket = r.lowestBucket(); r.minBucket == 1<<63-1 {
				return
			}
			continue
		}
		for len(recs) > 0 {
			i := recs[0]
			recs = recs[1:]
			if e := r.ent(i); e.n == 0 || t.bucketOf(e.newest) != r.minBucket {
				continue // a stale record: the entry is filed later
			}
			r.buckets[r.minBucket] = recs
			t.forget(r, i)
			t.evicted++
			return
		}
		delete(r.buckets, r.minBucket)
	}
}

// lowestBucket returns the lowest bucket held (max int64 when none).
func (r *ruleTerms) lowestBucket() int64 {
	low := int64(1<<63 - 1)
	for b := range r.buckets {
		low = min(low, b)
	}
	return low
}

// WindowStart returns the start of the history window of a sighting at ms
// (Unix ms): Start(ms), or ms − window.
func (t *Tracker) WindowStart(ms int64) int64 {
	if t.Start != nil {
		return t.Start(ms)
	}
	return ms - t.window
}

// SeenBetween reports whether ruleID's kept history holds a sighting of
// tuple in [lo, hi] (Unix ms). Offline judgement (detect's order-free scan)
// asks it about the history loaded from earlier runs.
func (t *Tracker) SeenBetween(ruleID string, tuple []string, lo, hi int64) bool {
	return t.SeenBetweenHash(ruleID, t.Hash(tuple), lo, hi)
}

// SeenBetweenHash is SeenBetween for the tuple whose Hash is h.
func (t *Tracker) SeenBetweenHash(ruleID string, h uint64, lo, hi int64) bool {
	r := t.rule(ruleID)
	i, ok := r.find(h)
	if !ok {
		return false
	}
	for _, ms := range r.times(i, &t.timesBuf) {
		if ms >= lo && ms <= hi {
			return true
		}
	}
	return false
}

// Record adds a sighting of tuple at ms to ruleID's history without
// judging it (offline judgement has judged it already).
func (t *Tracker) Record(ruleID string, tuple []string, ms int64) {
	t.observeHash(ruleID, t.Hash(tuple), ms)
}

// RecordHash is Record for the tuple whose Hash is h.
func (t *Tracker) RecordHash(ruleID string, h uint64, ms int64) {
	t.observeHash(ruleID, h, ms)
}

// Terms returns how many tuples ruleID knows (status bar).
func (t *Tracker) Terms(ruleID string) int { return t.rule(ruleID).live }

// Coverage returns the oldest sighting ruleID still remembers: how far back
// its baseline really goes (zero when it knows nothing). It walks every
// tuple, so call it for display, not per event.
func (t *Tracker) Coverage(ruleID string) time.Time {
	r := t.rule(ruleID)
	var oldest int64
	found := false
	for i := range r.ents.n {
		e := r.ent(i)
		if e.n == 0 {
			continue
		}
		first := r.oldest(e)
		if !found || first < oldest {
			oldest, found = first, true
		}
	}
	if !found {
		return time.Time{}
	}
	// Sightings before the last cutoff that Prune has not visited yet
	// are not history the window still counts.
	if t.cutoff != 0 {
		oldest = max(oldest, t.cutoff)
	}
	return time.UnixMilli(oldest)
}

// Sightings returns the kept sighting times of tuple for ruleID (tests,
// explain views).
func (t *Tracker) Sightings(ruleID string, tuple []string) []time.Time {
	r := t.rule(ruleID)
	i, ok := r.find(t.Hash(tuple))
	if !ok {
		return nil
	}
	var out []time.Time
	for _, ms := range r.times(i, &t.timesBuf) {
		out = append(out, time.UnixMilli(ms))
	}
	return out
}
