package esdate

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// TestMillisShapes pins which document value shapes read as a date, and
// as what, so that reading them through ecs accessors changed nothing.
func TestMillisShapes(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ms := at.UnixMilli()
	for _, c := range []struct {
		v    any
		want int64
		ok   bool
	}{
		{"2026-03-01T10:00:00Z", ms, true},
		{"not a date", 0, false},
		{float64(ms) + 0.9, ms, true}, // fractions truncated
		{math.NaN(), 0, false},
		{math.Inf(1), 0, false},
		{1e300, 0, false},
		{int(ms), ms, true},
		{int64(1<<62 + 1), 1<<62 + 1, true}, // exact, no float rounding
		{json.Number("1772359200000"), 1772359200000, true},
		{json.Number("1.5e3"), 1500, true},
		{json.Number("x"), 0, false},
		{int32(5), 0, false},
		{uint64(5), 0, false},
		{float32(5), 0, false},
		{true, 0, false},
		{nil, 0, false},
		{[]any{"2026-03-01T10:00:00Z"}, 0, false},
		{at, ms, true},
		{&at, ms, true},
		{(*time.Time)(nil), 0, false},
	} {
		got, ok := Millis(c.v)
		if got != c.want || ok != c.ok {
			t.Errorf("Millis(%#v) = %d %v, want %d %v", c.v, got, ok, c.want, c.ok)
		}
	}
}
