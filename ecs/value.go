package ecs

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Display renders a document value compactly for people: arrays joined
// with ", ", numbers without exponents, objects as JSON. It is the one
// reading of a value as display text, so the detail view and the alert
// database (which parses process.pid from it) agree.
func Display(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, Display(e))
		}
		return strings.Join(parts, ", ")
	case []string:
		return strings.Join(x, ", ")
	case int, int32, int64, uint, uint32, uint64, float32:
		return fmt.Sprint(x)
	case fmt.Stringer:
		return x.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Float converts the numbers a document may carry to the float64 that
// decoding its JSON yields; ok is false for anything that is not a number.
func Float(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		return f, err == nil
	}
	return 0, false
}
