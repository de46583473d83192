package kql

import (
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
// millisecond precision, and its date math (esdate.Math, ISO weeks).

// dateExpr is a compiled date-math expression.
type dateExpr = esdate.Math

// parseDateMath compiles a query value for a date field.
func parseDateMath(s string) (*dateExpr, error) { return esdate.ParseMath(s) }

// parseDate parses strict_date_optional_time or epoch_millis (esdate.Parse).
func parseDate(s string) (lo, hi int64, err error) { return esdate.Parse(s) }

// docMillis reads a document value of a date field (esdate.Millis).
func docMillis(v any, s string, isStr bool) (int64, bool) {
	if isStr {
		return esdate.Millis(s)
	}
	return esdate.Millis(v)
}
