package alertdb

import (
	"context"
	"sync"
	"time"

	"github.com/xferhunt/xferhunt/detect"
)

// Feeder sits between the detection engine and a consumer whose delivery
// blocks (a Bubble Tea program's Send waits until Update takes the
// message), so the engine never waits on it per alert: Push turns the
// alert into a compact Row (CPU only, ~0.1 ms, never waiting on the
// consumer) and appends it to a bounded buffer, dropping and counting when
// full; Forward delivers what accumulated as one Batch per tick. Converting
// in Push keeps the buffer small (rows, not document maps) so it can be
// deep enough for a backfill burst.
//
// H is the health snapshot delivered on the same tick; only the newest
// one is kept. The feeder does not look inside it.
type Feeder[H any] struct {
	mu      sync.Mutex
	buf     []*Row
	limit   int
	dropped uint64
	health  *H
}

// Batch is what accumulated since the last tick. Dropped is the running
// count of alerts Push discarded because the buffer was full.
type Batch struct {
	Rows    []*Row
	Dropped uint64
}

// keepArrival is how many buffered rows keep their original document, so
// a live filter can test them without decoding; deeper rows drop it to
// keep the buffer's memory bounded.
const keepArrival = 1000

// NewFeeder returns a feeder holding at most limit undelivered alerts
// (100k when limit <= 0, roughly 70 MB at worst).
func NewFeeder[H any](limit int) *Feeder[H] {
	if limit <= 0 {
		limit = 100_000
	}
	return &Feeder[H]{limit: limit}
}

// Push queues an alert without blocking. It reports false when the buffer
// was full and the alert was dropped.
func (f *Feeder[H]) Push(a detect.Alert) bool {
	f.mu.Lock()
	full := len(f.buf) >= f.limit
	if full {
		f.dropped++
	}
	f.mu.Unlock()
	if full {
		return false
	}
	r := newRow(0, a) // outside the lock: Forward must not wait on it
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.buf) >= keepArrival {
		r.arrival = nil
	}
	f.buf = append(f.buf, r)
	return true
}

// SetHealth records the latest health snapshot; only the newest one is
// delivered on the next tick.
func (f *Feeder[H]) SetHealth(h H) {
	f.mu.Lock()
	f.health = &h
	f.mu.Unlock()
}

// Len is how many pushed alerts wait for the next tick: a reader of a
// file (xferhunt view) waits while it is high instead of having Push drop.
func (f *Feeder[H]) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.buf)
}

// Dropped is how many alerts Push has discarded.
func (f *Feeder[H]) Dropped() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dropped
}

// take swaps out what accumulated since the last tick.
func (f *Feeder[H]) take() (Batch, *H, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	batch, h := f.buf, f.health
	f.buf, f.health = nil, nil
	return Batch{Rows: batch, Dropped: f.dropped}, h, len(batch) > 0
}

// Forward delivers every interval, until ctx ends, the batch that
// accumulated (to alerts) and then the newest health snapshot (to health).
// A tick with no new rows and an unchanged drop count delivers no batch:
// it is not worth a redraw.
func (f *Feeder[H]) Forward(ctx context.Context, interval time.Duration, alerts func(Batch), health func(H)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var sentDropped uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		b, h, any := f.take()
		if any || b.Dropped != sentDropped {
			alerts(b)
			sentDropped = b.Dropped
		}
		if h != nil {
			health(*h)
		}
	}
}
