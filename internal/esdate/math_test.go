package esdate

import (
	"testing"
	"time"
)

// TestMathAt: rule-field date math resolved against a run's now, as
// Kibana's executor does, with the instants worked out by hand on the
// calendar (UTC; months and years clamp to the end of a shorter month).
func TestMathAt(t *testing.T) {
	cases := []struct {
		expr, now, want string
		sunday          bool
	}{
		{"now", "2026-03-04T15:30:45.123Z", "2026-03-04T15:30:45.123Z", false},
		{"now-30d/d", "2026-03-04T15:30:45.123Z", "2026-02-02T00:00:00Z", false},
		{"now-1M", "2026-03-31T10:00:00Z", "2026-02-28T10:00:00Z", false},
		{"now-1M", "2024-03-31T10:00:00Z", "2024-02-29T10:00:00Z", false},
		{"now-1M/M", "2026-03-31T10:00:00Z", "2026-02-01T00:00:00Z", false},
		{"now-1M/M+2d", "2026-03-04T15:30:45Z", "2026-02-03T00:00:00Z", false},
		{"now-1y", "2024-02-29T12:00:00Z", "2023-02-28T12:00:00Z", false},
		{"now-1y/y", "2026-01-01T00:00:00Z", "2025-01-01T00:00:00Z", false},
		{"now-2w/w", "2026-03-04T15:30:45Z", "2026-02-16T00:00:00Z", false}, // Monday (ISO)
		{"now-2w/w", "2026-03-04T15:30:45Z", "2026-02-15T00:00:00Z", true},  // Sunday (moment "en")
		{"now/w", "2026-03-08T01:00:00Z", "2026-03-08T00:00:00Z", true},     // a Sunday rounds to itself
		{"now/w", "2026-03-08T01:00:00Z", "2026-03-02T00:00:00Z", false},
		{"now-36h/h", "2026-03-04T15:30:45Z", "2026-03-03T03:00:00Z", false},
		{"now-90m/m", "2026-03-04T15:30:45Z", "2026-03-04T14:00:00Z", false},
		{"now-10H", "2026-03-04T15:30:45Z", "2026-03-04T05:30:45Z", false},
		{"now-30s/s", "2026-03-04T15:30:45.999Z", "2026-03-04T15:30:15Z", false},
		{"now-d", "2026-03-04T15:30:45Z", "2026-03-03T15:30:45Z", false},
		{"now-1M-1d", "2026-03-31T00:00:00Z", "2026-02-27T00:00:00Z", false},
		{"now+1d-1M/d", "2026-03-30T08:00:00Z", "2026-02-28T00:00:00Z", false},
	}
	for _, c := range cases {
		m, err := ParseMath(c.expr)
		if err != nil {
			t.Errorf("ParseMath(%q): %v", c.expr, err)
			continue
		}
		m.SundayWeeks = c.sunday
		now, _ := time.Parse(time.RFC3339Nano, c.now)
		want, _ := time.Parse(time.RFC3339Nano, c.want)
		if got := m.At(now.UnixMilli()); got != want.UnixMilli() {
			t.Errorf("%q at %s (sunday %v) = %s, want %s", c.expr, c.now, c.sunday,
				time.UnixMilli(got).UTC().Format(time.RFC3339Nano), c.want)
		}
	}
}

// TestMathSpan: the bounds of now − At(now) hold at every now of a
// leap-year-spanning sweep.
func TestMathSpan(t *testing.T) {
	const day = 24 * time.Hour
	cases := []struct {
		expr   string
		lo, hi time.Duration
	}{
		{"now-10d", 10 * day, 10 * day},
		{"now-30d/d", 30 * day, 31 * day},
		{"now-1M", 28 * day, 31 * day},
		{"now-1y", 365 * day, 366 * day},
		{"now-1M/M+2d", 26 * day, 60 * day},
	}
	start := time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range cases {
		m, err := ParseMath(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := m.Span()
		if lo != c.lo || hi != c.hi {
			t.Errorf("%s: Span = %v, %v; want %v, %v", c.expr, lo, hi, c.lo, c.hi)
		}
		for now := start; now.Before(start.AddDate(1, 3, 0)); now = now.Add(7*time.Hour + 13*time.Minute + 500*time.Millisecond) {
			ms := now.UnixMilli()
			if l := time.Duration(ms-m.At(ms)) * time.Millisecond; l < lo || l > hi {
				t.Fatalf("%s at %s: look-back %v outside [%v, %v]", c.expr, now, l, lo, hi)
			}
		}
	}
}

// TestMathRefused: what neither Elasticsearch nor Kibana parses.
func TestMathRefused(t *testing.T) {
	for _, in := range []string{"now-1q", "now-", "now/", "now-1d/", "now*2d", "now-10000000d", "nowish"} {
		if _, err := ParseMath(in); err == nil {
			t.Errorf("ParseMath(%q) accepted", in)
		}
	}
}
