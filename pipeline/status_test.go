package pipeline

import (
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/detect"
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
