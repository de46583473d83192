package tui

import (
	"strings"
	"testing"
)

// TestStatusBarShowsStateAndCapProblems: a full state disk (history not
// saved) and events over the new-terms tuple cap are shown in the status
// bar while the run goes on, the host's error text escaped (issue 9 items
// 11 and 8); a healthy run shows neither.
func TestStatusBarShowsStateAndCapProblems(t *testing.T) {
	m := testModel(t, newMemBackend(), 260, 40)
	if s := screen(m); strings.Contains(s, "state not saved") || strings.Contains(s, "tuples capped") || strings.Contains(s, "story evicted") {
		t.Fatalf("healthy bar shows a problem:\n%s", s)
	}
	h := testHealth()
	h.Stats.StateErrors, h.Stats.StateErr = 4, "write /var/lib/xferhunt/state.db: no space left on device\x1b[2J"
	h.Stats.TuplesCapped = 2
	h.Stats.IgnoredAbove = 3
	h.Stats.StoryEvicted = 5
	h.Stats.Untimed = 6
	m, _ = step(t, m, h)
	s := screen(m)
	for _, want := range []string{"untimed 6", "story evicted 5", "tuples capped 2", "over 1024 B 3", `state not saved (4 failed writes): write /var/lib/xferhunt/state.db: no space left on device\x1b[2J`} {
		if !strings.Contains(s, want) {
			t.Fatalf("bar lacks %q:\n%s", want, s)
		}
	}
}
