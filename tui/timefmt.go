package tui

import (
	"fmt"
	"time"
)

// clock is the one way times are shown: the list, the detail tabs and the
// story view all print through it. UTC (the default) carries a Z; any
// other zone is named once, in the header, instead of on every time.
type clock struct {
	loc  *time.Location
	utc  bool
	zone string // header label: "UTC" or "EST -0500 (America/New_York)"
	abbr string // short: "UTC", "EST"
}

func newClock(loc *time.Location, now time.Time) clock {
	if loc == nil || loc == time.UTC {
		return clock{loc: time.UTC, utc: true, zone: "UTC", abbr: "UTC"}
	}
	t := now.In(loc)
	name, _ := t.Zone()
	label := fmt.Sprintf("%s %s", name, t.Format("-0700"))
	if n := loc.String(); n != "" && n != name {
		label += " (" + n + ")"
	}
	return clock{loc: loc, zone: label, abbr: name}
}

// Layouts: a time of day, and a full date and time.
const (
	layoutTime = "15:04:05"
	layoutFull = "2006-01-02 15:04:05"
	layoutMs   = "2006-01-02 15:04:05.000"
)

// format prints t with layout in the clock's zone, with a Z in UTC.
func (c clock) format(t time.Time, layout string) string {
	if t.IsZero() {
		return "?"
	}
	// One allocation, the string: the list formats a time per row per
	// frame.
	var buf [48]byte
	return string(c.appendFormat(buf[:0], t, layout))
}

// appendFormat is format without allocating a new string.
func (c clock) appendFormat(b []byte, t time.Time, layout string) []byte {
	if c.loc == nil {
		c = newClock(nil, t)
	}
	b = t.In(c.loc).AppendFormat(b, layout)
	if c.utc {
		b = append(b, 'Z')
	}
	return b
}

// width is how many cells format(t, layout) takes.
func (c clock) width(layout string) int {
	if c.utc {
		return len(layout) + 1
	}
	return len(layout)
}

// docTime shows a document's RFC 3339 time the clock's way; text that is
// no time is shown as it is.
func (c clock) docTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return c.format(t, layoutFull)
}
