package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/state"
	"github.com/xferhunt/xferhunt/story"
)

// Retention of the durable queue in the state store: a restarted run
// shows the newest 10,000 alerts again and tells stories from the newest
// 200,000 events (about 350 bytes each on disk), each journal also bounded
// in bytes so that big records (an event keeps up to 8 KiB of arguments,
// an alert ~24 KB) cannot fill the disk: at most ~400 MB of state.
var (
	keepAlerts = state.Retention{Records: 10000, Bytes: 256 << 20}
	keepEvents = state.Retention{Records: 200000, Bytes: 128 << 20}
)

const (
	// journalEvery is how often buffered records are committed: one bbolt
	// transaction a second, however busy the host.
	journalEvery = time.Second
	// maxPending and maxPendingBytes bound what waits for the next commit;
	// beyond them records are dropped and counted (a stalled disk must not
	// grow memory).
	maxPending      = 100000
	maxPendingBytes = 64 << 20
)

// journal batches the alerts and story events of a live run into the
// state store, so that a restart on the same --state shows the same
// alerts and stories. Detection only appends to memory; run commits.
type journal struct {
	st *state.Store

	mu      sync.Mutex
	alerts  [][]byte
	events  [][]byte
	pending int             // bytes in alerts and events
	seen    map[string]bool // alert uuids already journaled (restored ones too)
	dropped atomic.Uint64
	failed  atomic.Uint64
	lastErr atomic.Value // string
}

func newJournal(st *state.Store) *journal {
	return &journal{st: st, seen: map[string]bool{}}
}

// event queues a story event.
func (j *journal) event(e *story.Event) {
	b, err := e.Encode()
	if err != nil {
		j.dropped.Add(1)
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.room(len(j.events), b) {
		return
	}
	j.events = append(j.events, b)
}

// alert queues an alert document, once per uuid.
func (j *journal) alert(a detect.Alert) {
	id := a.ID()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.seen[id] {
		return
	}
	b, err := ecs.AppendJSON(nil, map[string]any(a.Doc))
	if err != nil {
		j.dropped.Add(1)
		return
	}
	if !j.room(len(j.alerts), b) {
		return
	}
	j.seen[id] = true
	j.alerts = append(j.alerts, b)
}

// update queues a newer copy of an alert already queued (its file facts
// settled): the restore keeps the last copy of each uuid.
func (j *journal) update(a detect.Alert) {
	b, err := ecs.AppendJSON(nil, map[string]any(a.Doc))
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil {
		j.dropped.Add(1)
		return
	}
	if !j.room(len(j.alerts), b) {
		return
	}
	j.alerts = append(j.alerts, b)
}

// room says whether b fits beside the n records of its kind waiting for
// the next commit, and takes its bytes; a record that does not fit is
// counted as dropped. Callers hold mu.
func (j *journal) room(n int, b []byte) bool {
	if n >= maxPending || j.pending+len(b) > maxPendingBytes {
		j.dropped.Add(1)
		return false
	}
	j.pending += len(b)
	return true
}

// flush commits what is queued. A failed commit keeps nothing: the records
// are counted as dropped and the error is kept for the status line.
func (j *journal) flush() {
	j.mu.Lock()
	alerts, events := j.alerts, j.events
	j.alerts, j.events, j.pending = nil, nil, 0
	j.mu.Unlock()
	for _, w := range []struct {
		j    state.Journal
		recs [][]byte
		keep state.Retention
	}{{state.JournalAlerts, alerts, keepAlerts}, {state.JournalEvents, events, keepEvents}} {
		if _, err := j.st.Append(w.j, w.recs, w.keep); err != nil {
			j.failed.Add(1)
			j.dropped.Add(uint64(len(w.recs)))
			j.lastErr.Store(err.Error())
		}
	}
}

// run commits every journalEvery until ctx ends, then once more.
func (j *journal) run(ctx context.Context) {
	t := time.NewTicker(journalEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			j.flush()
			return
		case <-t.C:
			j.flush()
		}
	}
}

// restored is what a previous run left in the state store.
type restored struct {
	alerts []detect.Alert
	// until is the newest restored event's time (Unix ms): backfilled
	// events up to it are already in the store and are not added again.
	until   int64
	skipped int // records that could not be read (damaged, foreign)
}

// restore loads the journals into the event store and returns the alerts
// for the UI. Records that do not decode are skipped and counted.
func restore(st *state.Store, stories *story.Store, j *journal) (restored, error) {
	var r restored
	err := st.Records(state.JournalEvents, func(b []byte) error {
		e, err := story.Decode(b)
		if err != nil {
			r.skipped++
			return nil
		}
		r.until = max(r.until, e.Time)
		stories.Add(e)
		return nil
	})
	if err != nil {
		return r, err
	}
	err = st.Records(state.JournalAlerts, func(b []byte) error {
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil || doc == nil {
			r.skipped++
			return nil
		}
		a := detect.Alert{Doc: ecs.Doc(doc)}
		// A deferred alert was journaled after its event: the event's
		// record does not name it.
		if key := story.AlertKey(a.Doc); key != "" {
			stories.MarkAlert(key, a.ID())
		}
		if j != nil {
			j.seen[a.ID()] = true
		}
		r.alerts = append(r.alerts, a)
		return nil
	})
	if err != nil {
		return r, fmt.Errorf("restore alerts: %w", err)
	}
	return r, nil
}
