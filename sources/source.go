// Package sources turns what a host records (kernel audit over netlink,
// auditd and auditbeat logs, ECS exports) into normalized ECS events.
// A source knows nothing of rules or terminals.
package sources

import (
	"context"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
)

// Event is one normalized file event (SPEC §3) and where it came from.
type Event struct {
	Doc ecs.Doc
	// Historical marks events read during backfill, before the source went live.
	Historical bool
	// OffHost marks events of a source that does not say which host it
	// records (stdin, an ECS export): never treated as this host's live
	// stream (internal/liveness). The pipeline sets it per source.
	OffHost bool
	// Key identifies the kernel event for dedup across sources:
	// host id + audit timestamp + serial; "" when the input has none.
	Key string
	// Context marks an event that is not one of the file events rules
	// look at (SPEC §3) but the context a story tells around them: an
	// exec, a connection, an attribute change, a login or logout. Only
	// sources asked for a story emit them; detection skips them.
	Context bool
}

// Health is a snapshot of a source's counters, shown in the status bar and
// in headless status lines.
type Health struct {
	Name      string
	Live      bool // backfill done, now following
	Records   uint64
	Events    uint64 // file events (context events of stories are not counted)
	Malformed uint64 // lines or records that could not be parsed, skipped
	// Lost counts records lost before reaching us: kernel lost deltas
	// plus receive overruns (netlink); for a followed file, files of the
	// rotation set gone before they could be read (each held one or more
	// lines).
	Lost uint64
	// Suppressed is what the kernel's printk rate limit said it swallowed
	// while a unicast source read: possibly undelivered audit records,
	// possibly other kernel messages; a hint beside Lost, not part of it.
	Suppressed uint64
	Overruns   uint64 // times our netlink receive buffer overflowed (each lost one or more records)
	Gaps       uint64 // reassembly sequence gaps
	Dropped    uint64 // events dropped because a consumer was too slow
	Lag        time.Duration
	Err        string // last error, if the source is unhealthy
}

// Source produces events until its context ends, sending them in batches
// through emit. emit never blocks a source for long unless the source is a
// Waiter: the sink is bounded, and what it drops is counted in
// Health.Dropped.
type Source interface {
	Name() string
	Run(ctx context.Context, emit func([]Event)) error
	Health() Health
}

// FileEvents counts the file events of a batch, leaving out context events:
// a source's Health.Events says how many events the rules looked at.
func FileEvents(batch []Event) uint64 {
	var n uint64
	for i := range batch {
		if !batch[i].Context {
			n++
		}
	}
	return n
}

// Waiter is implemented by sources that read what is stored (a file, a
// pipe, a replay) and so can wait for a slow consumer: their emit blocks
// while the sink is full instead of dropping, and the input waits on disk
// or in the pipe. A source that is not one (the kernel's audit stream,
// whose records the kernel drops while nobody reads) is never made to
// wait.
type Waiter interface {
	Source
	CanWait() bool
}
