package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/xferhunt/xferhunt/alertdb"
)

// Feeder is the bounded buffer between the detection engine and the
// program (alertdb.Feeder), carrying the status bar's health snapshots on
// the same tick.
type Feeder = alertdb.Feeder[HealthMsg]

// NewFeeder returns a feeder holding at most limit undelivered alerts
// (100k when limit <= 0, roughly 70 MB at worst).
func NewFeeder(limit int) *Feeder { return alertdb.NewFeeder[HealthMsg](limit) }

// FeedInterval is how often the feeder forwards batches: fast enough to
// feel live, slow enough that a burst costs one redraw.
const FeedInterval = 75 * time.Millisecond

// forward delivers f's batches and health to send (normally
// (*tea.Program).Send), which blocks until Update takes each message.
func forward(ctx context.Context, f *Feeder, interval time.Duration, send func(tea.Msg)) {
	f.Forward(ctx, interval,
		func(b alertdb.Batch) { send(AlertsMsg{rows: b.Rows, Dropped: b.Dropped}) },
		func(h HealthMsg) { send(h) })
}

// Run starts the TUI on the terminal and feeds it from f until the user
// quits or ctx ends. It returns nil on a clean quit.
func Run(ctx context.Context, opt Options, f *Feeder, progOpts ...tea.ProgramOption) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := tea.NewProgram(New(opt), append([]tea.ProgramOption{tea.WithContext(ctx)}, progOpts...)...)
	if f != nil {
		go forward(ctx, f, FeedInterval, p.Send)
	}
	_, err := p.Run()
	// A cancelled context ends the program on purpose; a panic does not.
	if err == nil || (errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil && !errors.Is(err, tea.ErrProgramPanic)) {
		return nil
	}
	return fmt.Errorf("tui: %w", err)
}
