package detect

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
)

// Offline judgement (Options.Offline, what `xferhunt scan` uses): a
// recorded input is complete, so "new" need not follow arrival order. Each
// tuple's sightings are kept as clusters — maximal runs whose consecutive
// times are at most the window apart — and a tuple is new exactly at the
// first sighting of each cluster (nothing in [t−W, t) before it), whatever
// order the events came in. Only the cluster bounds and the document of its
// earliest event (ties: the smallest event key) are kept, so memory grows
// with the alerts the input holds, not with its events. The alerts are
// raised at Drain, in event-time order, through max_signals as a stream
// would raise them: a file, the same file reversed and shuffled give the
// same alerts.

// offTerms is one rule's offline state.
type offTerms struct {
	// tuples are keyed by the tracker's hash of the tuple (hash), as
	// the history keeps them: the tuple's text stays in the events.
	tuples map[uint64]*offTuple
	hash   func(tuple []string) uint64
	// held are, per max_signals interval, the clusters holding a source
	// document: at most keep, the earliest. No interval can raise more
	// than max_signals of its own plus max_signals deferred to the next,
	// so a flood of new terms costs a bounded number of documents; a
	// cluster whose document was let go is counted held back should it
	// still be new at the end.
	held     map[int64][]*offCluster
	interval int64
	keep     int
	total    int // documents held, over all intervals
	dropped  int // documents let go
}

// MaxOfflineDocs bounds the source documents a scan holds for its new_terms
// alerts, over all intervals and rules' worth of one rule: a few KB each,
// about 100 MB at most. Beyond it the latest intervals' documents are let
// go (their alerts counted held back), so a flood of new terms over a long
// input cannot grow memory without bound.
const MaxOfflineDocs = 20000

// offTuple is one tuple's sightings. A scan may hold a million of them
// (one per distinct file path), so it is kept small: the tuple is known
// by its hash (the map key), its text kept only beside a document held
// for an alert (offDoc), and what few tuples need (latent, untimed) sits
// behind one pointer.
type offTuple struct {
	clusters []*offCluster // by first; consecutive clusters are more than W apart
	extra    *offExtra
}

type offExtra struct {
	// latent are sightings an exception with an expiry excepted: Kibana
	// recomputes history with the exceptions of each run, so once the item
	// has expired they count as history (issue 11 row 6).
	latent []latentSighting
	// untimed is the untimed event (smallest key) of a tuple: Kibana never
	// sees it; xferhunt alerts on it only when the tuple has no timed
	// sighting at all (input and history), and it never enters history.
	untimed *offCluster
}

type offCluster struct {
	first, last int64
	doc         *offDoc // the earliest event, the alert's source (nil: let go)
	key         string  // its event key: the tie-break between equal times
	flags       uint8   // the event's Flags (offFlags), without the key
}

// offDoc is the document a cluster holds for its alert, with the tuple
// (the alert's new terms, in the fields' order) it was seen with.
type offDoc struct {
	ev  ecs.Doc
	tup []string
}

// Flags of an offCluster's event: its Flags.Key is key when ownKey is set,
// else "" (the key was derived from the event, and is again by offer).
const (
	offHistorical uint8 = 1 << iota
	offLoss
	offOwnKey
)

func packFlags(f Flags) uint8 {
	var b uint8
	if f.Historical {
		b |= offHistorical
	}
	if f.Loss {
		b |= offLoss
	}
	if f.Key != "" {
		b |= offOwnKey
	}
	return b
}

// flagsOf returns the Flags c's event came with.
func (c *offCluster) flagsOf() Flags {
	f := Flags{Historical: c.flags&offHistorical != 0, Loss: c.flags&offLoss != 0}
	if c.flags&offOwnKey != 0 {
		f.Key = c.key
	}
	return f
}

// bucket is the max_signals interval whose held list has c while it holds
// its document: first only moves together with the document.
func (o *offTerms) bucket(c *offCluster) int64 { return floorDiv(c.first, o.interval) }

type latentSighting struct{ ms, from int64 }

// maxLatent bounds the latent sightings kept per tuple (the newest stay).
const maxLatent = 64

func (o *offTerms) tuple(tup []string) *offTuple {
	h := o.hash(tup)
	t := o.tuples[h]
	if t == nil {
		t = &offTuple{}
		o.tuples[h] = t
	}
	return t
}

// observe adds a sighting of tup at ms by event ev.
// start gives a sighting's window start (newterms.Tracker.WindowStart).
func (o *offTerms) observe(tup []string, ms int64, start func(int64) int64, ev ecs.Doc, f Flags) {
	t := o.tuple(tup)
	cs := t.clusters
	// k: the first cluster that ends within a window before ms; in-order
	// input finds it at the end at once.
	k := len(cs)
	for k > 0 && cs[k-1].last >= start(ms) {
		k--
	}
	if k == len(cs) || start(cs[k].first) > ms {
		key := eventKey(ev, f.Key)
		c := &offCluster{first: ms, last: ms, flags: packFlags(f), key: key}
		t.clusters = slices.Insert(cs, k, c)
		o.hold(c, ev, tup)
		return
	}
	c := cs[k]
	switch {
	case ms < c.first:
		o.release(c)
		c.first, c.flags, c.key = ms, packFlags(f), eventKey(ev, f.Key)
		o.hold(c, ev, tup)
	case ms == c.first:
		if key := eventKey(ev, f.Key); key < c.key {
			o.release(c)
			c.flags, c.key = packFlags(f), key
			o.hold(c, ev, tup)
		}
	}
	c.last = max(c.last, ms)
	// A sighting that bridges two clusters merges them: the later one's
	// first sighting is no longer new.
	if k+1 < len(cs) && start(cs[k+1].first) <= c.last {
		c.last = max(c.last, cs[k+1].last)
		o.release(cs[k+1])
		t.clusters = slices.Delete(cs, k+1, k+2)
	}
}

// hold gives c its source document ev, seen with tup, within the
// interval's budget.
func (o *offTerms) hold(c *offCluster, ev ecs.Doc, tup []string) {
	c.doc = &offDoc{ev: ev, tup: slices.Clone(tup)}
	b := o.bucket(c)
	hs := append(o.held[b], c)
	if len(hs) > o.keep {
		// Let go of the latest (by time, then key) of the interval.
		w := latest(hs)
		hs[w].doc = nil
		hs = slices.Delete(hs, w, w+1)
		o.dropped++
		o.total--
	}
	o.held[b] = hs
	o.total++
	if o.total > MaxOfflineDocs {
		// Let go of the latest document of the latest interval.
		last := b
		for b, hs := range o.held {
			if b > last && len(hs) > 0 {
				last = b
			}
		}
		hs := o.held[last]
		w := latest(hs)
		hs[w].doc = nil
		o.held[last] = slices.Delete(hs, w, w+1)
		o.dropped++
		o.total--
	}
}

// latest returns the index of the latest cluster of hs (by first
// sighting, then event key): the one a full budget lets go.
func latest(hs []*offCluster) int {
	w := 0
	for i, h := range hs {
		if h.first > hs[w].first || h.first == hs[w].first && h.key > hs[w].key {
			w = i
		}
	}
	return w
}

// release takes c's document out of its interval's budget.
func (o *offTerms) release(c *offCluster) {
	if c.doc == nil {
		return
	}
	b := o.bucket(c)
	hs := o.held[b]
	if i := slices.Index(hs, c); i >= 0 {
		o.held[b] = slices.Delete(hs, i, i+1)
		o.total--
	}
	c.doc = nil
}

// observeUntimed notes an event without a usable time.
func (o *offTerms) observeUntimed(tup []string, ev ecs.Doc, f Flags) {
	t := o.tuple(tup)
	key := eventKey(ev, f.Key)
	if len(t.clusters) > 0 {
		return // it cannot alert: keep no document
	}
	if t.extra == nil {
		t.extra = &offExtra{}
	}
	if u := t.extra.untimed; u == nil || key < u.key {
		t.extra.untimed = &offCluster{doc: &offDoc{ev: ev, tup: slices.Clone(tup)}, flags: packFlags(f), key: key}
	}
}

// except notes a sighting an exception excepted until from (Unix ms).
func (o *offTerms) except(tup []string, ms, from int64) {
	t := o.tuple(tup)
	if t.extra == nil {
		t.extra = &offExtra{}
	}
	x := t.extra
	if len(x.latent) >= maxLatent {
		x.latent = x.latent[1:]
	}
	x.latent = append(x.latent, latentSighting{ms, from})
}

// offCandidate is a cluster start that is new.
type offCandidate struct {
	c    *offCluster
	last int64 // the previous cluster's last sighting, when hasLast
	// hasLast: the tuple was seen before this cluster in the input.
	hasLast bool
}

// finish judges every cluster, raises the alerts through max_signals in
// event-time order, records the sightings in the tracker (the history a
// later run with --state starts from) and forgets the offline state.
func (e *Engine) finishOffline(rs *ruleState, out []Alert) []Alert {
	o := rs.off
	w := rs.window.Milliseconds()
	id := rs.rule.RuleID
	var cands []offCandidate
	for k, t := range o.tuples {
		var prev int64
		var latent []latentSighting
		if t.extra != nil {
			latent = t.extra.latent
		}
		for i, c := range t.clusters {
			// A later kept sighting within the longest window counts, as
			// in the tracker's own order-free judgement.
			from := rs.tracker.WindowStart(c.first)
			isNew := !rs.tracker.SeenBetweenHash(id, k, from, c.first+w)
			for _, l := range latent {
				if l.ms >= from && l.ms < c.first && l.from < c.first {
					isNew = false
				}
			}
			switch {
			case !isNew:
			case c.doc == nil:
				// Its document was let go in a flood (offTerms.held):
				// more new terms in its interval than max_signals could
				// raise. Counted here, it needs no candidate: in a
				// flood of a million new tuples nearly all are such, and
				// the overflow its time would release is released
				// before the next candidate's offer or by Drain alike.
				rs.heldBack.Add(1)
			default:
				cands = append(cands, offCandidate{c: c, last: prev, hasLast: i > 0})
			}
			prev = c.last
		}
		if t.extra != nil {
			if u := t.extra.untimed; u != nil && len(t.clusters) == 0 && !rs.tracker.SeenBetweenHash(id, k, math.MinInt64, math.MaxInt64) {
				u.first = e.newest
				if u.first == 0 {
					u.first = e.now().UnixMilli()
				}
				cands = append(cands, offCandidate{c: u})
			}
		}
	}
	slices.SortFunc(cands, func(a, b offCandidate) int {
		if a.c.first != b.c.first {
			if a.c.first < b.c.first {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.c.key, b.c.key); c != 0 {
			return c
		}
		// One event of several tuples (multi-valued fields): the tuples'
		// order, as the fields give them.
		return slices.Compare(a.c.doc.tup, b.c.doc.tup)
	})
	for i := range cands {
		c := &cands[i]
		if len(rs.overflow) > 0 && floorDiv(c.c.first, rs.cap.interval) > rs.ovBucket {
			out = rs.release(out)
		}
		var last time.Time
		if c.hasLast {
			last = time.UnixMilli(c.last)
		}
		out = e.offer(rs, out, c.c.doc.ev, c.c.flagsOf(), c.c.first, c.c.doc.tup, last)
		c.c.doc = nil
	}
	cands = nil
	// The tuples go to the tracker one by one, by hash, each forgotten
	// here as it is recorded.
	for k, t := range o.tuples {
		for _, c := range t.clusters {
			rs.tracker.RecordHash(id, k, c.first)
			if c.last != c.first {
				rs.tracker.RecordHash(id, k, c.last)
			}
		}
		delete(o.tuples, k)
	}
	o.tuples = map[uint64]*offTuple{}
	clear(o.held)
	o.total = 0
	rs.terms.Store(int64(rs.tracker.Terms(id)))
	rs.noteState()
	return out
}
