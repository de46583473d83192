// Package bridge carries events from sources to a consumer through a
// bounded buffer, in batches. A source that can wait (a file, a pipe) is
// held back while the buffer is full, so nothing it reads is lost; one that
// cannot (the kernel's audit stream) is never blocked by a slow consumer (a
// terminal UI, a pipe): what does not fit is dropped and counted per
// source. It also drops the second copy of a kernel event seen through two
// sources.
package bridge

import (
	"context"
	"sync"
	"time"

	"github.com/xferhunt/xferhunt/sources"
)

// Options configure a Bridge.
type Options struct {
	// Capacity is the most events held for the consumer (default 65536).
	Capacity int
	// MaxBytes bounds the estimated memory of the held events (default
	// 64 MiB): events differ a hundredfold in size (event.original), so a
	// count alone does not bound memory.
	MaxBytes int
	// Interval is the least time between two batches. The default, 0,
	// hands events over as soon as the consumer is free: batches then form
	// by themselves while it is busy, and an idle pipeline adds no delay.
	Interval time.Duration
	// DedupWindow is how many event keys are remembered to drop duplicates
	// (default 65536; negative disables dedup).
	DedupWindow int
}

// Stats are the bridge's counters.
type Stats struct {
	Accepted  uint64
	Delivered uint64
	Dropped   uint64            // buffer full
	DroppedBy map[string]uint64 // per source name
	Duplicate uint64            // same kernel event from a second source
	Queued    int
}

// Bridge is a bounded, batching, deduplicating event buffer.
type Bridge struct {
	opt  Options
	wake chan struct{}
	// room is closed, and replaced, when Take empties the buffer: it
	// wakes the sources waiting for room.
	room chan struct{}

	mu  sync.Mutex
	buf []sources.Event
	// free is a batch Run delivered and got back, emptied: Take fills it
	// next instead of allocating (a live run takes a batch per wake-up,
	// often of one event: 64 fresh slots each time were 12% of the bytes
	// a netlink run allocated).
	free      []sources.Event
	bytes     int // estimated size of buf
	stats     Stats
	seen, old map[dedupKey]struct{}
}

type dedupKey struct{ key, action, path string }

// New returns an empty bridge.
func New(opt Options) *Bridge {
	if opt.Capacity <= 0 {
		opt.Capacity = 65536
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = 64 << 20
	}
	if opt.DedupWindow == 0 {
		opt.DedupWindow = 65536
	}
	return &Bridge{opt: opt, wake: make(chan struct{}, 1), room: make(chan struct{}),
		buf:   make([]sources.Event, 0, min(opt.Capacity, 4096)),
		stats: Stats{DroppedBy: map[string]uint64{}},
		seen:  map[dedupKey]struct{}{}, old: map[dedupKey]struct{}{}}
}

// Emitter returns the emit function to give a source's Run: it never
// blocks longer than a mutex hold, and counts drops under name.
func (b *Bridge) Emitter(name string) func([]sources.Event) {
	return func(evs []sources.Event) { b.Push(name, evs) }
}

// WaitingEmitter returns the emit function for a source that can wait
// (sources.Waiter): while the buffer is half full it blocks until the
// consumer takes what is queued, so a file read faster than it is
// detected on loses nothing. The other half is left to sources that cannot
// wait, so a file's backfill never makes the kernel stream drop. Once ctx
// ends it waits no more: what does not fit then is dropped and counted.
func (b *Bridge) WaitingEmitter(ctx context.Context, name string) func([]sources.Event) {
	return func(evs []sources.Event) { b.push(ctx, true, name, evs) }
}

// Push queues events from the named source, dropping duplicates and
// whatever exceeds the capacity.
func (b *Bridge) Push(name string, evs []sources.Event) {
	b.push(context.Background(), false, name, evs)
}

// push queues evs; if wait, it waits for room instead of dropping until
// ctx ends.
func (b *Bridge) push(ctx context.Context, wait bool, name string, evs []sources.Event) {
	b.mu.Lock()
	for _, ev := range evs {
		if ev.Key != "" && b.opt.DedupWindow > 0 && b.duplicate(ev) {
			b.stats.Duplicate++
			continue
		}
		size := eventSize(ev)
		// An event too large for half the buffer still goes in alone.
		for wait && ctx.Err() == nil && len(b.buf) > 0 &&
			(len(b.buf) >= b.opt.Capacity/2 || b.bytes+size > b.opt.MaxBytes/2) {
			room := b.room
			b.mu.Unlock()
			b.signal()
			select {
			case <-room:
			case <-ctx.Done():
			}
			b.mu.Lock()
		}
		if len(b.buf) >= b.opt.Capacity || b.bytes+size > b.opt.MaxBytes {
			b.stats.Dropped++
			b.stats.DroppedBy[name]++
			continue
		}
		b.buf = append(b.buf, ev)
		b.bytes += size
		b.stats.Accepted++
	}
	b.mu.Unlock()
	b.signal()
}

// signal tells Run there is something to take.
func (b *Bridge) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// duplicate records ev's identity and reports whether it was already seen.
// One kernel event can yield several events (a rename is a creation and a
// deletion), so the action and path are part of the identity.
func (b *Bridge) duplicate(ev sources.Event) bool {
	k := dedupKey{ev.Key, ev.Doc.Str("event.action"), ev.Doc.Str("file.path")}
	if _, ok := b.seen[k]; ok {
		return true
	}
	if _, ok := b.old[k]; ok {
		b.seen[k] = struct{}{}
		return true
	}
	// Two generations bound memory without per-key timestamps.
	if len(b.seen) >= b.opt.DedupWindow/2 {
		b.old, b.seen = b.seen, make(map[dedupKey]struct{}, len(b.seen))
	}
	b.seen[k] = struct{}{}
	return false
}

// Take removes and returns everything queued (nil when empty). The caller
// owns the returned slice.
func (b *Bridge) Take() []sources.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf) == 0 {
		return nil
	}
	out := b.buf
	if b.free != nil {
		b.buf, b.free = b.free, nil
	} else {
		b.buf = make([]sources.Event, 0, min(max(len(out), 64), b.opt.Capacity))
	}
	b.bytes = 0
	b.stats.Delivered += uint64(len(out))
	close(b.room)
	b.room = make(chan struct{})
	return out
}

// Run hands batches to deliver until ctx ends, then delivers what is
// left. deliver may block; sources keep filling the buffer meanwhile, up
// to Capacity and MaxBytes (half of them for sources that wait). Ending ctx
// only after the sources have returned delivers everything they emitted.
// deliver must not keep the batch slice once it returns (the events'
// documents it may keep): Run reuses it for a later batch.
func (b *Bridge) Run(ctx context.Context, deliver func([]sources.Event)) {
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			if batch := b.Take(); batch != nil {
				deliver(batch)
			}
			return
		case <-b.wake:
		}
		if wait := b.opt.Interval - time.Since(last); b.opt.Interval > 0 && wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				continue
			case <-t.C:
			}
		}
		last = time.Now()
		if batch := b.Take(); batch != nil {
			deliver(batch)
			b.recycle(batch)
		}
	}
}

// recycle keeps a delivered batch for Take to fill next. Its events are
// cleared first, so the slice holds no document alive; a batch far larger
// than usual (a backfill burst) is let go rather than kept.
func (b *Bridge) recycle(batch []sources.Event) {
	if cap(batch) > 4096 {
		return
	}
	clear(batch)
	b.mu.Lock()
	b.free = batch[:0]
	b.mu.Unlock()
}

// Stats returns a snapshot of the counters.
func (b *Bridge) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.stats
	s.Queued = len(b.buf)
	s.DroppedBy = make(map[string]uint64, len(b.stats.DroppedBy))
	for k, v := range b.stats.DroppedBy {
		s.DroppedBy[k] = v
	}
	return s
}

// eventSize estimates an event's memory: its raw records plus what a
// normalized document of a few dozen fields costs.
func eventSize(ev sources.Event) int {
	n := 2048
	if s, ok := ev.Doc.Get("event.original").(string); ok {
		n += len(s)
	}
	return n
}
