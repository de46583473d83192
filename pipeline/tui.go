package pipeline

import (
	"context"
	"os"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/internal/crash"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/tui"
)

// healthEvery is how often the status bar is refreshed.
const healthEvery = time.Second

// runTUI runs the live pipeline into the terminal UI until the user quits.
func runTUI(ctx context.Context, cfg Config, s *setup, srcs []sources.Source, guide string) error {
	if guide == "" && len(s.specs) > 0 {
		guide = s.specs[0].Rule.Note
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l := newLive(s, srcs)
	feed := tui.NewFeeder(0)
	// What the last run on this state showed comes back first; live and
	// backfilled alerts with the same uuid replace these rows.
	for _, a := range s.restored.alerts {
		feed.Push(a)
	}
	runDone := make(chan error, 1)
	go func() {
		defer crash.Guard()
		runDone <- l.run(ctx, func(a detect.Alert) { feed.Push(a) })
	}()
	go reportHealth(ctx, l, feed)

	uiErr := tui.Run(ctx, tuiOptions(cfg, &backend{s: s, guide: guide}), feed)
	cancel()
	if err := <-runDone; err != nil {
		return err
	}
	return uiErr
}

// reportHealth hands the status bar a fresh snapshot every healthEvery.
func reportHealth(ctx context.Context, l *live, feed *tui.Feeder) {
	t := time.NewTicker(healthEvery)
	defer t.Stop()
	var lastEvents uint64
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			es := l.s.engine.Stats()
			held := es.HeldBack
			for _, c := range l.s.companions {
				held += c.HeldBack()
			}
			st := tui.Stats{Events: es.Events, Matches: es.Matches, Alerts: es.Alerts, HeldBack: held, StoryEvicted: l.s.stories.Stats().Evicted, Terms: uint64(es.Terms), StateErrors: es.StateErrors, StateErr: es.StateErr, TuplesCapped: es.TuplesCapped, TermsEvicted: es.TermsEvicted, IgnoredAbove: es.IgnoredAbove, Untimed: es.Untimed}
			for _, r := range es.Rules {
				st.HistoryWindow = max(st.HistoryWindow, r.Window)
			}
			if secs := now.Sub(last).Seconds(); secs > 0 {
				st.EventsPerSec = float64(es.Events-lastEvents) / secs
			}
			if ms := l.coverage.Load(); ms != 0 {
				st.Coverage = time.UnixMilli(ms)
			}
			if ms := l.newest.Load(); ms != 0 {
				st.Newest = time.UnixMilli(ms)
			}
			lastEvents, last = es.Events, now
			feed.SetHealth(tui.HealthMsg{Sources: l.health(), Stats: st, At: now})
		}
	}
}

// tuiOptions are the TUI's options for a run with cfg: every command that
// opens the TUI (live, demo, view) takes them from here, so NO_COLOR is
// read in one place with one meaning (set and not empty: no color, as
// no-color.org says) and the time zone follows --time.
func tuiOptions(cfg Config, b *backend) tui.Options {
	var loc *time.Location // nil: UTC
	if cfg.LocalTime {
		loc = time.Local
	}
	return tui.Options{
		Backend:   b,
		NoColor:   os.Getenv("NO_COLOR") != "",
		Location:  loc,
		Ephemeral: cfg.Ephemeral,
		// Host actions: only for alerts live here (zero for a recording or
		// a view), never under --readonly.
		ReadOnly: b.s.readOnly,
		Here:     b.s.here,
	}
}
