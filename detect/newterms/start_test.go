package newterms

import (
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/internal/esdate"
)

// TestTrackerRoundedWindow: with a rule's "now-1d/d" the window of a
// sighting at t is [start of yesterday, t), as Kibana resolves it on a run
// at t: a term seen yesterday at 00:30 is history at 23:59 today, though a
// fixed 24h window (the old behaviour) calls it new; the day after, it is
// new. Arriving out of order, day2 is judged new when it comes (a stream
// cannot take an alert back) and day1, inside day2's window, is not.
func TestTrackerRoundedWindow(t *testing.T) {
	m, err := esdate.ParseMath("now-1d/d")
	if err != nil {
		t.Fatal(err)
	}
	ts := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	day1, day2, day3 := ts("2026-03-01T00:30:00Z"), ts("2026-03-02T23:59:00Z"), ts("2026-03-04T00:10:00Z")
	for _, order := range [][]time.Time{{day1, day2, day3}, {day2, day1, day3}} {
		rounded := NewTracker(nil, 48*time.Hour)
		rounded.Start = m.At
		fixed := NewTracker(nil, 24*time.Hour)
		got := map[time.Time]bool{}
		gotFixed := map[time.Time]bool{}
		for _, o := range order {
			got[o], _ = rounded.Observe("r", []string{"T"}, o)
			gotFixed[o], _ = fixed.Observe("r", []string{"T"}, o)
		}
		first, second := order[0], order[1]
		if !got[first] || got[second] || !got[day3] {
			t.Errorf("order %v: rounded new = %v, want %s and day3 only", order, got, first)
		}
		if !gotFixed[day2] && order[0] == day1 {
			t.Errorf("fixed 24h: day2 not new (%v); the rounded window is what differs", gotFixed)
		}
	}
}
