package kql

import (
	"testing"
	"time"
)

func ms(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMilli()
}

func TestParseDate(t *testing.T) {
	cases := []struct {
		in     string
		lo, hi string
	}{
		{"2026", "2026-01-01T00:00:00Z", "2026-12-31T23:59:59.999Z"},
		{"2026-02", "2026-02-01T00:00:00Z", "2026-02-28T23:59:59.999Z"},
		{"2026-03-01", "2026-03-01T00:00:00Z", "2026-03-01T23:59:59.999Z"},
		{"2026-03-01T10", "2026-03-01T10:00:00Z", "2026-03-01T10:59:59.999Z"},
		{"2026-03-01T10:05", "2026-03-01T10:05:00Z", "2026-03-01T10:05:59.999Z"},
		{"2026-03-01T10:05:07", "2026-03-01T10:05:07Z", "2026-03-01T10:05:07.999Z"},
		{"2026-03-01T10:05:07.5Z", "2026-03-01T10:05:07.5Z", "2026-03-01T10:05:07.5Z"},
		{"2026-03-01T10:05:07.123456789Z", "2026-03-01T10:05:07.123Z", "2026-03-01T10:05:07.123Z"},
		{"2026-03-01T10:00:00+02:00", "2026-03-01T08:00:00Z", "2026-03-01T08:00:00.999Z"},
		{"2026-03-01T10:00:00-0130", "2026-03-01T11:30:00Z", "2026-03-01T11:30:00.999Z"},
		{"1772359200000", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z"},
	}
	for _, c := range cases {
		lo, hi, err := parseDate(c.in)
		if err != nil {
			t.Errorf("parseDate(%q): %v", c.in, err)
			continue
		}
		if lo != ms(c.lo) || hi != ms(c.hi) {
			t.Errorf("parseDate(%q) = %v, %v; want %s, %s", c.in, time.UnixMilli(lo).UTC(), time.UnixMilli(hi).UTC(), c.lo, c.hi)
		}
	}
	for _, bad := range []string{"", "2026-13", "2026-02-30", "2026-03-01 10:00", "2026-03-01T25", "yesterday", "2026-03-01T10:00:00.Z"} {
		if _, _, err := parseDate(bad); err == nil {
			t.Errorf("parseDate(%q) accepted", bad)
		}
	}
}

func TestDateMath(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 3, 4, 15, 30, 45, 123e6, time.UTC) } // a Wednesday
	cases := []struct {
		in      string
		roundUp bool
		want    string
	}{
		{"now", false, "2026-03-04T15:30:45.123Z"},
		{"now-1d", false, "2026-03-03T15:30:45.123Z"},
		{"now-1d/d", false, "2026-03-03T00:00:00Z"},
		{"now-1d/d", true, "2026-03-03T23:59:59.999Z"},
		{"now/w", false, "2026-03-02T00:00:00Z"},
		{"now/M", true, "2026-03-31T23:59:59.999Z"},
		{"now+1h/h", false, "2026-03-04T16:00:00Z"},
		{"now-5m", false, "2026-03-04T15:25:45.123Z"},
		{"now-d", false, "2026-03-03T15:30:45.123Z"},
		{"now-1y+2M", false, "2025-05-04T15:30:45.123Z"},
		{"2026-01-31||+1M", false, "2026-02-28T00:00:00Z"},
		{"2026-01-01||/y", true, "2026-12-31T23:59:59.999Z"},
		{"2026-01-01", true, "2026-01-01T23:59:59.999Z"},
		{"2024-02-29||+1y", false, "2025-02-28T00:00:00Z"},
		{"2026-03-31||-1M", false, "2026-02-28T00:00:00Z"},
	}
	for _, c := range cases {
		e, err := parseDateMath(c.in)
		if err != nil {
			t.Errorf("parseDateMath(%q): %v", c.in, err)
			continue
		}
		if got := e.Eval(now, c.roundUp); got != ms(c.want) {
			t.Errorf("%q (roundUp %v) = %v, want %s", c.in, c.roundUp, time.UnixMilli(got).UTC(), c.want)
		}
	}
	for _, bad := range []string{"now-1x", "now/", "now-", "nowish", "2026-01-01||", "2026-01-01||+1"} {
		if _, err := parseDateMath(bad); err == nil {
			t.Errorf("parseDateMath(%q) accepted", bad)
		}
	}
}
