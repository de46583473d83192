package kql

import (
	"errors"
	"strconv"
	"time"
	"unsafe"

	"github.com/xferhunt/xferhunt/internal/esdate"
)

func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// Dates follow Elasticsearch's default date format
// (strict_date_optional_time||epoch_millis) in the Zulu time zone, with
// millisecond precision, and its date math:
//
//	now | <date>||  followed by  +N<unit> | -N<unit> | /<unit>
//	units: y M w d h H m s
//
// "Round up" is how Elasticsearch parses the upper side of a range (lte,
// and the lower side of gt): a rounding /d moves to the last millisecond of
// the day, and a date written without some components fills them with
// their maximum (lte 2026-03-01 means up to 2026-03-01T23:59:59.999).

// dateExpr is a compiled date-math expression.
type dateExpr struct {
	now    bool
	lo, hi int64 // the base date, filled down / up (when !now)
	ops    []dateOp
}

type dateOp struct {
	round bool
	n     int
	unit  byte
}

// eval returns the instant in epoch milliseconds.
func (e *dateExpr) eval(now func() time.Time, roundUp bool) int64 {
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
	for _, op := range e.ops {
		if op.round {
			t = roundTime(t, op.unit, roundUp)
			continue
		}
		t = addTime(t, op.n, op.unit)
	}
	return t.UnixMilli()
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

// addMonths adds months the way java.time does: the day is clamped to the
// end of a shorter month (Jan 31 + 1M = Feb 28), not carried over.
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// roundTime rounds down to the start of the unit, or with roundUp to the
// last millisecond of it.
func roundTime(t time.Time, unit byte, roundUp bool) time.Time {
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
	case 'w': // ISO weeks start on Monday
		wd := (int(t.Weekday()) + 6) % 7
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

// parseDateMath compiles a query value for a date field.
func parseDateMath(s string) (*dateExpr, error) {
	e := &dateExpr{}
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
		lo, hi, err := parseDate(base)
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
			e.ops = append(e.ops, dateOp{round: true, unit: math[i+1]})
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
					return nil, errors.New("date math: amount out of range")
				}
				n = v
			}
			if j >= len(math) || !isDateUnit(math[j]) {
				return nil, errors.New("date math: expected a unit (y M w d h H m s) after " + math[i:j])
			}
			if c == '-' {
				n = -n
			}
			e.ops = append(e.ops, dateOp{n: n, unit: math[j]})
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

// parseDate parses strict_date_optional_time or epoch_millis (esdate.Parse).
func parseDate(s string) (lo, hi int64, err error) { return esdate.Parse(s) }

// docMillis reads a document value of a date field (esdate.Millis).
func docMillis(v any, s string, isStr bool) (int64, bool) {
	if isStr {
		return esdate.Millis(s)
	}
	return esdate.Millis(v)
}
