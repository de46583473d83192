package pipeline

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/catalog"
	"github.com/xferhunt/xferhunt/sources/replay"
)

// DemoWindow is the history window the demo uses unless --history-window
// says otherwise. The bundled capture spans seconds, not days: judged
// against the last two seconds, each upload stands alone, so the demo
// shows every service, user and address (and the hostile file name)
// instead of only the first upload per executable.
const DemoWindow = 2 * time.Second

// Demo is `xferhunt demo`: the live UI (or --headless output) over a
// bundled real capture replayed at its recorded pace. It needs no root
// and keeps no state.
func Demo(cfg Config, capture []byte) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	cfg.Ephemeral = true
	if cfg.HistoryWindow == 0 {
		cfg.HistoryWindow = DemoWindow
	}
	if cfg.HostID == "" {
		cfg.HostID = "xferhunt-demo"
	}
	s, err := newSetup(&cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	// A recording: its pids and paths are another machine's (or another
	// day's); enriching from this host or killing "its" pid would be wrong.
	s.recorded = true
	src := catalog.Reader("demo replay", replay.New(ctx, capture, 1), catalog.Options{HostID: cfg.HostID, HostName: "demo", Story: true})
	srcs := []sources.Source{src}
	if cfg.Headless {
		return runHeadless(ctx, cfg, s, srcs)
	}
	return runTUI(ctx, cfg, s, srcs, "")
}
