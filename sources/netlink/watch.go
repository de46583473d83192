package netlink

import (
	"context"
	"fmt"
	"time"

	"github.com/xferhunt/xferhunt/sources"
)

// errQuiet is how long a transient error (a receive buffer overflow) stays in
// Health after it was last seen: the source recovers by itself, and its health
// should say so.
const errQuiet = 10 * time.Second

// watchFor is what the status watcher compares the kernel's status with.
type watchFor struct {
	// lost is the kernel's lost counter when the attachment began.
	lost uint32
	// owner is the pid the kernel must keep as its audit daemon for our
	// records to flow: ours in unicast, the daemon read beside in multicast
	// (0 when there was none).
	owner uint32
	// printed is the kernel log of a unicast reader (nil otherwise).
	printed *printedLog
}

// watch polls the kernel's audit status until ctx ends. It adds the kernel's
// lost deltas to Health (and flags the events around them), clears a
// transient error once quiet, and ends the attachment with feedLost when the
// records stop flowing to us: audit switched off, or the audit daemon pid no
// longer the one the attachment relies on.
func (s *Source) watch(ctx context.Context, stop context.CancelCauseFunc, status func() (Settings, error), w watchFor) {
	t := time.NewTicker(s.opt.PollEvery)
	defer t.Stop()
	last := w.lost
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := status()
		if err != nil {
			continue // a busy kernel answers late; the next tick asks again
		}
		// uint32 arithmetic: the kernel's counter wraps.
		if d := st.Lost - last; d != 0 && d < 1<<31 {
			s.markLoss()
			s.update(func(h *sources.Health) { h.Lost += uint64(d) })
		}
		last = st.Lost
		if n, sup, _ := w.printed.read(); n > 0 || sup > 0 {
			s.markLoss()
			s.update(func(h *sources.Health) { h.Lost += n; h.Suppressed += sup })
		}
		s.mu.Lock()
		if s.transient && time.Since(s.errAt) > errQuiet {
			s.health.Err, s.transient = "", false
		}
		s.mu.Unlock()
		switch {
		case st.Enabled == 0:
			stop(&feedLost{why: "kernel audit was switched off"})
			return
		case st.PID != w.owner && w.owner != 0:
			stop(&feedLost{why: fmt.Sprintf("audit daemon pid %d gave way to %d", w.owner, st.PID)})
			return
		case st.PID != 0 && w.owner == 0 && processAlive(st.PID):
			// Multicast with no daemon: one started; attach beside it.
			stop(&feedLost{why: fmt.Sprintf("audit daemon pid %d started", st.PID)})
			return
		}
	}
}

// countPrinted adds what the kernel log tells of after the reader stopped
// reading, then closes it. The printk rate limit reports the records it
// swallowed only with the next printed line, which our own restore provokes
// (its configuration records are printed: no reader is registered any more),
// so it waits briefly for that line.
func (s *Source) countPrinted(p *printedLog) {
	if p == nil {
		return
	}
	defer p.close()
	deadline := time.Now().Add(500 * time.Millisecond)
	for {
		n, sup, config := p.read()
		if n > 0 || sup > 0 {
			s.update(func(h *sources.Health) { h.Lost += n; h.Suppressed += sup })
		}
		if config || time.Now().After(deadline) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// refresh installs the rule lines Options.Refresh names that are not yet
// installed, every RefreshEvery, until ctx ends. The kernel itself follows a
// program replaced in place (a package upgrade renames the new binary over
// the old path, and an -F exe= rule follows the path); what it cannot know is
// a program that did not exist when the rules were built.
func (s *Source) refresh(ctx context.Context, ctl *controller, installed [][]byte) {
	if s.opt.Refresh == nil {
		return
	}
	have := make(map[string]bool, len(installed))
	for _, w := range installed {
		have[string(w)] = true
	}
	t := time.NewTicker(s.opt.RefreshEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		wires, _, err := BuildRules(s.opt.Refresh())
		if err != nil {
			continue
		}
		var add [][]byte
		for _, w := range wires {
			if !have[string(w)] {
				add = append(add, w)
			}
		}
		if len(add) == 0 {
			continue
		}
		if err := ctl.install(add); err != nil {
			s.update(func(h *sources.Health) { h.Err = "add rules for a new transfer program: " + err.Error() })
			continue
		}
		for _, w := range add {
			have[string(w)] = true
		}
	}
}
