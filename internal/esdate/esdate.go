// Package esdate parses dates the way Elasticsearch's default date format
// (strict_date_optional_time||epoch_millis) does, in the Zulu time zone
// with millisecond precision. The KQL layer (date ranges) and the
// detection engine (event time) share it, so a timestamp the query can
// compare is also one the engine can order by.
package esdate

import (
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
)

// ErrDate is the error for a value that is no date Elasticsearch accepts.
var ErrDate = errors.New("not a date (expected ISO-8601 such as 2026-03-01T10:00:00Z, epoch milliseconds, or date math such as now-1d/d)")

// Parse parses strict_date_optional_time or epoch_millis, returning the
// instant with missing components filled down (lo) and up (hi).
func Parse(s string) (lo, hi int64, err error) {
	if s == "" {
		return 0, 0, ErrDate
	}
	if allDigits(s) && len(s) != 4 || len(s) > 1 && s[0] == '-' && allDigits(s[1:]) {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, 0, ErrDate
		}
		return v, v, nil
	}
	// epoch_millis also takes a fraction of a millisecond ("…000.5"),
	// which a millisecond date truncates.
	if i := indexByte(s, '.'); i > 0 && (allDigits(s[:i]) || i > 1 && s[0] == '-' && allDigits(s[1:i])) && allDigits(s[i+1:]) {
		v, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil {
			return 0, 0, ErrDate
		}
		return v, v, nil
	}
	return parseISO(s)
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseISO parses yyyy[-MM[-dd[THH[:mm[:ss[.fff…]]]]]][Z|±HH[:mm]].
func parseISO(s string) (lo, hi int64, err error) {
	i := 0
	num := func(n int) (int, bool) {
		if i+n > len(s) {
			return 0, false
		}
		v := 0
		for k := 0; k < n; k++ {
			c := s[i+k]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		i += n
		return v, true
	}
	sep := func(c byte) bool {
		if i < len(s) && s[i] == c {
			i++
			return true
		}
		return false
	}
	year, ok := num(4)
	if !ok {
		return 0, 0, ErrDate
	}
	// fields: month, day, hour, minute, second, nanos; level = how many given
	month, day, hour, minute, second, nanos := 1, 1, 0, 0, 0, 0
	level := 0
	if sep('-') {
		if month, ok = num(2); !ok {
			return 0, 0, ErrDate
		}
		level = 1
		if sep('-') {
			if day, ok = num(2); !ok {
				return 0, 0, ErrDate
			}
			level = 2
			if sep('T') {
				if hour, ok = num(2); !ok {
					return 0, 0, ErrDate
				}
				level = 3
				if sep(':') {
					if minute, ok = num(2); !ok {
						return 0, 0, ErrDate
					}
					level = 4
					if sep(':') {
						if second, ok = num(2); !ok {
							return 0, 0, ErrDate
						}
						level = 5
						if sep('.') || sep(',') {
							start := i
							for i < len(s) && s[i] >= '0' && s[i] <= '9' {
								i++
							}
							digits := s[start:i]
							if digits == "" || len(digits) > 9 {
								return 0, 0, ErrDate
							}
							for k := 0; k < 9; k++ {
								nanos *= 10
								if k < len(digits) {
									nanos += int(digits[k] - '0')
								}
							}
							level = 6
						}
					}
				}
			}
		}
	}
	offset := 0
	if i < len(s) {
		switch s[i] {
		case 'Z', 'z':
			i++
		case '+', '-':
			if level < 3 {
				return 0, 0, ErrDate
			}
			sign := 1
			if s[i] == '-' {
				sign = -1
			}
			i++
			oh, ok := num(2)
			if !ok {
				return 0, 0, ErrDate
			}
			om := 0
			if sep(':') {
				if om, ok = num(2); !ok {
					return 0, 0, ErrDate
				}
			} else if i < len(s) {
				if om, ok = num(2); !ok {
					return 0, 0, ErrDate
				}
			}
			offset = sign * (oh*3600 + om*60)
		}
	}
	if i != len(s) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59 {
		return 0, 0, ErrDate
	}
	t := time.Date(year, time.Month(month), day, hour, minute, second, nanos, time.UTC)
	if t.Day() != day {
		return 0, 0, ErrDate // e.g. February 30
	}
	t = t.Add(-time.Duration(offset) * time.Second)
	lo = t.UnixMilli()
	var end time.Time
	switch level {
	case 0:
		end = t.AddDate(1, 0, 0)
	case 1:
		end = t.AddDate(0, 1, 0)
	case 2:
		end = t.AddDate(0, 0, 1)
	case 3:
		end = t.Add(time.Hour)
	case 4:
		end = t.Add(time.Minute)
	case 5:
		end = t.Add(time.Second)
	default:
		return lo, lo, nil
	}
	return lo, end.UnixMilli() - 1, nil
}

// Millis reads a document value of a date field: a string in either
// format, or a JSON number of epoch milliseconds (fractions truncated, as
// Elasticsearch stores millisecond dates). Anything else is no date.
func Millis(v any) (int64, bool) {
	switch ecs.Kind(v) {
	case ecs.KindString:
		t, _ := v.(string)
		lo, _, err := Parse(t)
		return lo, err == nil
	case ecs.KindNumber:
		if lit, ok := ecs.NumberLiteral(v); ok {
			if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
				return n, true
			}
			if f, err := strconv.ParseFloat(lit, 64); err == nil {
				return Millis(f)
			}
			return 0, false
		}
		if n, ok := ecs.Int(v); ok {
			return n, true
		}
		if !ecs.IsDecoded(v) {
			return 0, false // float32, int32, uint32, uint64: no date
		}
		t, _ := ecs.Float(v)
		if math.IsNaN(t) || math.IsInf(t, 0) || math.Abs(t) > maxMillis {
			return 0, false
		}
		return int64(t), true
	}
	// Not document values: a caller's own instant.
	switch t := v.(type) {
	case time.Time:
		return t.UnixMilli(), true
	case *time.Time:
		if t != nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

// maxMillis bounds epoch milliseconds read from floats: beyond it the
// conversion to int64 is undefined.
const maxMillis = 1 << 62
