package rules

import (
	"strings"
	"testing"
	"time"
)

// TestParseDurationOverflow: a count whose length does not fit a Duration
// is refused as too long (before: "106752d" wrapped around to a negative
// duration and --history-window said "must be positive"); the longest
// that fits is accepted.
func TestParseDurationOverflow(t *testing.T) {
	for _, in := range []string{"106752d", "now-106752d", "15251w", "2562048h", "4294967295s"} {
		d, err := ParseDuration(in)
		if in == "4294967295s" {
			if err != nil || d != 4294967295*time.Second {
				t.Errorf("%s: %v, %v", in, d, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "too long: at most") {
			t.Errorf("%s: %v, %v; want a too-long error", in, d, err)
		}
	}
	if d, err := ParseDuration("106751d"); err != nil || d != 106751*24*time.Hour {
		t.Errorf("106751d: %v, %v", d, err)
	}
}
