package esdate

import (
	"errors"
	"strconv"
	"time"
)

// Date math as Elasticsearch and Kibana spell it:
//
//	now | <date>||  followed by  +N<unit> | -N<unit> | /<unit>
//	units: y M w d h H m s   (M month, m minute; N defaults to 1)
//
// evaluated in UTC with calendar-correct months and years. "Round up" is
// how Elasticsearch parses the upper side of a range (lte, and the lower
// side of gt): a rounding /d moves to the last millisecond of the day, and
// a date written without some components fills them with their maximum
// (lte 2026-03-01 means up to 2026-03-01T23:59:59.999).

// Math is a compiled date-math expression.
type Math struct {
	now    bool
	lo, hi int64 // the base date, filled down / up (when !now)
	ops    []mathOp
	// SundayWeeks makes /w round to Sunday as Kibana's moment-based
	// datemath does with its default "en" locale; Elasticsearch rounds to
	// Monday (ISO weeks).
	SundayWeeks bool
}

type mathOp struct {
	round bool
	n     int
	unit  byte
}

// ErrMathAmount refuses an amount beyond a million units, which no rule or
// query needs and which keeps every evaluation inside time.Time's range.
var ErrMathAmount = errors.New("date math: amount out of range")

// Relative reports whether the expression is anchored at now.
func (e *Math) Relative() bool { return e.now }

// Eval returns the instant in epoch milliseconds; now is called only for
// an expression anchored at now.
func (e *Math) Eval(now func() time.Time, roundUp bool) int64 {
	if !e.now && len(e.ops) == 0 {
		if roundUp {
			return e.hi
		}
		return e.lo
	}
	var t time.Time
	if e.now {
		t = now().UTC()
	} else {
		t = time.UnixMilli(e.lo).UTC()
	}
	return e.apply(t, roundUp).UnixMilli()
}

// At evaluates an expression anchored at now with now = ms (rounding
// down), the way Kibana's rule executor resolves a rule's from and
// history_window_start against a run's time.
func (e *Math) At(ms int64) int64 {
	return e.apply(time.UnixMilli(ms).UTC(), false).UnixMilli()
}

func (e *Math) apply(t time.Time, roundUp bool) time.Time {
	for _, op := range e.ops {
		if op.round {
			t = roundTime(t, op.unit, roundUp, e.SundayWeeks)
			continue
		}
		t = addTime(t, op.n, op.unit)
	}
	return t
}

// Span bounds now − At(now) over every now: the shortest and the longest
// look-back the expression can mean (now-1M: 28 to 31 days; now-30d/d: 30
// to 31 days, a rounding counted as its whole unit so that the bound reads
// as rules write it, though 31 days less a millisecond is the most it
// reaches). It is meaningful for expressions anchored at now.
func (e *Math) Span() (lo, hi time.Duration) {
	for _, op := range e.ops {
		short, long := unitLen(op.unit)
		if op.round {
			hi += long
			continue
		}
		n := time.Duration(op.n)
		if n < 0 {
			lo, hi = lo-n*short, hi-n*long
		} else {
			lo, hi = lo-n*long, hi-n*short
		}
	}
	return lo, hi
}

// unitLen is the shortest and the longest length of a unit in UTC.
func unitLen(u byte) (short, long time.Duration) {
	const day = 24 * time.Hour
	switch u {
	case 'y':
		return 365 * day, 366 * day
	case 'M':
		return 28 * day, 31 * day
	case 'w':
		return 7 * day, 7 * day
	case 'd':
		return day, day
	case 'h', 'H':
		return time.Hour, time.Hour
	case 'm':
		return time.Minute, time.Minute
	}
	return time.Second, time.Second
}

func addTime(t time.Time, n int, unit byte) time.Time {
	switch unit {
	case 'y':
		return addMonths(t, 12*n)
	case 'M':
		return addMonths(t, n)
	case 'w':
		return t.AddDate(0, 0, 7*n)
	case 'd':
		return t.AddDate(0, 0, n)
	case 'h', 'H':
		return t.Add(time.Duration(n) * time.Hour)
	case 'm':
		return t.Add(time.Duration(n) * time.Minute)
	}
	return t.Add(time.Duration(n) * time.Second)
}

// addMonths adds months the way java.time and moment do: the day is
// clamped to the end of a shorter month (Jan 31 + 1M = Feb 28), not
// carried over.
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// roundTime rounds down to the start of the unit, or with roundUp to the
// last millisecond of it; weeks start on Monday, or Sunday with sunday.
func roundTime(t time.Time, unit byte, roundUp, sunday bool) time.Time {
	y, mo, d := t.Date()
	var start time.Time
	var next func(time.Time) time.Time
	switch unit {
	case 'y':
		start = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		next = func(s time.Time) time.Time { return s.AddDate(1, 0, 0) }
	case 'M':
		start = time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC)
		next = func(s time.Time) time.Time { return s.AddDate(0, 1, 0) }
	case 'w':
		first := time.Monday
		if sunday {
			first = time.Sunday
		}
		wd := (int(t.Weekday()) - int(first) + 7) % 7
		start = time.Date(y, mo, d-wd, 0, 0, 0, 0, time.UTC)
		next = func(s time.Time) time.Time { return s.AddDate(0, 0, 7) }
	case 'd':
		start = time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
		next = func(s time.Time) time.Time { return s.AddDate(0, 0, 1) }
	case 'h', 'H':
		start = t.Truncate(time.Hour)
		next = func(s time.Time) time.Time { return s.Add(time.Hour) }
	case 'm':
		start = t.Truncate(time.Minute)
		next = func(s time.Time) time.Time { return s.Add(time.Minute) }
	default:
		start = t.Truncate(time.Second)
		next = func(s time.Time) time.Time { return s.Add(time.Second) }
	}
	if roundUp {
		return next(start).Add(-time.Millisecond)
	}
	return start
}

// ParseMath compiles a date-math expression or a date (Parse).
func ParseMath(s string) (*Math, error) {
	e := &Math{}
	var math string
	switch {
	case len(s) >= 3 && s[:3] == "now":
		e.now, math = true, s[3:]
	default:
		base := s
		for i := 0; i+1 < len(s); i++ {
			if s[i] == '|' && s[i+1] == '|' {
				base, math = s[:i], s[i+2:]
				if math == "" {
					return nil, errors.New("date math after || is empty")
				}
				break
			}
		}
		lo, hi, err := Parse(base)
		if err != nil {
			return nil, err
		}
		e.lo, e.hi = lo, hi
	}
	for i := 0; i < len(math); {
		c := math[i]
		switch c {
		case '/':
			if i+1 >= len(math) || !isDateUnit(math[i+1]) {
				return nil, errors.New("date math: / must be followed by a unit (y M w d h H m s)")
			}
			e.ops = append(e.ops, mathOp{round: true, unit: math[i+1]})
			i += 2
		case '+', '-':
			j := i + 1
			for j < len(math) && math[j] >= '0' && math[j] <= '9' {
				j++
			}
			n := 1
			if j > i+1 {
				v, err := strconv.Atoi(math[i+1 : j])
				if err != nil || v > 1e6 {
					return nil, ErrMathAmount
				}
				n = v
			}
			if j >= len(math) || !isDateUnit(math[j]) {
				return nil, errors.New("date math: expected a unit (y M w d h H m s) after " + math[i:j])
			}
			if c == '-' {
				n = -n
			}
			e.ops = append(e.ops, mathOp{n: n, unit: math[j]})
			i = j + 1
		default:
			return nil, errors.New("date math: expected +, - or / but found " + strconv.QuoteRune(rune(c)))
		}
	}
	return e, nil
}

func isDateUnit(c byte) bool {
	switch c {
	case 'y', 'M', 'w', 'd', 'h', 'H', 'm', 's':
		return true
	}
	return false
}
