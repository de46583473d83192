package detect

import (
	"sync/atomic"
	"time"

	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/story"
)

// Companion is a built-in rule that xferhunt evaluates in Go over story
// events (SPEC §8): it sees every event of a run in order, file events
// and context events (execs, chmods, logins) alike. Not safe for
// concurrent use.
type Companion interface {
	// Rule is the companion's rule.
	Rule() *rules.Rule
	// Process follows one story event; doc is its full document. It
	// returns the alerts the event completes.
	Process(doc ecs.Doc, e *story.Event, f Flags) []Alert
	// Raised counts the alerts raised so far; HeldBack those max_signals
	// held back. Both are safe to read from any goroutine.
	Raised() uint64
	HeldBack() uint64
}

// signalCap is max_signals per interval of event time (buckets aligned to
// the Unix epoch), for query and new_terms rules and companions alike: a
// flood (a process named scp creating and running files in a loop, ssh
// commands in a loop) cannot bury the real alert under thousands.
type signalCap struct {
	interval, maxSignals int64
	buckets              map[int64]int64
	heldBack             atomic.Uint64
}

// init sets the cap from the rule (Kibana's defaults when it has none).
func (c *signalCap) init(r *rules.Rule) {
	c.interval, c.maxSignals, c.buckets = r.Interval.Milliseconds(), int64(r.MaxSignals), map[int64]int64{}
	if c.interval <= 0 {
		c.interval = defaultInterval.Milliseconds()
	}
	if c.maxSignals <= 0 {
		c.maxSignals = defaultMaxSignals
	}
}

// admit applies max_signals to an alert of event time ms, counting what
// it holds back.
func (c *signalCap) admit(ms int64) bool {
	if !c.take(ms) {
		c.heldBack.Add(1)
		return false
	}
	return true
}

// take is admit without counting a refusal: the engine's rules defer what
// it refuses (Engine.offer) and count it themselves.
func (c *signalCap) take(ms int64) bool {
	b := floorDiv(ms, c.interval)
	if c.buckets[b] >= c.maxSignals {
		return false
	}
	c.buckets[b]++
	if len(c.buckets) > 64 {
		// Only late events revisit old buckets; a few dozen intervals
		// back is far more than sources reorder.
		for k := range c.buckets {
			if k < b-32 {
				delete(c.buckets, k)
			}
		}
	}
	return true
}

// HeldBack counts the alerts max_signals held back.
func (c *signalCap) HeldBack() uint64 { return c.heldBack.Load() }

// NewCompanion returns the evaluator a companion rule names
// (Rule.Companion), nil for any other rule.
func NewCompanion(r *rules.Rule) Companion {
	switch r.Companion {
	case rules.UploadExec:
		return NewChain(r)
	case rules.ShellPipe:
		return NewShellPipe(r)
	}
	return nil
}

// companionAlert starts the alert document of a companion rule: the
// trigger event's fields (ev, story form e), the rule's static fields,
// Kibana's alert keys, and xferhunt's flags. The caller adds the
// ancestors, the reason, xferhunt.explain and its own object.
func companionAlert(static map[string]any, ev ecs.Doc, e *story.Event, uuid string, now time.Time, f Flags) ecs.Doc {
	nowStr := now.UTC().Format(kibanaTime)
	doc := alertBase(ev, static)
	doc["@timestamp"] = nowStr
	doc["kibana.alert.original_time"] = e.When().Format(kibanaTime)
	doc["kibana.alert.uuid"] = uuid
	doc["kibana.alert.workflow_status"] = "open"
	doc["kibana.alert.workflow_tags"] = []any{}
	doc["kibana.alert.workflow_assignee_ids"] = []any{}
	doc["kibana.alert.status"] = "active"
	doc["kibana.alert.start"] = nowStr
	doc["kibana.alert.last_detected"] = nowStr
	doc["kibana.alert.intended_timestamp"] = nowStr
	doc["kibana.space_ids"] = []any{"default"}
	doc.Set("xferhunt.historical", f.Historical)
	doc.Set("xferhunt.loss", f.Loss)
	doc.Set("xferhunt.event_time", e.When().Format(kibanaTime))
	return doc
}
