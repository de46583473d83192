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

// Clone copies the value shapes a Doc may hold (objects become
// map[string]any, arrays []any), so that a copy shares no mutable state
// with the original: an alert with its event, alerts with each other.
func Clone(v any) any {
	switch t := v.(type) {
	case Doc:
		return Clone(map[string]any(t))
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = Clone(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = Clone(e)
		}
		return s
	case []string:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = e
		}
		return s
	}
	return v
}

// Text reads a value as Kibana's alert reason reads _source: only what has
// a length in JavaScript counts, a string or an array (its elements as
// keywords, null as empty, joined with ", "); ok is false for anything
// else, and for Kibana's empty values "" and "-".
func Text(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		if v == "" || v == "-" {
			return "", false
		}
		return v, true
	case []any:
		parts := make([]string, 0, len(v))
		for _, e := range v {
			if e == nil {
				parts = append(parts, "")
				continue
			}
			s, _ := Keyword(e)
			parts = append(parts, s)
		}
		if len(parts) == 0 || (len(parts) == 1 && parts[0] == "-") {
			return "", false
		}
		return strings.Join(parts, ", "), true
	case []string:
		if len(v) == 0 || (len(v) == 1 && v[0] == "-") {
			return "", false
		}
		return strings.Join(v, ", "), true
	}
	return "", false
}
