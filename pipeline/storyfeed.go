package pipeline

import (
	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/story"
)

// storyFeed routes every event of a run to what tells stories: the event
// store (the TUI's story view, `xferhunt story`) and the companion rules
// (upload-exec, coverage-shell-pipe). Either may be nil. File events go to
// detection as before; context events (execs, connections, logins) only
// come here.
type storyFeed struct {
	store      *story.Store
	companions []detect.Companion
	// chain is upload-exec among the companions, told of seed alerts.
	chain *detect.Chain
	// journal, when set, keeps every stored event across restarts.
	journal *journal
	// restoredUntil is the newest event time restored from the journal:
	// a backfill re-reading those events does not store them twice.
	restoredUntil int64
	// responder labels the events of the responder's own session (live).
	responder *responder
}

// wanted reports whether sources must emit context events for this feed.
func (f *storyFeed) wanted() bool { return f != nil && (f.store != nil || len(f.companions) > 0) }

// process runs one event through detection and the story, in the order
// the chain needs: an upload is followed before its own seed alert is
// noted, so the chain alert can name that alert.
func (f *storyFeed) process(eng *detect.Engine, ev sources.Event, loss bool) []detect.Alert {
	var alerts []detect.Alert
	// The story event, nil when nothing tells stories: made only then,
	// since the companions' interface calls move it to the heap (an
	// allocation for each event of a scan that has none).
	var se *story.Event
	if f.wanted() {
		if e, ok := story.FromDoc(ev.Doc, ev.Key); ok {
			se = &e
		}
	}
	seen := se != nil && ev.Historical && se.Time <= f.restoredUntil
	if se != nil && len(f.companions) > 0 {
		for _, c := range f.companions {
			alerts = append(alerts, c.Process(ev.Doc, se, detect.Flags{Historical: ev.Historical, Loss: loss, Key: ev.Key})...)
		}
		if seen {
			// The last run raised these already (they are in its alert
			// journal); re-reading its events only rebuilds the chains.
			alerts = nil
		}
	}
	var seed []detect.Alert
	if !ev.Context {
		seed = eng.Process(ev.Doc, detect.Flags{Historical: ev.Historical, Loss: loss, Key: ev.Key})
	}
	for i := range seed {
		if f.chain != nil {
			var host, path, key string
			if se != nil {
				host, path, key = se.Host, se.Path, se.Key
			}
			f.chain.NoteAlert(host, path, key, seed[i].ID())
		}
		if se != nil && se.Alert == "" {
			se.Alert = seed[i].ID()
		}
	}
	if se != nil && f.store != nil && !seen {
		for i := range alerts {
			if se.Alert == "" {
				se.Alert = alerts[i].ID()
			}
		}
		f.responder.markEvent(se)
		f.store.Add(*se)
		if f.journal != nil {
			f.journal.event(se)
		}
	}
	// Alerts max_signals deferred from an earlier interval belong to
	// earlier events: not to this one's upload, but marked on their own
	// event in the story.
	return append(append(seed, alerts...), f.released(eng.Released())...)
}

// released marks, on the events they were raised on, alerts that
// max_signals deferred and a later event or the clock released: the
// story tells every event that alerted, not only those that alerted at
// once. It returns the alerts.
func (f *storyFeed) released(alerts []detect.Alert) []detect.Alert {
	if f != nil && f.store != nil {
		for i := range alerts {
			if key := story.AlertKey(alerts[i].Doc); key != "" {
				f.store.MarkAlert(key, alerts[i].ID())
			}
		}
	}
	return alerts
}
