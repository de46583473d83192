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

// TestWindowStartDateMath: history_window_start and from take the date
// math Kibana accepts; a rounded or calendar window keeps its expression
// (resolved per event) and the longest look-back as the kept history.
func TestWindowStartDateMath(t *testing.T) {
	r, err := Parse([]byte(strings.Replace(newTerms("", `["host.id"]`, "now-30d/d"), `from = "now-9m"`, `from = "now-1h/h"`, 1)), "dm.toml")
	if err != nil {
		t.Fatal(err)
	}
	if r.HistoryStart == nil || r.HistoryWindow != 31*24*time.Hour || r.HistoryWindowStart != "now-30d/d" {
		t.Fatalf("window %v %v %q", r.HistoryStart, r.HistoryWindow, r.HistoryWindowStart)
	}
	if d := Describe(r); !strings.Contains(d, "  history window: 30d to 31d by event time (now-30d/d)\n") || !strings.Contains(d, "from now-1h/h") {
		t.Fatalf("Describe:\n%s", d)
	}
	now := time.Date(2026, 3, 4, 15, 30, 0, 0, time.UTC)
	if got := time.UnixMilli(r.HistoryStart.At(now.UnixMilli())).UTC(); !got.Equal(time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("start at %s = %s", now, got)
	}
	r, err = Parse([]byte(newTerms("", `["host.id"]`, "now-1M")), "dm.toml")
	if err != nil || r.HistoryStart == nil || r.HistoryWindow != 31*24*time.Hour {
		t.Fatalf("now-1M: %v, %+v", err, r)
	}
	r.SetHistoryWindow(7 * 24 * time.Hour) // --history-window replaces the expression
	if r.HistoryStart != nil || r.HistoryWindowStart != "now-7d" {
		t.Fatalf("override: %v %q", r.HistoryStart, r.HistoryWindowStart)
	}
	if _, err := Parse([]byte(strings.Replace(newTerms("", `["host.id"]`, "now-10d"), `from = "now-9m"`, `from = "now+1d/d"`, 1)), "dm.toml"); err == nil || !strings.Contains(err.Error(), "must reach back before now") {
		t.Fatalf("from now+1d/d: %v", err)
	}
}
