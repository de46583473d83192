package rules

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/xferhunt/xferhunt/internal/esdate"
)

// units are the fixed-length Elasticsearch date-math units. Months and years
// are left out on purpose: their length depends on the calendar, so they
// are no fixed length (rules' date math takes them: ParseWindowStart).
var units = map[byte]time.Duration{
	's': time.Second,
	'm': time.Minute,
	'h': time.Hour,
	'H': time.Hour,
	'd': 24 * time.Hour,
	'w': 7 * 24 * time.Hour,
}

// ParseDuration reads a look-back length as rules and flags spell it: a
// count and a date-math unit ("10d", "36h", "90m", "30s", "2w"), the same
// as relative date math ("now-10d"), or a Go duration ("1h30m"). "now" alone
// is zero. Future offsets ("now+5m"), rounding ("now-1d/d"), months and years
// are refused: none of them is a fixed length of time before an event (a
// rule's from and history_window_start take them: ParseWindowStart).
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("empty duration")
	}
	v := in
	if strings.HasPrefix(v, "now") {
		v = v[len("now"):]
		if v == "" {
			return 0, nil
		}
		if strings.Contains(v, "/") {
			return 0, fmt.Errorf("duration %q: date-math rounding is not supported", in)
		}
		if v[0] != '-' {
			return 0, fmt.Errorf("duration %q: only past offsets (now-N<unit>) are supported", in)
		}
		v = v[1:]
	}
	if d, ok, err := dateMath(v); ok {
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", in, err)
		}
		return d, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, nil
	}
	if n := len(v); n > 1 && (v[n-1] == 'M' || v[n-1] == 'y') {
		return 0, fmt.Errorf("duration %q: months and years have no fixed length; use days or weeks", in)
	}
	return 0, fmt.Errorf("duration %q: want a count and a unit s, m, h, d or w (e.g. 10d, 36h) or now-<count><unit>", in)
}

// dateMath parses "<digits><unit>" with one Elasticsearch date-math unit;
// ok says v has that shape, err that its length does not fit a Duration
// (it would wrap around to a negative one: "106752d" read as "must be
// positive").
func dateMath(v string) (d time.Duration, ok bool, err error) {
	if len(v) < 2 {
		return 0, false, nil
	}
	unit, ok := units[v[len(v)-1]]
	if !ok {
		return 0, false, nil
	}
	n, perr := strconv.ParseUint(v[:len(v)-1], 10, 32)
	if perr != nil {
		return 0, false, nil
	}
	if max := uint64(math.MaxInt64 / int64(unit)); n > max {
		return 0, true, fmt.Errorf("too long: at most %d%c (about 292 years)", max, v[len(v)-1])
	}
	return time.Duration(n) * unit, true, nil
}

// FormatDuration renders d in the largest date-math unit up to days that
// divides it exactly ("10d", "36h", "5m"), so a parsed window prints as
// rules write it; weeks come out as days ("2w" → "14d").
// Lengths that no unit divides fall back to Go's notation.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	for _, u := range []struct {
		len  time.Duration
		name string
	}{
		{24 * time.Hour, "d"},
		{time.Hour, "h"},
		{time.Minute, "m"},
		{time.Second, "s"},
	} {
		if d%u.len == 0 {
			return strconv.FormatInt(int64(d/u.len), 10) + u.name
		}
	}
	return d.String()
}

// ParseWindowStart reads a rule's from or history_window_start the way
// Kibana's rule executor does (@kbn/datemath): date math anchored at now
// with + and - in units y M w d h H m s, rounding /unit (weeks start on
// Sunday, moment's default), chained ("now-1M/M+2d"), in UTC. It returns
// the expression and the shortest and longest look-back it can mean
// (now − start); the shortest must be positive, a window that never
// reaches before now being no window.
func ParseWindowStart(s string) (m *esdate.Math, lo, hi time.Duration, err error) {
	in := strings.TrimSpace(s)
	if !strings.HasPrefix(in, "now") {
		return nil, 0, 0, fmt.Errorf("%q: want date math anchored at now (now-10d, now-1M/M, now-30d/d)", in)
	}
	m, err = esdate.ParseMath(in)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%q: %w", in, err)
	}
	m.SundayWeeks = true
	lo, hi = m.Span()
	if lo <= 0 {
		return nil, 0, 0, fmt.Errorf("%q: must reach back before now at every time (it can reach %s)", in, FormatDuration(lo))
	}
	return m, lo, hi, nil
}
