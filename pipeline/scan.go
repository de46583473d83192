package pipeline

import (
	"bufio"
	"errors"
	"fmt"
	"math"
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
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		// A scan's live heap is usually small (the parser's tables, the
		// term history), while it allocates fast; collecting at 5× the
		// live heap instead of 2× saved a tenth of the CPU on the
		// benchmark log (scripts/bench-scan.sh). But a scan of a million
		// distinct tuples holds ~100–200 MB live, and 5× that is
		// gigabytes: a soft memory limit (memTuner) makes the collector
		// run before the heap passes max(scanMemFloor, 1.5 × live). It
		// replaces switching to GOGC 50 once the live heap passed 64 MiB
		// (issue 12), which came too late — the collection that saw
		// 57 MiB live had already set a 285 MiB goal, the run's peak —
		// and then collected at 1.5× however far below any budget the
		// heap was. GOGC or GOMEMLIMIT in the environment is obeyed as
		// it is.
		defer debug.SetGCPercent(debug.SetGCPercent(400))
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
		stop := memTuner(scanMemFloor, 100*time.Millisecond, liveHeap)
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
	s.engine.DrainTo(emitAlerts)
	if err := out.Flush(); err != nil && writeErr == nil {
		writeErr = err
	}
	if writeErr != nil {
		// Alerts that did not get out must not have their terms saved as
		// known: a re-run (the disk freed) raises them again
		// (TestScanWriteFailureKeepsHistory).
		s.dropHistory = true
		return fmt.Errorf("write alerts: %w", writeErr)
	}
	// The input's term history, now that its alerts are out
	// (detect.Engine.DrainTo): a failure is counted in the summary, then
	// retried and reported by Close.
	_ = s.engine.Flush()
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

// scanMemFloor is the soft memory limit of a scan whose live heap is
// below two thirds of it: 176 MiB leaves issue 12's 300 MB budget room
// for the memory-mapped state.db (67 MB for 1M tuples) and what the
// runtime keeps outside the heap. A live heap under ~35 MiB (most scans)
// never reaches it at GOGC 400.
const scanMemFloor = 176 << 20

// liveHeap returns the live heap as of the last collection.
func liveHeap() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}

// memLimitFor is the soft memory limit for a live heap: the floor, or
// 1.5 × live once that is more (a limit at the live heap itself would make
// the collector run without end).
func memLimitFor(floor int64, live uint64) int64 {
	return max(floor, int64(live+live/2))
}

// memTuner sets the runtime's soft memory limit to memLimitFor(floor,
// live()) now and every period, and returns the function that stops it.
// The limit is not put back by stop: the caller restores what it found.
func memTuner(floor int64, period time.Duration, live func() uint64) (stop func()) {
	debug.SetMemoryLimit(memLimitFor(floor, live()))
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			debug.SetMemoryLimit(memLimitFor(floor, live()))
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
