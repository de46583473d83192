package ecs

import (
	"encoding/json"
	"math"
	"strings"
)

// ValueKind is the JSON kind of a document value, so that codecs and
// readers outside this package classify a value without switching on the
// Go shapes it may take (see walk.go for them).
type ValueKind uint8

// The kinds of document values. KindObjects is an array typed as holding
// only objects ([]map[string]any, []Doc): a source may build one, a JSON
// decoder never does, and readers that only expect decoded JSON treat it
// apart from KindArray.
const (
	KindNull ValueKind = iota
	KindString
	KindNumber
	KindBool
	KindObject
	KindArray
	KindObjects
	KindOther
)

// String names the kind as JSON does ("array of objects" for KindObjects,
// "other" for a Go value JSON has no kind for).
func (k ValueKind) String() string {
	switch k {
	case KindNull:
		return "null"
	case KindString:
		return "string"
	case KindNumber:
		return "number"
	case KindBool:
		return "boolean"
	case KindObject:
		return "object"
	case KindArray:
		return "array"
	case KindObjects:
		return "array of objects"
	}
	return "other"
}

// Kind classifies v. Numbers are every shape Float reads; arrays of
// scalars or mixed values are []any and []string. It allocates nothing.
func Kind(v any) ValueKind {
	switch v.(type) {
	case nil:
		return KindNull
	case string:
		return KindString
	case bool:
		return KindBool
	case float64, float32, int, int32, int64, uint32, uint64, json.Number:
		return KindNumber
	case map[string]any, Doc:
		return KindObject
	case []any, []string:
		return KindArray
	case []map[string]any, []Doc:
		return KindObjects
	}
	return KindOther
}

// Len is the number of elements of a KindArray value, 0 for anything
// else. With Elem it walks an array without a closure, so a hot walk
// allocates nothing for it.
func Len(v any) int {
	switch x := v.(type) {
	case []any:
		return len(x)
	case []string:
		return len(x)
	}
	return 0
}

// Elem is element i of a KindArray value as the document holds it (a
// []string element boxed as a string), nil out of range or for anything
// else.
func Elem(v any, i int) any {
	switch x := v.(type) {
	case []any:
		if i >= 0 && i < len(x) {
			return x[i]
		}
	case []string:
		if i >= 0 && i < len(x) {
			return x[i]
		}
	}
	return nil
}

// IsDecoded reports whether v is a number as decoding JSON into any
// yields it (float64), as opposed to a json.Number kept as its literal or
// a Go integer a source set: codecs that store a float64 bit for bit take
// only those.
func IsDecoded(v any) bool {
	_, ok := v.(float64)
	return ok
}

// Integral reports, for a number, whether Elasticsearch's dynamic mapping
// would take it as a whole number: a json.Number by its literal (no
// fraction or exponent), a float64 when it has no fraction and is exact
// (below 2^53). ok is false for anything that is not a float64 or
// json.Number.
func Integral(v any) (integral, ok bool) {
	switch x := v.(type) {
	case float64:
		return x == math.Trunc(x) && math.Abs(x) < 1<<53, true
	case json.Number:
		return !strings.ContainsAny(string(x), ".eE"), true
	}
	return false, false
}

// NumberLiteral returns the literal of a json.Number value; ok is false
// for any other value (a float64 has no literal to read).
func NumberLiteral(v any) (lit string, ok bool) {
	n, ok := v.(json.Number)
	return string(n), ok
}

// Int reads a Go integer a source set (int, int64) exactly, as a float64
// could not above 2^53; ok is false for every other shape, decoded JSON
// numbers included (read those with Float or NumberLiteral).
func Int(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}
