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
	// The clusters (offstore.go), found by the tracker's hash of the
	// tuple (hash), as the history keeps them: the tuple's text stays in
	// the events. The table gives the tuple's latest cluster; the earlier
	// ones follow it (offCluster.prev). A scan may hold a million tuples
	// (one per distinct file path), so this is all most of them cost: a
	// table slot, one cluster and its event key, ~70 bytes, none of them
	// a Go pointer.
	offStore
	// docs are the held documents, by offCluster.doc − 1 (nil: free).
	docs    []*offDoc
	docFree []uint32
	// extras are what few tuples need besides (latent, untimed).
	extras map[uint64]*offExtra
	count  int // distinct tuples in the table and extras
	hash   func(tuple []string) uint64
	// held are, per max_signals interval, the clusters holding a source
	// document: at most keep, the earliest. No interval can raise more
	// than max_signals of its own plus max_signals deferred to the next,
	// so a flood of new terms costs a bounded number of documents; a
	// cluster whose document was let go is counted held back should it
	// still be new at the end.
	held     map[int64][]uint32
	hi       int64 // no interval after it holds a document (highest)
	interval int64
	keep     int
	total    int // documents held, over all intervals
	dropped  int // documents let go
}

// MaxOfflineDocs bounds the source documents a scan holds for its new_terms
// alerts, over all intervals and rules' worth of one rule: packed (offDoc),
// ~the size of their JSON each, ~10 MB for ECS events of ~400 bytes.
// Beyond it the latest intervals' documents are let go (their alerts
// counted held back), so a flood of new terms over a long input cannot
// grow memory without bound.
const MaxOfflineDocs = 20000

type offExtra struct {
	// latent are sightings an exception with an expiry excepted: Kibana
	// recomputes history with the exceptions of each run, so once the item
	// has expired they count as history (issue 11 row 6).
	latent []latentSighting
	// untimed is the untimed event (smallest key) of a tuple: Kibana never
	// sees it; xferhunt alerts on it only when the tuple has no timed
	// sighting at all (input and history), and it never enters history.
	untimed *offUntimed
}

// offUntimed is a tuple's untimed event: its key and document.
type offUntimed struct {
	key string
	doc *offDoc
}

// offDoc is the document a cluster holds for its alert, with the tuple
// (the alert's new terms, in the fields' order) it was seen with: the
// tuple's text is kept only here, for the alert. Both are kept packed
// (offdoc.go), a tenth of the decoded document's memory.
type offDoc struct {
	packed []byte   // packDoc(tup, ev); nil when ev could not be packed
	ev     ecs.Doc  // the event as it came, when packed is nil
	tup    []string // with ev
	flags  uint8    // the event's Flags (offFlags), without the key
}

// newOffDoc keeps ev and tup, packed when it can.
func newOffDoc(ev ecs.Doc, tup []string, f Flags) *offDoc {
	d := &offDoc{flags: packFlags(f)}
	if b, ok := packDoc(nil, tup, ev); ok {
		// Trimmed to its length: the append growth would otherwise
		// keep up to twice the bytes for the scan's duration.
		d.packed = slices.Clip(slices.Clone(b))
	} else {
		d.ev, d.tup = ev, slices.Clone(tup)
	}
	return d
}

// event returns the tuple and the document.
func (d *offDoc) event() ([]string, ecs.Doc) {
	if d.packed == nil {
		return d.tup, d.ev
	}
	return unpackDoc(d.packed)
}

// tuple returns the tuple alone.
func (d *offDoc) tuple() []string {
	if d.packed == nil {
		return d.tup
	}
	return unpackTuple(d.packed)
}

// pendingDoc marks (offCluster.doc), inside hold, the cluster whose
// document is not built yet: most clusters of a flood of new terms are let
// go at once, and packing a document only to drop it would cost a scan of
// a million new tuples a million packings.
const pendingDoc = math.MaxUint32

// Flags of an offDoc's event: its Flags.Key is the cluster's key when
// ownKey is set, else "" (the key was derived from the event, and is again
// by offer).
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

// bucket is the max_signals interval whose held list has c while it holds
// its document: first only moves together with the document.
func (o *offTerms) bucket(c *offCluster) int64 { return floorDiv(c.first, o.interval) }

type latentSighting struct{ ms, from int64 }

// maxLatent bounds the latent sightings kept per tuple (the newest stay).
const maxLatent = 64

// extra returns the extras of tuple h, made when missing.
func (o *offTerms) extra(h uint64) *offExtra {
	x := o.extras[h]
	if x == nil {
		if o.head(h) == 0 {
			o.count++
		}
		x = &offExtra{}
		o.extras[h] = x
	}
	return x
}

// observe adds a sighting of tup at ms by event ev.
// start gives a sighting's window start (newterms.Tracker.WindowStart).
func (o *offTerms) observe(tup []string, ms int64, start func(int64) int64, ev ecs.Doc, f Flags) {
	h := o.hash(tup)
	head := o.head(h)
	// c: the earliest cluster that ends within a window before ms (they
	// are the latest ones: in-order input finds it at the head at once);
	// next and next2: the two clusters after it.
	from := start(ms)
	var c, next, next2 uint32
	for n := head; n != 0 && o.at(n).last >= from; n = o.at(n).prev {
		next2, next, c = next, c, n
	}
	if c == 0 || start(o.at(c).first) > ms {
		nc := o.alloc()
		p := o.at(nc)
		p.hash, p.first, p.last = h, ms, ms
		o.setKey(nc, eventKey(ev, f.Key))
		switch {
		case c != 0: // before c
			cp := o.at(c)
			p.prev, cp.prev = cp.prev, nc
		default: // the latest
			if head == 0 && o.extras[h] == nil {
				o.count++
			}
			p.prev = head
			o.setHead(h, nc)
		}
		o.hold(nc, ev, tup, f)
		return
	}
	cp := o.at(c)
	switch {
	case ms < cp.first:
		o.release(c)
		cp.first = ms
		o.setKey(c, eventKey(ev, f.Key))
		o.hold(c, ev, tup, f)
	case ms == cp.first:
		if key := eventKey(ev, f.Key); key < string(o.keyOf(cp)) {
			o.release(c)
			o.setKey(c, key)
			o.hold(c, ev, tup, f)
		}
	}
	cp.last = max(cp.last, ms)
	// A sighting that bridges two clusters merges them: the later one's
	// first sighting is no longer new.
	if next != 0 && start(o.at(next).first) <= cp.last {
		cp.last = max(cp.last, o.at(next).last)
		o.release(next)
		if next2 != 0 {
			o.at(next2).prev = c
		} else {
			o.setHead(h, c)
		}
		o.drop(next)
	}
}

// hold gives cluster i its source document ev, seen with tup and f,
// within the interval's budget.
func (o *offTerms) hold(i uint32, ev ecs.Doc, tup []string, f Flags) {
	c := o.at(i)
	c.doc = pendingDoc
	b := o.bucket(c)
	hs := append(o.held[b], i)
	if len(hs) > o.keep {
		// Let go of the latest (by time, then key) of the interval.
		w := o.latest(hs)
		o.dropDoc(o.at(hs[w]))
		hs = slices.Delete(hs, w, w+1)
		o.dropped++
		o.total--
	}
	o.held[b] = hs
	o.total++
	o.hi = max(o.hi, b)
	if o.total > MaxOfflineDocs {
		// Let go of the latest document of the latest interval.
		last := o.highest()
		hs := o.held[last]
		w := o.latest(hs)
		o.dropDoc(o.at(hs[w]))
		o.held[last] = slices.Delete(hs, w, w+1)
		o.dropped++
		o.total--
	}
	if c.doc == pendingDoc {
		d := newOffDoc(ev, tup, f)
		if k := len(o.docFree); k > 0 {
			c.doc = o.docFree[k-1] + 1
			o.docFree = o.docFree[:k-1]
			o.docs[c.doc-1] = d
		} else {
			o.docs = append(o.docs, d)
			c.doc = uint32(len(o.docs))
		}
	}
}

// docOf returns the document cluster c holds (nil: none).
func (o *offTerms) docOf(c *offCluster) *offDoc {
	if c.doc == 0 || c.doc == pendingDoc {
		return nil
	}
	return o.docs[c.doc-1]
}

// dropDoc lets go of the document c holds.
func (o *offTerms) dropDoc(c *offCluster) {
	if c.doc != 0 && c.doc != pendingDoc {
		o.docs[c.doc-1] = nil
		o.docFree = append(o.docFree, c.doc-1)
	}
	c.doc = 0
}

// highest returns the latest interval holding a document (o.total > 0).
// o.hi is at least it: it moves up as documents are held, and is found
// again, by a walk of the intervals, only once it has none left — once
// per interval, where walking them for every document let go made a flood
// of a million new tuples walk thousands of intervals a million times.
func (o *offTerms) highest() int64 {
	if len(o.held[o.hi]) > 0 {
		return o.hi
	}
	hi, found := int64(0), false
	for b, hs := range o.held {
		if len(hs) == 0 {
			delete(o.held, b) // nothing held: no need to walk it again
			continue
		}
		if !found || b > hi {
			hi, found = b, true
		}
	}
	o.hi = hi
	return hi
}

// latest returns the index in hs of the latest cluster (by first
// sighting, then event key): the one a full budget lets go.
func (o *offTerms) latest(hs []uint32) int {
	w := 0
	cw := o.at(hs[0])
	for i, h := range hs[1:] {
		c := o.at(h)
		if c.first > cw.first || c.first == cw.first && string(o.keyOf(c)) > string(o.keyOf(cw)) {
			w, cw = i+1, c
		}
	}
	return w
}

// release takes cluster i's document out of its interval's budget.
func (o *offTerms) release(i uint32) {
	c := o.at(i)
	if c.doc == 0 {
		return
	}
	b := o.bucket(c)
	hs := o.held[b]
	if k := slices.Index(hs, i); k >= 0 {
		o.held[b] = slices.Delete(hs, k, k+1)
		o.total--
	}
	o.dropDoc(c)
}

// observeUntimed notes an event without a usable time.
func (o *offTerms) observeUntimed(tup []string, ev ecs.Doc, f Flags) {
	h := o.hash(tup)
	key := eventKey(ev, f.Key)
	if o.head(h) != 0 {
		return // it cannot alert: keep no document
	}
	x := o.extra(h)
	if u := x.untimed; u == nil || key < u.key {
		x.untimed = &offUntimed{key: key, doc: newOffDoc(ev, tup, f)}
	}
}

// except notes a sighting an exception excepted until from (Unix ms).
func (o *offTerms) except(tup []string, ms, from int64) {
	x := o.extra(o.hash(tup))
	if len(x.latent) >= maxLatent {
		x.latent = x.latent[1:]
	}
	x.latent = append(x.latent, latentSighting{ms, from})
}

// offCandidate is a cluster start that is new, with what its alert needs:
// the clusters are gone once the sightings are in the tracker.
type offCandidate struct {
	first int64
	key   string
	doc   *offDoc
	last  int64 // the previous cluster's last sighting, when hasLast
	// hasLast: the tuple was seen before this cluster in the input.
	hasLast bool
}

// flags returns the Flags the candidate's event came with.
func (c *offCandidate) flags() Flags {
	fl := c.doc.flags
	f := Flags{Historical: fl&offHistorical != 0, Loss: fl&offLoss != 0}
	if fl&offOwnKey != 0 {
		f.Key = c.key
	}
	return f
}

// finishOffline judges every cluster, raises the alerts through
// max_signals in event-time order, records the sightings in the tracker
// (the history a later run with --state starts from) and forgets the
// offline state. The alerts are handed to emit once drainBatch have
// gathered in out; what is left is returned.
func (e *Engine) finishOffline(rs *ruleState, out []Alert, emit func([]Alert)) []Alert {
	o := rs.off
	w := rs.window.Milliseconds()
	id := rs.rule.RuleID
	var cands []offCandidate
	for _, head := range o.table {
		if head == 0 {
			continue
		}
		k := o.at(head).hash
		var latent []latentSighting
		if len(o.extras) > 0 {
			if x := o.extras[k]; x != nil {
				latent = x.latent
			}
		}
		for i := head; i != 0; i = o.at(i).prev {
			c := o.at(i)
			// A later kept sighting within the longest window counts, as
			// in the tracker's own order-free judgement.
			from := rs.tracker.WindowStart(c.first)
			isNew := !rs.tracker.SeenBetweenHash(id, k, from, c.first+w)
			for _, l := range latent {
				if l.ms >= from && l.ms < c.first && l.from < c.first {
					isNew = false
				}
			}
			doc := o.docOf(c)
			switch {
			case !isNew:
			case doc == nil:
				// Its document was let go in a flood (offTerms.held):
				// more new terms in its interval than max_signals could
				// raise. Counted here, it needs no candidate: in a
				// flood of a million new tuples nearly all are such, and
				// the overflow its time would release is released
				// before the next candidate's offer or by Drain alike.
				rs.heldBack.Add(1)
			default:
				cand := offCandidate{first: c.first, key: string(o.keyOf(c)), doc: doc}
				if c.prev != 0 {
					cand.last, cand.hasLast = o.at(c.prev).last, true
				}
				cands = append(cands, cand)
			}
		}
	}
	for k, x := range o.extras {
		if u := x.untimed; u != nil && o.head(k) == 0 && !rs.tracker.SeenBetweenHash(id, k, math.MinInt64, math.MaxInt64) {
			first := e.newest
			if first == 0 {
				first = e.now().UnixMilli()
			}
			cands = append(cands, offCandidate{first: first, key: u.key, doc: u.doc})
		}
	}
	// Every tuple is judged: its sightings go to the tracker one by one,
	// by hash, oldest cluster first as a stream records them (the tracker
	// keeps the oldest and the latest sightings). This comes before the
	// alerts are built, so the offline state (~70 B a tuple) is gone
	// before they take their memory, while the history (~35 B a tuple)
	// grows.
	// The history changes at once, and only after the alerts are out:
	// the tracker stays suspended (Tracker.Suspend) until the caller's
	// Engine.Flush, which scan calls once it has written the alerts. A
	// history holding the input's tuples before their alerts were out
	// would, after a kill in between, silence them in every re-run.
	rs.tracker.Suspend()
	var cs []uint32
	for _, head := range o.table {
		if head == 0 {
			continue
		}
		k := o.at(head).hash
		cs = cs[:0]
		for i := head; i != 0; i = o.at(i).prev {
			cs = append(cs, i)
		}
		for j := len(cs) - 1; j >= 0; j-- {
			c := o.at(cs[j])
			rs.tracker.RecordHash(id, k, c.first)
			if c.last != c.first {
				rs.tracker.RecordHash(id, k, c.last)
			}
		}
	}
	o.offStore = offStore{}
	o.docs, o.docFree = nil, nil
	o.extras = map[uint64]*offExtra{}
	o.count = 0
	clear(o.held)
	o.total = 0
	slices.SortFunc(cands, func(a, b offCandidate) int {
		if a.first != b.first {
			if a.first < b.first {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		// One event of several tuples (multi-valued fields): the tuples'
		// order, as the fields give them.
		return slices.Compare(a.doc.tuple(), b.doc.tuple())
	})
	for i := range cands {
		c := &cands[i]
		if len(rs.overflow) > 0 && floorDiv(c.first, rs.cap.interval) > rs.ovBucket {
			out = rs.release(out)
		}
		var last time.Time
		if c.hasLast {
			last = time.UnixMilli(c.last)
		}
		tup, ev := c.doc.event()
		out = e.offer(rs, out, ev, c.flags(), c.first, tup, last)
		c.doc = nil
		if len(out) >= drainBatch {
			emit(out)
			clear(out) // the alerts are emit's now: hold none of them
			out = out[:0]
		}
	}
	rs.terms.Store(int64(rs.tracker.Terms(id)))
	rs.noteState()
	return out
}
