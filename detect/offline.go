package detect

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/xferhunt/xferhunt/detect/newterms"
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
	tuples map[string]*offTuple
}

type offTuple struct {
	tuple    []string
	clusters []*offCluster // by first; consecutive clusters are more than W apart
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
	ev          ecs.Doc // the earliest event, the alert's source
	f           Flags
	key         string // its event key: the tie-break between equal times
}

type latentSighting struct{ ms, from int64 }

// maxLatent bounds the latent sightings kept per tuple (the newest stay).
const maxLatent = 64

func (o *offTerms) tuple(tup []string) *offTuple {
	k := newterms.Key(tup)
	t := o.tuples[k]
	if t == nil {
		t = &offTuple{tuple: slices.Clone(tup)}
		o.tuples[k] = t
	}
	return t
}

// observe adds a sighting of tup at ms by event ev.
func (o *offTerms) observe(tup []string, ms, window int64, ev ecs.Doc, f Flags) {
	t := o.tuple(tup)
	cs := t.clusters
	// k: the first cluster that ends within a window before ms; in-order
	// input finds it at the end at once.
	k := len(cs)
	for k > 0 && cs[k-1].last+window >= ms {
		k--
	}
	if k == len(cs) || cs[k].first-window > ms {
		key := eventKey(ev, f.Key)
		t.clusters = slices.Insert(cs, k, &offCluster{first: ms, last: ms, ev: ev, f: f, key: key})
		return
	}
	c := cs[k]
	switch {
	case ms < c.first:
		c.first, c.ev, c.f, c.key = ms, ev, f, eventKey(ev, f.Key)
	case ms == c.first:
		if key := eventKey(ev, f.Key); key < c.key {
			c.ev, c.f, c.key = ev, f, key
		}
	}
	c.last = max(c.last, ms)
	// A sighting that bridges two clusters merges them: the later one's
	// first sighting is no longer new.
	if k+1 < len(cs) && cs[k+1].first-window <= c.last {
		c.last = max(c.last, cs[k+1].last)
		t.clusters = slices.Delete(cs, k+1, k+2)
	}
}

// observeUntimed notes an event without a usable time.
func (o *offTerms) observeUntimed(tup []string, ev ecs.Doc, f Flags) {
	t := o.tuple(tup)
	key := eventKey(ev, f.Key)
	if t.untimed == nil || key < t.untimed.key {
		t.untimed = &offCluster{ev: ev, f: f, key: key}
	}
}

// except notes a sighting an exception excepted until from (Unix ms).
func (o *offTerms) except(tup []string, ms, from int64) {
	t := o.tuple(tup)
	if len(t.latent) >= maxLatent {
		t.latent = t.latent[1:]
	}
	t.latent = append(t.latent, latentSighting{ms, from})
}

// offCandidate is a cluster start that is new.
type offCandidate struct {
	c    *offCluster
	tup  []string
	last time.Time
}

// finish judges every cluster, raises the alerts through max_signals in
// event-time order, records the sightings in the tracker (the history a
// later run with --state starts from) and forgets the offline state.
func (e *Engine) finishOffline(rs *ruleState, out []Alert) []Alert {
	o := rs.off
	w := rs.window.Milliseconds()
	id := rs.rule.RuleID
	var cands []offCandidate
	for _, t := range o.tuples {
		var prev int64
		for i, c := range t.clusters {
			isNew := !rs.tracker.SeenBetween(id, t.tuple, c.first-w, c.first+w)
			for _, l := range t.latent {
				if l.ms >= c.first-w && l.ms < c.first && l.from < c.first {
					isNew = false
				}
			}
			if isNew {
				var last time.Time
				if i > 0 {
					last = time.UnixMilli(prev)
				}
				cands = append(cands, offCandidate{c: c, tup: t.tuple, last: last})
			}
			prev = c.last
		}
		if u := t.untimed; u != nil && len(t.clusters) == 0 && !rs.tracker.SeenBetween(id, t.tuple, math.MinInt64, math.MaxInt64) {
			u.first = e.newest
			if u.first == 0 {
				u.first = e.now().UnixMilli()
			}
			cands = append(cands, offCandidate{c: u, tup: t.tuple})
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
		return slices.Compare(a.tup, b.tup)
	})
	for _, c := range cands {
		if len(rs.overflow) > 0 && floorDiv(c.c.first, rs.cap.interval) > rs.ovBucket {
			out = rs.release(out)
		}
		out = e.offer(rs, out, c.c.ev, c.c.f, c.c.first, c.tup, c.last)
	}
	for _, t := range o.tuples {
		for _, c := range t.clusters {
			rs.tracker.Record(id, t.tuple, c.first)
			if c.last != c.first {
				rs.tracker.Record(id, t.tuple, c.last)
			}
		}
	}
	clear(o.tuples)
	rs.terms.Store(int64(rs.tracker.Terms(id)))
	rs.noteState()
	return out
}
