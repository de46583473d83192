package tui

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/xferhunt/xferhunt/detect"
)

// Feeder sits between the detection engine and the program. Program.Send
// blocks until Update takes the message, so the engine must never call it
// per alert: Push turns the alert into a compact row (CPU only, ~0.1 ms,
// never waiting on the UI) and appends it to a bounded buffer, dropping
// and counting when full; Forward sends what accumulated as one AlertsMsg
// per tick. Converting in Push keeps the buffer small (rows, not document
// maps) so it can be deep enough for a backfill burst.
type Feeder struct {
	mu      sync.Mutex
	buf     []*row
	limit   int
	dropped uint64
	health  *HealthMsg
}

// keepArrival is how many buffered rows keep their original document, so
// a live filter can test them without decoding; deeper rows drop it to
// keep the buffer's memory bounded.
const keepArrival = 1000

// NewFeeder returns a feeder holding at most limit undelivered alerts
// (100k when limit <= 0, roughly 70 MB at worst).
func NewFeeder(limit int) *Feeder {
	if limit <= 0 {
		limit = 100_000
	}
	return &Feeder{limit: limit}
}

// Push queues an alert without blocking. It reports false when the buffer
// was full and the alert was dropped.
func (f *Feeder) Push(a detect.Alert) bool {
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
func (f *Feeder) SetHealth(h HealthMsg) {
	f.mu.Lock()
	f.health = &h
	f.mu.Unlock()
}

// Dropped is how many alerts Push has discarded.
func (f *Feeder) Dropped() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dropped
}

// take swaps out what accumulated since the last tick.
func (f *Feeder) take() (AlertsMsg, *HealthMsg, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	batch, h := f.buf, f.health
	f.buf, f.health = nil, nil
	return AlertsMsg{rows: batch, Dropped: f.dropped}, h, len(batch) > 0
}

// Forward delivers batches to send every interval until ctx ends. send is
// normally (*tea.Program).Send.
func (f *Feeder) Forward(ctx context.Context, interval time.Duration, send func(tea.Msg)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var sentDropped uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		msg, h, any := f.take()
		// An unchanged drop count alone is not worth a redraw.
		if any || msg.Dropped != sentDropped {
			send(msg)
			sentDropped = msg.Dropped
		}
		if h != nil {
			send(*h)
		}
	}
}

// FeedInterval is how often the feeder forwards batches: fast enough to
// feel live, slow enough that a burst costs one redraw.
const FeedInterval = 75 * time.Millisecond

// Run starts the TUI on the terminal and feeds it from f until the user
// quits or ctx ends. It returns nil on a clean quit.
func Run(ctx context.Context, opt Options, f *Feeder, progOpts ...tea.ProgramOption) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := tea.NewProgram(New(opt), append([]tea.ProgramOption{tea.WithContext(ctx)}, progOpts...)...)
	if f != nil {
		go f.Forward(ctx, FeedInterval, p.Send)
	}
	_, err := p.Run()
	// A cancelled context ends the program on purpose; a panic does not.
	if err == nil || (errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil && !errors.Is(err, tea.ErrProgramPanic)) {
		return nil
	}
	return fmt.Errorf("tui: %w", err)
}
