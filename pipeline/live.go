package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/enrich"
	"github.com/xferhunt/xferhunt/internal/crash"
	"github.com/xferhunt/xferhunt/internal/liveness"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/bridge"
	"github.com/xferhunt/xferhunt/sources/catalog"
)

// statusEvery is how often headless mode reports health on stderr.
const statusEvery = 10 * time.Second

// Live is the live run: `xferhunt` (TUI) and `xferhunt --headless`.
// SIGINT, SIGTERM and SIGHUP end it cleanly; the kernel's audit settings
// are restored on every way out, a panic included.
func Live(cfg Config) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	defer func() {
		// Sources restore the kernel when their Run returns; this is the
		// safety net for paths that never get there.
		if rerr := catalog.RestoreKernel(); rerr != nil && err == nil {
			err = fmt.Errorf("restore kernel audit settings: %w", rerr)
		}
	}()

	s, err := newSetup(&cfg)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}()
	s.responder = newResponder(cfg.hostID(), cfg.HideOwn)
	s.here = liveness.Host{ID: cfg.hostID(), Boot: liveness.BootID()}
	if !cfg.Ephemeral {
		s.journal = newJournal(s.store)
		if s.restored, err = restore(s.store, s.stories, s.journal); err != nil {
			return err
		}
		if n := s.restored.skipped; n > 0 {
			fmt.Fprintf(cfg.Stderr, "xferhunt: %d records of the state's journal could not be read and were skipped\n", n)
		}
	}
	srcs, err := openSources(&cfg, s)
	if err != nil {
		return err
	}
	if cfg.Headless {
		return runHeadless(ctx, cfg, s, srcs)
	}
	return runTUI(ctx, cfg, s, srcs, "")
}

// openSources builds every --source (default auto).
func openSources(cfg *Config, s *setup) ([]sources.Source, error) {
	specs := cfg.Sources
	if len(specs) == 0 {
		specs = []string{"auto"}
	}
	opt := catalog.Options{
		Coverage:    cfg.Coverage,
		Directories: s.directories,
		HostID:      cfg.hostID(),
		HostName:    hostName(),
		Since:       time.Now().Add(-s.window()),
		Stdin:       cfg.Stdin,
		Story:       true,
	}
	var srcs []sources.Source
	for _, sp := range specs {
		src, err := catalog.Parse(sp, opt)
		if err != nil {
			if errors.Is(err, catalog.ErrUnusable) {
				if sp == "auto" {
					// Name the first thing doctor finds wrong: "not root"
					// or "audit=0 at boot" says more than what auto tried.
					if c, ok := Preflight(*cfg).FirstFailure(); ok {
						err = fmt.Errorf("%w (xferhunt doctor: %s: %s)", err, c.Name, c.Detail)
					}
				}
				return nil, usage(err)
			}
			return nil, err
		}
		srcs = append(srcs, src)
	}
	return srcs, nil
}

// window is the longest effective history window of the loaded rules: how
// far back file sources backfill.
func (s *setup) window() time.Duration {
	var w time.Duration
	for _, r := range s.engine.Stats().Rules {
		w = max(w, r.Window)
	}
	return w
}

// live runs sources into the engine until ctx ends or a source fails. It
// is the one detection loop of every live mode; sink receives each alert
// (on the detection goroutine) and must not block for long.
type live struct {
	s    *setup
	srcs []sources.Source
	// names are the sources' names as they were at start: a netlink
	// source renames itself once it picks a mode, and the bridge counts
	// drops under the first name.
	names  []string
	bridge *bridge.Bridge
	enr    *enrich.Enricher // fills what the records lack from this host; nil for recordings
	// feed keeps every event for stories and runs the companion rules.
	feed *storyFeed

	// coverage is the oldest sighting the term history holds (Unix ms),
	// refreshed by the detection goroutine, which alone may walk history.
	coverage atomic.Int64
	newest   atomic.Int64
	// hidden counts the alerts of the responder's own session not shown
	// (--hide-own).
	hidden    atomic.Uint64
	coveredAt time.Time

	// settling counts the alerts whose file facts wait for the writer to
	// close the file; settleSlots bounds them. sinkMu serializes the sink
	// between the alert goroutine and the settlers' updates.
	settling    sync.WaitGroup
	settleSlots chan struct{}
	sinkMu      sync.Mutex
}

// maxSettling bounds the uploads whose facts are awaited at once; beyond
// it an alert's facts are taken at once and marked partial.
const maxSettling = 256

func newLive(s *setup, srcs []sources.Source) *live {
	names := make([]string, len(srcs))
	for i, src := range srcs {
		names[i] = src.Name()
	}
	l := &live{s: s, srcs: srcs, names: names, bridge: bridge.New(bridge.Options{}),
		feed: &storyFeed{store: s.stories, companions: s.companions, chain: s.chain, journal: s.journal, restoredUntil: s.restored.until, responder: s.responder}}
	if !s.recorded {
		l.enr = enrich.New(s.enrichOpt)
	}
	l.settleSlots = make(chan struct{}, maxSettling)
	return l
}

// run returns when ctx ends (nil) or when a source fails (its error).
func (l *live) run(ctx context.Context, sink func(detect.Alert)) error {
	// The bridge outlives the sources' context: it delivers what they
	// emit while they stop (a file source's last lines), and ends after
	// the last of them has returned.
	bctx, bcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer bcancel()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(l.srcs))
	var wg sync.WaitGroup
	for i, src := range l.srcs {
		// A source that can wait (a file) is held back by a full bridge,
		// so it loses nothing; the kernel stream is never held back.
		emit := l.bridge.Emitter(l.names[i])
		if w, ok := src.(sources.Waiter); ok && w.CanWait() {
			emit = l.bridge.WaitingEmitter(ctx, l.names[i])
		}
		if offHost(l.names[i]) {
			emit = markOffHost(emit)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- runSource(ctx, src, emit)
		}()
	}
	// Detection is serial (term history is ordered); enriching and writing
	// an alert is not, and costs more: it runs on a second goroutine, so
	// the two share the machine's cores. The channel bounds the backlog:
	// when it is full, detection waits and the bridge buffers, holding
	// file sources back (and counting what the kernel stream must drop).
	jctx, jstop := context.WithCancel(context.WithoutCancel(ctx))
	jdone := make(chan struct{})
	go func() {
		defer close(jdone)
		if l.s.journal != nil {
			l.s.journal.run(jctx)
		}
	}()
	defer func() { jstop(); <-jdone }() // the last commit, after the last alert
	staged := make(chan stagedAlert, 1024)
	outDone := make(chan struct{})
	go func() {
		defer close(outDone)
		defer crash.Guard() // runs first: exit before outDone lets main go on
		// Alerts still in flight at shutdown are finished, not dropped.
		octx := context.WithoutCancel(ctx)
		for st := range staged {
			l.finish(octx, ctx, st, sink)
		}
		// Settlers see ctx end (cancelled below once the sources are
		// done) and send what they have, marked partial.
		l.settling.Wait()
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer crash.Guard() // runs first: exit before done lets main go on
		l.bridge.Run(bctx, func(batch []sources.Event) {
			l.detect(batch, func(st stagedAlert) { staged <- st })
		})
	}()

	var first error
	for range l.srcs {
		err := <-errs
		if err != nil && first == nil && ctx.Err() == nil {
			first = err
			cancel()
		}
		if err == nil && ctx.Err() == nil {
			// A finished source (stdin at EOF, a replay) is not a failure:
			// the others, and the UI, go on.
			continue
		}
	}
	cancel()
	wg.Wait()
	bcancel()
	<-done
	close(staged)
	<-outDone
	// Detection is over: alerts max_signals deferred to an interval this run
	// will not see are held back, and counted so in the last status.
	l.s.engine.Forfeit()
	if err := l.s.engine.Flush(); err != nil && first == nil {
		first = fmt.Errorf("save term history: %w", err)
	}
	return first
}

// runSource runs one source and turns a panic inside it into an error, so
// that the deferred kernel restore and the state flush still happen.
func runSource(ctx context.Context, src sources.Source, emit func([]sources.Event)) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = internalError{fmt.Errorf("source %s: internal error (a bug): panic: %v", src.Name(), p)}
		}
	}()
	if err := src.Run(ctx, emit); err != nil && ctx.Err() == nil {
		return fmt.Errorf("source %s: %w", src.Name(), err)
	}
	return nil
}

// offHost says a source does not record this host as it happens: only
// kernel audit (netlink) and this host's auditd or Auditbeat files,
// followed, do. Stdin and ECS exports may come from anywhere.
func offHost(name string) bool {
	for _, p := range []string{"netlink", "auditlog:", "auditbeat:"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	return true
}

// allOnHost says every source of the run records this host as it happens.
func (l *live) allOnHost() bool {
	for _, n := range l.names {
		if offHost(n) {
			return false
		}
	}
	return true
}

// markOffHost marks every event of a batch OffHost before it is emitted.
func markOffHost(emit func([]sources.Event)) func([]sources.Event) {
	return func(batch []sources.Event) {
		for i := range batch {
			batch[i].OffHost = true
		}
		emit(batch)
	}
}

// stagedAlert is an alert between detection and the sink.
type stagedAlert struct {
	alert  detect.Alert
	origin liveness.Origin // live on this host, or why not
}

// detect runs the engine over a batch, on the detection goroutine.
func (l *live) detect(batch []sources.Event, out func(stagedAlert)) {
	for _, ev := range batch {
		// Names first: a query or exception may test user.name.
		if l.enr != nil {
			l.enr.Names(ev.Doc)
		}
		loss, _ := ev.Doc.Get("xferhunt.loss").(bool)
		for _, a := range l.feed.process(l.s.engine, ev, loss) {
			out(stagedAlert{alert: a, origin: liveness.Decide(ev.Historical, l.s.recorded, ev.OffHost, ev.Doc.Str("host.id"), l.s.here)})
		}
	}
	// Alerts max_signals deferred wait for the next interval; on a quiet
	// stream, the wall clock ends it.
	// Their event's source is not known here: they count as off-host
	// unless every source of the run is this host's own record.
	for _, a := range l.feed.released(l.s.engine.DrainDue(time.Now())) {
		out(stagedAlert{alert: a, origin: liveness.Decide(a.Historical(), l.s.recorded, !l.allOnHost(), a.Doc.Str("host.id"), l.s.here)})
	}
	// A failed flush keeps history in memory and the next one retries;
	// Close reports a flush that never succeeds.
	_ = l.s.engine.FlushIfDue()
	if time.Since(l.coveredAt) >= healthEvery {
		l.coveredAt = time.Now()
		var oldest time.Time
		for _, r := range l.s.engine.Stats().Rules {
			if c := l.s.engine.Coverage(r.RuleID); !c.IsZero() && (oldest.IsZero() || c.Before(oldest)) {
				oldest = c
			}
		}
		if !oldest.IsZero() {
			l.coverage.Store(oldest.UnixMilli())
		}
		if n := l.s.engine.Newest(); !n.IsZero() {
			l.newest.Store(n.UnixMilli())
		}
	}
}

// finish stamps where an alert came from (internal/liveness), enriches
// it from this host when it is live here, and hands it to the sink. Facts
// read from /proc and files describe this host now: they belong only to
// alerts raised live on it, never to backfill, recordings or other hosts.
// When the writer still has the file open the alert goes out at once with
// its facts pending (detection latency is the rule's, not the upload's),
// and a settler sends it again, same uuid, once the facts are final or the
// wait (bounded, or ended by stop) ran out.
func (l *live) finish(ctx, stop context.Context, st stagedAlert, sink func(detect.Alert)) {
	liveness.Set(st.alert.Doc, st.origin, l.s.here)
	pending := false
	if st.origin == liveness.Live && l.enr != nil {
		pending = l.enr.Alert(ctx, st.alert.Doc)
	}
	hide := l.s.responder.markAlert(st.alert)
	if l.s.journal != nil {
		l.s.journal.alert(st.alert)
	}
	if hide {
		l.hidden.Add(1)
	} else {
		l.send(sink, st.alert)
	}
	if pending {
		l.settle(ctx, stop, st.alert, hide, sink)
	}
}

// send hands one alert to the sink, never two at once.
func (l *live) send(sink func(detect.Alert), a detect.Alert) {
	l.sinkMu.Lock()
	defer l.sinkMu.Unlock()
	sink(a)
}

// settle takes the file facts of a sent alert again once its writer is
// done, on a goroutine of its own, and sends the updated copy.
func (l *live) settle(ctx, stop context.Context, a detect.Alert, hide bool, sink func(detect.Alert)) {
	upd := detect.Alert{Doc: a.Doc.Clone()}
	deliver := func() {
		if l.s.journal != nil {
			l.s.journal.update(upd)
		}
		if !hide {
			l.send(sink, upd)
		}
	}
	select {
	case l.settleSlots <- struct{}{}:
	default:
		// Too many uploads in flight to wait for each: facts now.
		l.enr.Recheck(ctx, upd.Doc)
		deliver()
		return
	}
	l.settling.Add(1)
	go func() {
		defer l.settling.Done()
		defer func() { <-l.settleSlots }()
		defer crash.Guard()
		l.enr.Settle(stop, upd.Doc, 0)
		deliver()
	}()
}

// ready closes when every source is live.
func (l *live) ready() <-chan struct{} {
	c := make(chan struct{})
	go func() {
		for _, src := range l.srcs {
			<-catalog.Ready(src)
		}
		close(c)
	}()
	return c
}

// health is every source's counters plus the bridge's drops.
func (l *live) health() []sources.Health {
	bs := l.bridge.Stats()
	hs := make([]sources.Health, 0, len(l.srcs))
	for i, src := range l.srcs {
		h := src.Health()
		h.Dropped += bs.DroppedBy[l.names[i]]
		hs = append(hs, h)
	}
	return hs
}

func runHeadless(ctx context.Context, cfg Config, s *setup, srcs []sources.Source) error {
	l := newLive(s, srcs)
	enc := &ndjson{w: cfg.Stdout}
	var outErr error
	sink := func(a detect.Alert) {
		// One line per alert, written at once, so a reader never sees half.
		if err := enc.write(a.Doc); err != nil && outErr == nil {
			outErr = err
		}
	}
	runDone := make(chan error, 1)
	go func() {
		defer crash.Guard()
		runDone <- l.run(ctx, sink)
	}()

	ready := l.ready()
	tick := time.NewTicker(statusEvery)
	defer tick.Stop()
	var held heldBackNotice
	for {
		select {
		case <-ready:
			fmt.Fprintln(cfg.Stderr, "ready")
			ready = nil
		case <-tick.C:
			held.print(cfg.Stderr, l.s.engine.Stats(), l.s.companions)
			fmt.Fprintln(cfg.Stderr, l.statusLine())
		case err := <-runDone:
			held.print(cfg.Stderr, l.s.engine.Stats(), l.s.companions)
			fmt.Fprintln(cfg.Stderr, l.statusLine())
			if err == nil && outErr != nil && !errors.Is(outErr, io.ErrClosedPipe) {
				err = fmt.Errorf("write alerts: %w", outErr)
			}
			return err
		}
	}
}

// heldBackNotice tells headless mode's reader, on a line of its own, that
// max_signals held alerts back since the last status: the counter in the
// status line is easy to miss, and a held-back alert may be the one that
// mattered (a brand-new upload right after a 2,000-file scp -r).
type heldBackNotice struct{ printed uint64 }

func (n *heldBackNotice) print(w io.Writer, es detect.Stats, companions []detect.Companion) {
	total := es.HeldBack
	var by []string
	for _, r := range es.Rules {
		if r.HeldBack > 0 {
			by = append(by, fmt.Sprintf("%q %d", r.Name, r.HeldBack))
		}
	}
	for _, c := range companions {
		if h := c.HeldBack(); h > 0 {
			total += h
			by = append(by, fmt.Sprintf("%q %d", c.Rule().Name, h))
		}
	}
	if total <= n.printed {
		return
	}
	fmt.Fprintf(w, "warning: %d alerts held back by max_signals (%s): more alerts in one rule interval than the rule allows; "+
		"their events are kept (xferhunt story, t in the TUI)\n", total, strings.Join(by, ", "))
	n.printed = total
}

// statusLine is headless mode's periodic health report, with what stories
// lost and the alerts --hide-own left out, when there are any.
func (l *live) statusLine() string {
	line := statusLine(l.health(), l.s.engine.Stats())
	if n := l.hidden.Load(); n > 0 {
		line += fmt.Sprintf(" hidden_own=%d", n)
	}
	// Each receive-buffer overrun is counted in lost as one record at
	// least; said apart, a reader can tell it from the kernel's count.
	var overruns uint64
	for _, h := range l.health() {
		overruns += h.Overruns
	}
	if overruns > 0 {
		line += fmt.Sprintf(" overruns=%d", overruns)
	}
	// A story that lost its oldest events must say so: a flood of events
	// from one session can push another's out of the budget.
	if st := l.s.stories.Stats(); st.Evicted > 0 {
		line += fmt.Sprintf(" story_evicted=%d", st.Evicted)
	}
	for _, c := range l.s.companions {
		n := c.HeldBack()
		if n == 0 {
			continue
		}
		key := "chain_held_back" // upload-exec's
		if name := c.Rule().Companion; name != rules.UploadExec {
			key = strings.ReplaceAll(name, "-", "_") + "_held_back"
		}
		line += fmt.Sprintf(" %s=%d", key, n)
	}
	if j := l.s.journal; j != nil && j.dropped.Load() > 0 {
		line += fmt.Sprintf(" journal_dropped=%d", j.dropped.Load())
	}
	return line
}

// statusLine is headless mode's periodic health report.
func statusLine(hs []sources.Health, es detect.Stats) string {
	var b strings.Builder
	b.WriteString("status:")
	for _, h := range hs {
		state := "starting"
		if h.Live {
			state = "live"
		}
		if h.Err != "" {
			state = "error: " + h.Err
		}
		fmt.Fprintf(&b, " [%s %s records=%d events=%d malformed=%d lost=%d gaps=%d dropped=%d]",
			h.Name, state, h.Records, h.Events, h.Malformed, h.Lost, h.Gaps, h.Dropped)
	}
	fmt.Fprintf(&b, " matches=%d alerts=%d held_back=%d excepted=%d terms=%d", es.Matches, es.Alerts, es.HeldBack, es.Excepted, es.Terms)
	if es.Untimed > 0 {
		fmt.Fprintf(&b, " untimed=%d", es.Untimed)
	}
	if es.TermsEvicted > 0 {
		fmt.Fprintf(&b, " terms_evicted=%d", es.TermsEvicted)
	}
	if es.TuplesCapped > 0 {
		fmt.Fprintf(&b, " tuples_capped=%d tuples_dropped=%d", es.TuplesCapped, es.TuplesDropped)
	}
	if es.IgnoredAbove > 0 {
		fmt.Fprintf(&b, " ignored_above=%d", es.IgnoredAbove)
	}
	if es.StateErrors > 0 {
		// History is kept in memory meanwhile; the operator must know a
		// restart now would forget it.
		fmt.Fprintf(&b, " state_errors=%d state_error=%q", es.StateErrors, es.StateErr)
	}
	return b.String()
}
