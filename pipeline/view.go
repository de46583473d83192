package pipeline

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/crash"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/tui"
)

// viewBacklog is how many alerts the view loader lets wait in the feeder
// before it pauses: the feeder holds compact rows, and a file of a million
// alerts must neither be dropped (the live feeder's policy when full) nor
// sit in memory twice.
const viewBacklog = 20_000

// viewMaxAlerts is how many alerts view holds from all its files. Each
// costs ~1.5 KB (README: 100k real alerts in ~160 MB), and a file is
// anyone's: a few MB of gzip expand to tens of millions of small alerts
// of distinct uuids, which would take the host's memory. Past it the
// alerts are counted, left out and said in the file's health line.
var viewMaxAlerts uint64 = 1_000_000

// View is `xferhunt view FILE...`: the TUI over alert documents — an
// export (`E`), `scan` output, or Kibana's alerts in any JSON shape the
// ECS reader takes (NDJSON, an array, a _search response). Triage marks
// go to the state store (--state, or memory with --ephemeral), keyed by
// the alert's uuid, as live runs keep them. The alerts are a recording:
// nothing about them is read from this host, and no action (kill,
// preserve) targets it. Every path is checked before the TUI starts.
func View(cfg Config, paths []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	return view(ctx, cfg, paths)
}

func view(ctx context.Context, cfg Config, paths []string, progOpts ...tea.ProgramOption) (err error) {
	inputs, err := openInputs(paths)
	defer closeInputs(inputs)
	if err != nil {
		return err
	}
	s, err := newSetup(&cfg)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}()
	s.recorded = true
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	feed := tui.NewFeeder(0)
	loaded := make(chan []sources.Health, 1)
	go func() {
		defer crash.Guard()
		loaded <- loadAlerts(ctx, inputs, feed)
	}()
	guide := ""
	if len(s.specs) > 0 {
		guide = s.specs[0].Rule.Note
	}
	uiErr := tui.Run(ctx, tuiOptions(cfg, &backend{s: s, guide: guide}), feed, progOpts...)
	cancel()
	hs := <-loaded
	for _, h := range hs {
		if h.Err != "" {
			fmt.Fprintf(cfg.Stderr, "xferhunt view: %s: %s\n", h.Name, h.Err)
		}
	}
	return uiErr
}

// loadAlerts reads every input in order and pushes its alert documents to
// feed, pausing while viewBacklog rows wait there, with one health line
// per file in the status bar as it goes. Documents that are not alerts
// (no kibana.alert.uuid: an event, an audit log given by mistake) are
// counted and said, not shown.
func loadAlerts(ctx context.Context, inputs []*sources.Input, feed *tui.Feeder) []sources.Health {
	hs := make([]sources.Health, len(inputs))
	var total uint64
	report := func() {
		feed.SetHealth(tui.HealthMsg{Sources: append([]sources.Health(nil), hs...), Stats: tui.Stats{Alerts: total}, At: time.Now()})
	}
	for i, in := range inputs {
		h := &hs[i]
		h.Name = "view " + in.Name()
		var other, over uint64
		st, err := in.Scan(sources.ScanOptions{
			Workers: 1,
			Emit: func(ev sources.Event) {
				if !isAlertDoc(ev.Doc) {
					other++
					return
				}
				if total >= viewMaxAlerts {
					over++
					return
				}
				for feed.Len() >= viewBacklog && ctx.Err() == nil {
					time.Sleep(10 * time.Millisecond) // the UI drains every tui.FeedInterval
				}
				if ctx.Err() != nil {
					return
				}
				feed.Push(detect.Alert{Doc: ev.Doc})
				h.Events++
				total++
				if h.Events%5000 == 0 {
					report()
				}
			},
		})
		h.Records, h.Malformed, h.Live = st.Records, st.Malformed, true
		switch {
		case err != nil:
			h.Err = err.Error()
		case h.Events == 0:
			h.Err = fmt.Sprintf("no alert documents (%d records, %d other documents): view opens alert NDJSON; audit logs go to `xferhunt scan`", st.Records, other)
		case over > 0:
			h.Err = fmt.Sprintf("%d alerts left out: view holds at most %d", over, viewMaxAlerts)
		case other > 0:
			h.Err = fmt.Sprintf("%d documents were not alerts (no kibana.alert.uuid), left out", other)
		}
		report()
		if ctx.Err() != nil {
			break
		}
	}
	return hs
}

// isAlertDoc says whether d is an alert document (xferhunt's or Kibana's):
// it has the uuid triage is keyed by.
func isAlertDoc(d ecs.Doc) bool { return d.Str("kibana.alert.uuid") != "" }
