package pipeline

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/newterms"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/catalog"
)

// Scan is `xferhunt scan`: every path in order, event time as the clock,
// alerts as JSON lines on stdout and a summary on stderr.
func Scan(cfg Config, paths []string) (err error) {
	// Unusable inputs fail before any work, so a typo never yields a
	// half-written result (SPEC §1: exit 2 with one clear line). Each is
	// opened once here and scanned from that open: a pipe or stdin given
	// as a path cannot be read twice.
	inputs, err := openInputs(paths)
	defer closeInputs(inputs)
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		// A scan's live heap is usually small (the parser's tables, the
		// term history), while it allocates fast; collecting at 5× the
		// live heap instead of 2× saved a tenth of the CPU on the
		// benchmark log (scripts/bench-scan.sh). But a scan of a million
		// distinct tuples holds ~200 MB live, and 5× that is
		// gigabytes: once the live heap passes scanGCLarge, collecting
		// at 1.5× keeps its peak near the live heap (issue 12: 1M
		// distinct tuples peaked at 405 MB RSS with 2×, 324 MB with
		// 1.5×, the same CPU within the noise) (gcTuner).
		defer debug.SetGCPercent(debug.SetGCPercent(400))
		stop := gcTuner(scanGCLarge, 50, 200*time.Millisecond)
		defer stop()
	}
	cfg.orderFree = true
	s, err := newSetup(&cfg)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}()

	// Terms remembered from earlier runs: a match of one raises no alert,
	// which the summary explains (a second scan of a file says why it
	// is silent, and how to start fresh).
	remembered := s.engine.Stats().Terms

	out := bufio.NewWriterSize(cfg.Stdout, 64<<10)
	var writeErr error
	enc := &ndjson{w: out}
	emitAlerts := func(alerts []detect.Alert) {
		for _, a := range alerts {
			if err := enc.write(a.Doc); err != nil && writeErr == nil {
				writeErr = err
			}
		}
	}

	start := time.Now()
	var total sources.Stats
	feed := &storyFeed{companions: s.companions, chain: s.chain}
	opt := sources.ScanOptions{
		HostID:   cfg.hostID(),
		HostName: hostName(),
		Story:    feed.wanted(),
		Emit: func(ev sources.Event) {
			emitAlerts(feed.process(s.engine, ev, false))
		},
	}
	if fields, whole, ok := s.engine.Sparse(); ok && !opt.Story && scanSparse {
		// Only detection reads the events (no story, no companion): a JSON
		// document no rule's query matches is built only as far as the
		// queries and the event time read it.
		opt.Sparse = &sources.Sparse{Fields: fields, Whole: whole}
	}
	// A read that fails part way (a truncated gzip, an I/O error) keeps
	// what was found before it and goes on with the other inputs: the
	// alerts are printed, the summary too, and the first error is
	// returned after them (exit 1).
	var readErr error
	for _, in := range inputs {
		st, err := in.Scan(opt)
		total.Add(st)
		if err == nil {
			continue
		}
		if errors.Is(err, sources.ErrUnreadable) || errors.Is(err, sources.ErrIsDirectory) ||
			errors.Is(err, sources.ErrIsDevice) || errors.Is(err, sources.ErrBinary) ||
			errors.Is(err, sources.ErrNoScanner) || errors.Is(err, sources.ErrUnknownFormat) {
			err = usage(err) // changed since the check: still unusable input
		}
		if readErr == nil {
			readErr = err // printed by the caller, after the summary
		} else {
			fmt.Fprintf(cfg.Stderr, "xferhunt scan: %v\n", err)
		}
	}
	// The run after the input's last interval offers what max_signals
	// deferred (detect.Engine.offer).
	emitAlerts(s.engine.Drain())
	if err := out.Flush(); err != nil && writeErr == nil {
		writeErr = err
	}
	if writeErr != nil {
		return fmt.Errorf("write alerts: %w", writeErr)
	}
	es := s.engine.Stats()
	printSummary(cfg, total, es, time.Since(start))
	if remembered > 0 && es.Matches > es.Alerts {
		fmt.Fprintf(cfg.Stderr, "xferhunt scan: %d matches raised no alert: the term history in %s already held %d terms from earlier runs, and a term seen within the history window is not new (--ephemeral, or another --state, starts fresh)\n",
			es.Matches-es.Alerts, cfg.StatePath(), remembered)
	}
	for _, c := range s.companions {
		fmt.Fprintf(cfg.Stderr, "xferhunt scan: %s: %d alerts, %d held back (%d context events read)\n", c.Rule().Name, c.Raised(), c.HeldBack(), total.Context)
	}
	return readErr
}

func printSummary(cfg Config, st sources.Stats, es detect.Stats, took time.Duration) {
	secs := took.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(st.Lines) / secs
	}
	fmt.Fprintf(cfg.Stderr, "xferhunt scan: %d lines, %d records, %d events, %d matches, %d alerts, %d held back, %d excepted, %d malformed lines, %.3f s, %.0f lines/s\n",
		st.Lines, st.Records, es.Events, es.Matches, es.Alerts, es.HeldBack, es.Excepted, st.Malformed, secs, rate)
	if es.Untimed > 0 {
		fmt.Fprintf(cfg.Stderr, "xferhunt scan: %d events had no usable time (event.ingested and @timestamp missing or in no format Elasticsearch accepts); judged at the time of the events before them, which they did not move\n", es.Untimed)
	}
	if es.Deferred > 0 {
		fmt.Fprintf(cfg.Stderr, "xferhunt scan: %d alerts over max_signals were offered again in the next interval, as Kibana's next run does (those it could not take either are counted held back)\n", es.Deferred)
	}
	if es.TermsEvicted > 0 {
		fmt.Fprintf(cfg.Stderr, "xferhunt scan: %d new-terms tuples were forgotten to stay within %d per rule (the oldest first); seen again, they were new again\n",
			es.TermsEvicted, newterms.DefaultMaxTuples)
	}
	if es.TuplesCapped > 0 {
		fmt.Fprintf(cfg.Stderr, "xferhunt scan: %d events had more than %d new-terms tuples (array-valued fields); %d tuples beyond the cap were not judged\n",
			es.TuplesCapped, detect.MaxTuplesPerEvent, es.TuplesDropped)
	}
	if es.IgnoredAbove > 0 {
		fmt.Fprintf(cfg.Stderr, "xferhunt scan: %d matching events had a new-terms value longer than %d bytes, which Elasticsearch does not index (no tuple from it)\n",
			es.IgnoredAbove, ecs.IgnoreAbove)
	}
	if es.StateErrors > 0 {
		// Counted here; the error itself is printed once, as the exit error
		// of the last flush.
		fmt.Fprintf(cfg.Stderr, "xferhunt scan: term history could not be saved (%d failed writes, retried with backoff)\n", es.StateErrors)
	}
	if st.Gaps > 0 {
		fmt.Fprintf(cfg.Stderr, "xferhunt scan: %d events got records after they were complete (reassembly gaps)\n", st.Gaps)
	}
}

// openInputs opens every path before any is read; the first unusable one
// is a usage error. The inputs opened so far are returned either way, for
// closeInputs.
func openInputs(paths []string) ([]*sources.Input, error) {
	inputs := make([]*sources.Input, 0, len(paths))
	formats := catalog.Formats()
	for _, p := range paths {
		in, err := formats.OpenInput(p)
		if err != nil {
			return inputs, usage(err)
		}
		inputs = append(inputs, in)
	}
	return inputs, nil
}

func closeInputs(inputs []*sources.Input) {
	for _, in := range inputs {
		in.Close()
	}
}

// scanSparse lets scan decode JSON sparsely; a test turns it off to
// compare.
var scanSparse = true

// scanGCLarge is the live heap beyond which a scan gives up GOGC=400: at
// 64 MiB live the generous setting may already take 320 MiB, issue 12's
// whole budget for a million tuples.
const scanGCLarge = 64 << 20

// gcTuner sets GOGC to percent once the live heap (as of the last
// collection) exceeds large, checking every period, and returns the
// function that stops it. The setting is not put back by stop: the
// caller restores what it found.
func gcTuner(large uint64, percent int, period time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(period)
		defer t.Stop()
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 && sample[0].Value.Uint64() > large {
				debug.SetGCPercent(percent)
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
