package detect

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/xferhunt/xferhunt/detect/newterms"
	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/esdate"
)

// Kibana's defaults when a rule leaves them out.
const (
	defaultInterval   = 5 * time.Minute
	defaultMaxSignals = 100
)

// reorderSlack keeps sightings this much longer than the window, so an
// event arriving up to this late is still judged against a complete
// history (pruning at exactly newest−W would forget sightings it needs).
const reorderSlack = 10 * time.Minute

// Clause is one top-level query clause and whether an event satisfied it
// (xferhunt.explain).
type Clause struct {
	Text    string
	Matched bool
}

// Matcher is a compiled rule query. The KQL package is adapted to it by the
// caller, which keeps detect free of a dependency on the query language.
type Matcher interface {
	Match(ecs.Doc) bool
	Explain(ecs.Doc) []Clause
}

// Excepter applies exception items: it reports the id of the first item that
// excepts d, with now the clock expiry is judged against.
type Excepter interface {
	Match(d ecs.Doc, now time.Time) (id string, ok bool)
}

// RuleExcepter is an Excepter that knows which rule asks: in Kibana
// exception lists are attached to rules (exceptions_list), so an item
// applies only to the rules whose lists hold it. The engine uses MatchRule
// when its Excepter has it.
type RuleExcepter interface {
	Excepter
	MatchRule(ruleID string, d ecs.Doc, now time.Time) (id string, ok bool)
}

// ExpiringExcepter is a RuleExcepter that also says until when an event
// stays excepted: the latest expiry of the items that except it (ok with a
// zero time: for good). Offline judgement counts an event excepted only by
// items that expire as history after they have (Kibana applies the
// exceptions of each run, to history too).
type ExpiringExcepter interface {
	RuleExcepter
	ExceptedUntil(ruleID string, d ecs.Doc, now time.Time) (until time.Time, ok bool)
}

// RuleSpec pairs a loaded rule with its compiled query.
type RuleSpec struct {
	Rule  *rules.Rule
	Query Matcher
}

// HistoryStore persists new_terms history (state.Store implements it).
// nil keeps history in memory only, which is what --ephemeral wants: a
// memory state.Store would only hold a second copy.
type HistoryStore = newterms.History

// Options tune an Engine.
type Options struct {
	// HistoryWindow overrides every new_terms rule's window (--history-window); 0 keeps the rule's.
	HistoryWindow time.Duration
	// NewTermsFields overrides every new_terms rule's fields (--new-terms-fields); nil keeps the rule's.
	NewTermsFields []string
	// Now gives the alert time (@timestamp, kibana.alert.start); nil = time.Now.
	Now func() time.Time
	// Offline judges new_terms over the whole input (offline.go): order
	// free, alerts at Drain. For recorded inputs read to the end (scan).
	Offline bool
}

// Flags describe the event being processed.
type Flags struct {
	// Historical marks backfill events; their alerts carry xferhunt.historical.
	Historical bool
	// Loss says the source lost events while this one was produced; its
	// alerts carry xferhunt.loss, because "new" may then be wrong.
	Loss bool
	// Key is the source's dedup key for the event (sources.Event.Key); it
	// feeds the alert id. "" derives one from the event itself.
	Key string
}

// Stats are the engine's counters. Totals are over all rules.
type Stats struct {
	Events   uint64 // events processed
	Matches  uint64 // rule query matches that no exception removed
	Excepted uint64 // rule query matches removed by an exception
	Alerts   uint64 // alerts emitted
	HeldBack uint64 // alerts held back by max_signals for good
	// Untimed counts events with no usable time (neither event.ingested
	// nor @timestamp in a format Elasticsearch accepts): judged at the
	// engine's current time, which they never move.
	Untimed uint64
	// Deferred counts alerts max_signals held back in their interval and
	// offered again in the next one (Kibana's overlapping look-back); they
	// are in Alerts once emitted, in HeldBack if that interval is full too.
	Deferred uint64
	Terms    int // new_terms tuples known
	// TermsEvicted counts tuples forgotten because a rule held
	// newterms.DefaultMaxTuples: seen again, they are new again.
	TermsEvicted uint64
	// TuplesCapped counts events with more new_terms tuples than
	// MaxTuplesPerEvent; TuplesDropped the tuples left unjudged.
	TuplesCapped, TuplesDropped uint64
	// IgnoredAbove counts matching events with a new_terms value longer
	// than ecs.IgnoreAbove (1024 bytes): Elasticsearch does not index it,
	// so it makes no tuple (no alert when it was the field's only value)
	// — kept for parity, counted because it is an evasion.
	IgnoredAbove uint64
	// StateErrors counts failed writes of term history (a full or broken
	// state disk); StateErr is the first one's message. History stays in
	// memory and is retried after a backoff (newterms.Tracker.Flush).
	StateErrors uint64
	StateErr    string
	Rules       []RuleStats
}

// RuleStats are one rule's counters.
type RuleStats struct {
	RuleID   string
	Name     string
	Type     string
	Fields   []string      // effective new-terms fields
	Window   time.Duration // effective history window
	Matches  uint64
	Excepted uint64
	Alerts   uint64
	HeldBack uint64
	Terms    int
}

// Engine runs rules over events. Process, Flush and Coverage must be called
// from one goroutine (the pipeline's detection loop): the term history is
// not locked, which keeps the per-event path free of synchronisation.
// Stats and SetExcepter are safe from any goroutine (the TUI calls them).
type Engine struct {
	rules []*ruleState
	exc   atomic.Pointer[excHolder]
	now   func() time.Time

	events    atomic.Uint64
	untimed   atomic.Uint64
	newest    int64 // the engine's "now", Unix ms: see advance
	lastPrune int64
	recent    [clockRing]int64 // last event times, for advance's median
	nRecent   int
	wallLimit int64   // wall clock + clockSkew, refreshed lazily
	released  []Alert // deferred alerts due, for Released
	// scratch for tuple combinations, reused across events
	vals [][]string
	flat []string
	tup  [][]string
	seen map[string]struct{} // distinct's set, kept empty between calls
}

type excHolder struct{ e Excepter }

type ruleState struct {
	rule     *rules.Rule // effective copy, overrides applied
	query    Matcher
	newTerms bool
	fields   []string
	window   time.Duration
	tracker  *newterms.Tracker
	off      *offTerms // Options.Offline: judged at Drain
	cap      signalCap // max_signals per interval
	// overflow holds alerts max_signals held back in interval ovBucket,
	// offered once more to the next interval (see offer).
	overflow []Alert
	ovBucket int64
	deferred atomic.Uint64
	heldBack atomic.Uint64 // held back for good
	static   map[string]any

	matches, excepted, alerts atomic.Uint64
	terms                     atomic.Int64
	termsEvicted              atomic.Uint64
	capped, dropped           atomic.Uint64 // MaxTuplesPerEvent
	ignoredAbove              atomic.Uint64 // ecs.IgnoreAbove
	// Mirrors of the tracker's flush failures, for Stats from any goroutine.
	stateErrors atomic.Uint64
	stateErr    atomic.Pointer[string]
}

// noteState copies the tracker's flush failures where Stats can read them;
// called on the detection goroutine after anything that may flush.
func (rs *ruleState) noteState() {
	n := rs.tracker.FlushFailures()
	if n == rs.stateErrors.Load() {
		return
	}
	rs.stateErrors.Store(n)
	if err := rs.tracker.Err(); err != nil && rs.stateErr.Load() == nil {
		msg := err.Error()
		rs.stateErr.Store(&msg)
	}
}

// NewEngine prepares specs for processing. store may be nil (memory only);
// exc may be nil (no exceptions).
func NewEngine(specs []RuleSpec, store HistoryStore, exc Excepter, opt Options) (*Engine, error) {
	e := &Engine{now: opt.Now}
	if e.now == nil {
		e.now = time.Now
	}
	e.SetExcepter(exc)
	seen := map[string]bool{}
	for i, sp := range specs {
		if sp.Rule == nil || sp.Query == nil {
			return nil, fmt.Errorf("rule %d: missing rule or query", i)
		}
		r := *sp.Rule // overrides must not leak into the caller's rule
		if seen[r.RuleID] {
			return nil, fmt.Errorf("rule %q (%s): rule_id loaded twice", r.Name, r.RuleID)
		}
		seen[r.RuleID] = true
		rs := &ruleState{rule: &r, query: sp.Query}
		switch r.Type {
		case "new_terms":
			rs.newTerms = true
			if opt.HistoryWindow > 0 {
				r.SetHistoryWindow(opt.HistoryWindow)
			}
			if opt.NewTermsFields != nil {
				r.SetNewTermsFields(opt.NewTermsFields)
			}
			if len(r.NewTermsFields) == 0 {
				return nil, fmt.Errorf("rule %q: new_terms rule without new_terms_fields", r.Name)
			}
			if r.HistoryWindow <= 0 {
				return nil, fmt.Errorf("rule %q: new_terms rule without a history window", r.Name)
			}
			rs.fields, rs.window = r.NewTermsFields, r.HistoryWindow
			rs.tracker = newterms.NewTracker(store, r.HistoryWindow)
			if r.HistoryStart != nil {
				// Kibana resolves the date math against each run's now;
				// a stream's "now" for an event is the event's time.
				rs.tracker.Start = r.HistoryStart.At
			}
			if opt.Offline {
				rs.off = &offTerms{extras: map[uint64]*offExtra{}, hash: rs.tracker.Hash, held: map[int64][]uint32{}}
			}
			rs.terms.Store(int64(rs.tracker.Terms(r.RuleID)))
			if err := rs.tracker.Err(); err != nil {
				return nil, fmt.Errorf("rule %q: %w", r.Name, err)
			}
		case "query":
		default:
			return nil, fmt.Errorf("rule %q: unsupported rule type %q", r.Name, r.Type)
		}
		rs.cap.init(&r)
		if rs.off != nil {
			rs.off.interval, rs.off.keep = rs.cap.interval, 2*int(rs.cap.maxSignals)
		}
		rs.static = ruleFields(&r, rs.cap.interval, int(rs.cap.maxSignals))
		e.rules = append(e.rules, rs)
	}
	return e, nil
}

// SetExcepter replaces the exception items in force (nil = none); events
// processed afterwards see the new set.
func (e *Engine) SetExcepter(exc Excepter) {
	e.exc.Store(&excHolder{e: exc})
}

// Process runs every rule over one event and returns the alerts it raises,
// in rule order; alerts deferred from an earlier interval that this event's
// time releases are collected by Released. Event
// time is event.ingested, else @timestamp (Kibana's timestamp_override
// with fallback), in any format Elasticsearch's default date format
// accepts; it is also the clock exception expiry is judged against, so a
// scan of old files behaves as a live run would have. An event without a
// usable time is counted (Stats.Untimed) and judged at the engine's
// current time (the wall clock before any timed event), without moving it:
// a time that cannot be trusted never rewrites what history means.
func (e *Engine) Process(ev ecs.Doc, f Flags) []Alert {
	e.events.Add(1)
	ms, ok := eventTime(ev)
	if ok {
		e.advance(ms)
	} else {
		e.untimed.Add(1)
		ms = e.newest
		if ms == 0 {
			ms = e.now().UnixMilli()
		}
	}
	exc := e.exc.Load().e
	rexc, _ := exc.(RuleExcepter)
	var out []Alert
	for _, rs := range e.rules {
		if len(rs.overflow) > 0 && floorDiv(ms, rs.cap.interval) > rs.ovBucket {
			e.released = rs.release(e.released)
		}
		if !rs.query.Match(ev) {
			continue
		}
		if exc != nil {
			var hit bool
			if rexc != nil {
				_, hit = rexc.MatchRule(rs.rule.RuleID, ev, time.UnixMilli(ms))
			} else {
				_, hit = exc.Match(ev, time.UnixMilli(ms))
			}
			if hit {
				rs.excepted.Add(1)
				if ee, ok := exc.(ExpiringExcepter); ok && rs.off != nil {
					if until, _ := ee.ExceptedUntil(rs.rule.RuleID, ev, time.UnixMilli(ms)); !until.IsZero() {
						tuples, _, _ := e.tuples(ev, rs.fields)
						for _, tup := range tuples {
							rs.off.except(tup, ms, until.UnixMilli())
						}
					}
				}
				continue
			}
		}
		rs.matches.Add(1)
		if !rs.newTerms {
			out = e.offer(rs, out, ev, f, ms, nil, time.Time{})
			continue
		}
		tuples, dropped, ignored := e.tuples(ev, rs.fields)
		if ignored {
			rs.ignoredAbove.Add(1)
		}
		if dropped > 0 {
			rs.capped.Add(1)
			rs.dropped.Add(dropped)
		}
		if rs.off != nil {
			for _, tup := range tuples {
				if ok {
					rs.off.observe(tup, ms, rs.tracker.WindowStart, ev, f)
				} else {
					rs.off.observeUntimed(tup, ev, f)
				}
			}
			rs.terms.Store(int64(rs.off.count))
			continue
		}
		for _, tup := range tuples {
			isNew, last := rs.tracker.Observe(rs.rule.RuleID, tup, time.UnixMilli(ms))
			// Held-back tuples still entered history above: the next
			// sighting is not new, as in Kibana where the truncated
			// alert's documents still count as seen; offer gives the
			// alert itself a second chance in the next interval.
			if isNew {
				out = e.offer(rs, out, ev, f, ms, tup, last)
			}
		}
		rs.terms.Store(int64(rs.tracker.Terms(rs.rule.RuleID)))
		rs.termsEvicted.Store(rs.tracker.Evicted())
		rs.noteState()
	}
	e.maybePrune()
	return out
}

// offer applies max_signals to a new alert of event time ms. Kibana runs
// a rule every interval over a look-back (from = now-9m) longer than the
// interval, so a term that a full run truncated is still new in the next
// run's overlap and is alerted then. The streaming equivalent: an alert
// the interval's budget holds back waits (at most max_signals of them) and
// is offered once to the next interval, when an event of a later interval
// arrives or at Drain; only what that interval cannot take either is held
// back for good (Stats.HeldBack).
func (e *Engine) offer(rs *ruleState, out []Alert, ev ecs.Doc, f Flags, ms int64, tup []string, last time.Time) []Alert {
	if rs.cap.take(ms) {
		rs.alerts.Add(1)
		return append(out, e.alert(rs, ev, f, ms, tup, last))
	}
	b := floorDiv(ms, rs.cap.interval)
	if len(rs.overflow) >= int(rs.cap.maxSignals) || len(rs.overflow) > 0 && b < rs.ovBucket {
		// The next interval can take no more than max_signals; and a
		// late event's bucket has had its second chance already.
		rs.heldBack.Add(1)
		return out
	}
	rs.overflow = append(rs.overflow, e.alert(rs, ev, f, ms, tup, last))
	rs.ovBucket = max(rs.ovBucket, b)
	rs.deferred.Add(1)
	return out
}

// release offers the deferred alerts to the interval after the one that
// held them back, in the order they were raised.
func (rs *ruleState) release(out []Alert) []Alert {
	next := (rs.ovBucket + 1) * rs.cap.interval
	for i, a := range rs.overflow {
		if rs.cap.take(next) {
			rs.alerts.Add(1)
			out = append(out, a)
		} else {
			rs.heldBack.Add(1)
		}
		rs.overflow[i] = Alert{}
	}
	rs.overflow = rs.overflow[:0]
	return out
}

// Released returns the deferred alerts (see offer) that the events
// processed since the last call released, and forgets them. They belong to
// earlier events, which is why Process does not return them: callers that
// attach alerts to the current event (stories, the upload-exec chain) must
// not attach these.
func (e *Engine) Released() []Alert {
	out := e.released
	e.released = nil
	return out
}

// Drain returns the alerts still deferred by max_signals, offered to the
// interval after theirs as the next scheduled run would, and with
// Options.Offline every new_terms alert of the input (whose term history
// the next Flush writes, as DrainTo says).
func (e *Engine) Drain() []Alert {
	var out []Alert
	e.DrainTo(func(as []Alert) { out = append(out, as...) })
	return out
}

// drainBatch is how many alerts DrainTo gathers before handing them on
// (an offer may add up to max_signals more: those it released).
const drainBatch = 256

// DrainTo is Drain handing the alerts to emit as they are built, in order,
// a batch at a time (drainBatch; the slice is emit's only during the call):
// a scan of a flood of new terms raises ~10,000 alerts at the end of its
// input, ~80 MB as documents if all were held at once (scan calls it).
// With Options.Offline the input's term history is written by the next
// Flush, once the caller has delivered the alerts.
func (e *Engine) DrainTo(emit func([]Alert)) {
	var out []Alert
	for _, rs := range e.rules {
		if rs.off != nil {
			out = e.finishOffline(rs, out, emit)
		}
		if len(rs.overflow) > 0 {
			out = rs.release(out)
		}
	}
	if len(out) > 0 {
		emit(out)
	}
}

// Forfeit counts the alerts still deferred by max_signals as held back for
// good: a live run that stops before the next interval never offers them,
// and an alert neither shown nor counted would be a silent loss.
func (e *Engine) Forfeit() {
	for _, rs := range e.rules {
		rs.heldBack.Add(uint64(len(rs.overflow)))
		clear(rs.overflow)
		rs.overflow = rs.overflow[:0]
	}
}

// DrainDue is Drain for a live run: it releases the alerts of rules whose
// deferred interval ended at least one interval before now (wall clock),
// so a quiet stream does not keep them waiting for the next event.
func (e *Engine) DrainDue(now time.Time) []Alert {
	var out []Alert
	ms := now.UnixMilli()
	for _, rs := range e.rules {
		if len(rs.overflow) > 0 && floorDiv(ms, rs.cap.interval) > rs.ovBucket+1 {
			out = rs.release(out)
		}
	}
	return out
}

// Clock bounds (see advance).
const (
	// clockRing is how many recent event times the clock's median takes.
	clockRing = 9
	// clockSkew is how far past the wall clock event time may move the
	// engine's now: clocks of other hosts drift, a day does not.
	clockSkew = 24 * time.Hour
)

// advance moves the engine's now (which ages history out) with event time,
// without letting a single outlier drag it into the future, where pruning
// at now − window would forget every real sighting: now is the lower
// median of the last clockRing event times, never more than clockSkew past
// the wall clock, and never moves back. A stream that truly jumps ahead
// moves now once half the recent events agree; until then history is only
// kept longer, which costs memory, not correctness (every decision uses
// the event's own window).
func (e *Engine) advance(ms int64) {
	e.recent[e.nRecent%clockRing] = ms
	e.nRecent++
	if ms <= e.newest {
		return // the median cannot pass newest on an older time's account
	}
	n := min(e.nRecent, clockRing)
	var s [clockRing]int64
	copy(s[:], e.recent[:n])
	for i := 1; i < n; i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	m := s[(n-1)/2]
	if m > e.wallLimit {
		e.wallLimit = e.now().Add(clockSkew).UnixMilli()
		m = min(m, e.wallLimit)
	}
	if m > e.newest {
		e.newest = m
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// maybePrune ages out history as event time advances, a few hundred times
// per window, so the cost of walking every tuple stays negligible.
func (e *Engine) maybePrune() {
	for _, rs := range e.rules {
		if rs.tracker == nil {
			continue
		}
		step := max(rs.window.Milliseconds()/256, time.Minute.Milliseconds())
		if e.newest-e.lastPrune < step {
			return
		}
	}
	e.lastPrune = e.newest
	for _, rs := range e.rules {
		if rs.tracker != nil {
			rs.tracker.Prune(time.UnixMilli(e.newest).Add(-reorderSlack))
			rs.terms.Store(int64(rs.tracker.Terms(rs.rule.RuleID)))
		}
	}
}

// MaxTuplesPerEvent caps the new_terms tuples one event is judged on.
// Array-valued fields multiply: a 58 KB document with 3,000 host.id and
// 3,000 process.executable values is 9 M tuples, which took 28 s and
// 2.29 GB and stalled every source meanwhile. Real events have one value
// per field (a handful at most), so the cap only bites on such documents;
// the tuples beyond it are not judged, and the event is counted
// (Stats.TuplesCapped, TuplesDropped) and shown, since it is an evasion.
const MaxTuplesPerEvent = 1000

// tuples returns the new-terms tuples of ev: the Cartesian product of each
// field's distinct keyword values, the last field varying fastest, cut at
// MaxTuplesPerEvent (dropped says how many were left out); none when a
// field has no value. ignored says a field had a value longer than
// ecs.IgnoreAbove, left out as Elasticsearch leaves it out. The result lives in the engine's scratch space until
// the next call: the tracker only reads tuples and alerts copy them.
func (e *Engine) tuples(ev ecs.Doc, fields []string) (tuples [][]string, dropped uint64, ignored bool) {
	e.vals = e.vals[:0]
	total := uint64(1)
	for _, f := range fields {
		kw, n := ev.KeywordsIgnored(f)
		ignored = ignored || n > 0
		v := e.distinct(kw)
		if len(v) == 0 {
			return nil, 0, ignored
		}
		e.vals = append(e.vals, v)
		// Saturating: three fields of a few million values each must not
		// wrap around to a small product.
		if total > uint64(1)<<40 || uint64(len(v)) > uint64(1)<<20 {
			total = uint64(1) << 60
		} else {
			total *= uint64(len(v))
		}
	}
	n := int(min(total, MaxTuplesPerEvent))
	e.flat = e.flat[:0]
	for c := range n {
		start := len(e.flat)
		e.flat = append(e.flat, make([]string, len(fields))...)
		tup := e.flat[start:]
		for i := len(fields) - 1; i >= 0; i-- {
			tup[i] = e.vals[i][c%len(e.vals[i])]
			c /= len(e.vals[i])
		}
	}
	e.tup = e.tup[:0]
	for c := range n {
		e.tup = append(e.tup, e.flat[c*len(fields):(c+1)*len(fields):(c+1)*len(fields)])
	}
	return e.tup, total - uint64(n), ignored
}

// distinct returns vs without repeats, first occurrences in order. Short
// lists (the usual single value) are compared pairwise; longer ones go
// through a set, so a hostile array costs linear time, not quadratic.
func (e *Engine) distinct(vs []string) []string {
	if len(vs) < 2 {
		return vs
	}
	out := vs[:0:0]
	if len(vs) <= 8 {
		for i, v := range vs {
			if !slices.Contains(vs[:i], v) {
				out = append(out, v)
			}
		}
		return out
	}
	if e.seen == nil {
		e.seen = map[string]struct{}{}
	}
	defer clear(e.seen)
	for _, v := range vs {
		if _, dup := e.seen[v]; !dup {
			e.seen[v] = struct{}{}
			out = append(out, v)
		}
	}
	return out
}

// Flush writes buffered term history to the store. Call it on a timer when
// the stream goes quiet (history otherwise reaches the store every 500 ms
// of busy processing) and before closing the store. After an Offline
// Drain or DrainTo it is what writes the input's history, and lets the
// history flush on its own again.
func (e *Engine) Flush() error {
	var errs []error
	for _, rs := range e.rules {
		if rs.tracker != nil {
			// Resume: Flush, ending the suspension an Offline drain leaves.
			if err := rs.tracker.Resume(); err != nil {
				errs = append(errs, fmt.Errorf("rule %q: %w", rs.rule.Name, err))
			}
			rs.noteState()
		}
	}
	return errors.Join(errs...)
}

// FlushIfDue flushes buffered term history when some is pending and the
// last flush is at least 500 ms old. Call it after every batch of events or
// on a ticker (from the processing goroutine): busy streams flush on their
// own, but a stream that goes quiet needs this to reach the store.
func (e *Engine) FlushIfDue() error {
	var errs []error
	for _, rs := range e.rules {
		if rs.tracker != nil {
			if err := rs.tracker.FlushIfDue(); err != nil {
				errs = append(errs, fmt.Errorf("rule %q: %w", rs.rule.Name, err))
			}
			rs.noteState()
		}
	}
	return errors.Join(errs...)
}

// Coverage returns how far back ruleID's baseline really goes (zero when it
// has none or is not a new_terms rule). It walks the rule's whole history.
func (e *Engine) Coverage(ruleID string) time.Time {
	for _, rs := range e.rules {
		if rs.rule.RuleID == ruleID && rs.tracker != nil {
			return rs.tracker.Coverage(ruleID)
		}
	}
	return time.Time{}
}

// Stats returns a snapshot of the counters.
func (e *Engine) Stats() Stats {
	s := Stats{Events: e.events.Load(), Untimed: e.untimed.Load()}
	for _, rs := range e.rules {
		r := RuleStats{
			RuleID:   rs.rule.RuleID,
			Name:     rs.rule.Name,
			Type:     rs.rule.Type,
			Fields:   rs.fields,
			Window:   rs.window,
			Matches:  rs.matches.Load(),
			Excepted: rs.excepted.Load(),
			Alerts:   rs.alerts.Load(),
			HeldBack: rs.heldBack.Load(),
			Terms:    int(rs.terms.Load()),
		}
		s.Matches += r.Matches
		s.Excepted += r.Excepted
		s.Alerts += r.Alerts
		s.HeldBack += r.HeldBack
		s.Deferred += rs.deferred.Load()
		s.Terms += r.Terms
		s.TermsEvicted += rs.termsEvicted.Load()
		s.TuplesCapped += rs.capped.Load()
		s.TuplesDropped += rs.dropped.Load()
		s.IgnoredAbove += rs.ignoredAbove.Load()
		s.StateErrors += rs.stateErrors.Load()
		if m := rs.stateErr.Load(); m != nil && s.StateErr == "" {
			s.StateErr = *m
		}
		s.Rules = append(s.Rules, r)
	}
	return s
}

// Newest is the newest event time processed: the clock new_terms judges
// by. Like Coverage, it belongs to the detection goroutine.
func (e *Engine) Newest() time.Time {
	if e.newest == 0 {
		return time.Time{}
	}
	return time.UnixMilli(e.newest)
}

// eventTime returns the event's detection time in Unix ms: event.ingested,
// falling back to @timestamp (Kibana's timestamp_override with fallback,
// whose runtime field takes @timestamp when event.ingested has no indexed
// value — an unparsable one included, under ignore_malformed).
func eventTime(ev ecs.Doc) (int64, bool) {
	if ms, ok := parseTime(ev.Get("event.ingested")); ok {
		return ms, true
	}
	return parseTime(ev.Get("@timestamp"))
}

func parseTime(v any) (int64, bool) {
	if a, ok := v.([]any); ok && len(a) == 1 {
		v = a[0] // a one-element array is the value, as Elasticsearch reads it
	}
	return esdate.Millis(v)
}
