package pipeline

import (
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/story"
)

// TestStatusLineShowsStateErrors: headless status names failed term-history
// writes and the first error, so a full state disk is visible while the
// run goes on, not only at exit (issue 9 item 11).
func TestStatusLineShowsStateErrors(t *testing.T) {
	ok := statusLine(nil, detect.Stats{Terms: 4})
	if strings.Contains(ok, "state_error") {
		t.Fatalf("healthy status mentions state errors: %s", ok)
	}
	bad := statusLine(nil, detect.Stats{StateErrors: 3, StateErr: "write /var/lib/xferhunt/state.db: no space left on device"})
	if !strings.Contains(bad, `state_errors=3 state_error="write /var/lib/xferhunt/state.db: no space left on device"`) {
		t.Fatalf("status %s does not show the state errors", bad)
	}
}

// TestStatusLineShowsTupleCap: events over the new-terms tuple cap are an
// evasion, so headless status counts them.
func TestStatusLineShowsTupleCap(t *testing.T) {
	if s := statusLine(nil, detect.Stats{}); strings.Contains(s, "tuples_capped") {
		t.Fatalf("status without capped events mentions the cap: %s", s)
	}
	s := statusLine(nil, detect.Stats{TuplesCapped: 2, TuplesDropped: 17998000, IgnoredAbove: 5})
	if !strings.Contains(s, " tuples_capped=2 tuples_dropped=17998000 ignored_above=5") {
		t.Fatalf("status %s does not count capped events", s)
	}
}

// Alerts held back by max_signals get a warning line of their own, once
// per increase, naming the rules.
func TestHeldBackNotice(t *testing.T) {
	var n heldBackNotice
	var b strings.Builder
	n.print(&b, detect.Stats{}, nil)
	if b.Len() != 0 {
		t.Fatalf("nothing held back, yet: %s", b.String())
	}
	st := detect.Stats{HeldBack: 1933, Rules: []detect.RuleStats{{Name: "Unusual Remote File Creation", HeldBack: 1933}, {Name: "Remote File Received by rsync"}}}
	n.print(&b, st, nil)
	n.print(&b, st, nil)
	if got := b.String(); strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, `warning: 1933 alerts held back by max_signals ("Unusual Remote File Creation" 1933)`) {
		t.Fatalf("notice = %q", got)
	}
}

// heldCompanion is a companion that only counts held-back alerts.
type heldCompanion struct{ held uint64 }

func (c heldCompanion) Rule() *rules.Rule { return &rules.Rule{Name: "Remote upload executed"} }
func (c heldCompanion) Process(ecs.Doc, *story.Event, detect.Flags) []detect.Alert {
	return nil
}
func (c heldCompanion) Raised() uint64   { return 0 }
func (c heldCompanion) HeldBack() uint64 { return c.held }

// A companion's held-back alerts are in the notice too.
func TestHeldBackNoticeCompanions(t *testing.T) {
	var n heldBackNotice
	var b strings.Builder
	n.print(&b, detect.Stats{}, []detect.Companion{heldCompanion{50}})
	if got := b.String(); !strings.HasPrefix(got, `warning: 50 alerts held back by max_signals ("Remote upload executed" 50)`) {
		t.Fatalf("notice = %q", got)
	}
}
