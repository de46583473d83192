package ecs

import "sync"

// The one walk over a document's values. A field resolves as Elasticsearch
// resolves it when it indexes a document: at each object the remaining
// path may be one key or several dotted segments, arrays at any level are
// flattened, null and [] contribute nothing, objects are not values. The
// walkers stop at the first value that passes and allocate nothing, since
// a rule's query runs them once per event; Values and Objects collect with
// them, so detection, exceptions and every reader of a document agree on
// what a field holds by construction.
//
// The Go shapes a value may take are those a source or a JSON decoder
// produces: string, bool, the numbers (see Float), []any, []string,
// map[string]any, Doc, []map[string]any and []Doc. Only this package
// switches on them: code elsewhere (the alert database's field index,
// the fleet template, dates, exception loading) asks Kind, Len/Elem,
// AsObject and the number accessors in kind.go, so a new shape is taught
// here once.

// ValueTester tests one scalar value of a field. Strings come through Str,
// so that []string elements need no boxing (boxed is the value as the
// document holds it, nil for an element of a []string); every other
// scalar through Other.
type ValueTester interface {
	Str(s string, boxed any) bool
	Other(v any) bool
}

// ObjectTester tests one object found at a path (a nested query's element,
// an exception entry's).
type ObjectTester interface {
	Object(m map[string]any) bool
}

// LeafTester tests one scalar together with its dotted path (field-name
// wildcards, free text): s when isStr, else v. The path is only valid
// during the call.
type LeafTester interface {
	Leaf(path []byte, v any, s string, isStr bool) bool
}

// AsObject returns v as an object, nil when it is not one.
func AsObject(v any) map[string]any {
	switch t := v.(type) {
	case map[string]any:
		return t
	case Doc:
		return t
	}
	return nil
}

// AnyValue reports whether some value of path in m passes t.
func AnyValue(m map[string]any, path string, t ValueTester) bool {
	if v, ok := m[path]; ok && anyLeaf(v, t) {
		return true
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		if child, ok := m[path[:i]]; ok && anyDescend(child, path[i+1:], t) {
			return true
		}
	}
	return false
}

func anyDescend(v any, rest string, t ValueTester) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if anyDescend(e, rest, t) {
				return true
			}
		}
	case []map[string]any:
		for _, e := range x {
			if AnyValue(e, rest, t) {
				return true
			}
		}
	case []Doc:
		for _, e := range x {
			if AnyValue(e, rest, t) {
				return true
			}
		}
	default:
		if cm := AsObject(v); cm != nil {
			return AnyValue(cm, rest, t)
		}
	}
	return false
}

func anyLeaf(v any, t ValueTester) bool {
	switch x := v.(type) {
	case nil:
	case string:
		return t.Str(x, v)
	case []any:
		for _, e := range x {
			if anyLeaf(e, t) {
				return true
			}
		}
	case []string:
		for _, e := range x {
			if t.Str(e, nil) {
				return true
			}
		}
	case map[string]any, Doc, []map[string]any, []Doc:
		// objects are not values
	default:
		return t.Other(v)
	}
	return false
}

// AnyScalar reports whether some scalar anywhere under v (objects and
// arrays walked whole) passes t.
func AnyScalar(v any, t ValueTester) bool {
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			if AnyScalar(e, t) {
				return true
			}
		}
	case Doc:
		return AnyScalar(map[string]any(x), t)
	case []any:
		for _, e := range x {
			if AnyScalar(e, t) {
				return true
			}
		}
	case []map[string]any:
		for _, e := range x {
			if AnyScalar(e, t) {
				return true
			}
		}
	case []Doc:
		for _, e := range x {
			if AnyScalar(e, t) {
				return true
			}
		}
	default:
		return anyLeaf(v, t)
	}
	return false
}

// AnyObject reports whether some object at path in m (arrays flattened)
// passes t.
func AnyObject(m map[string]any, path string, t ObjectTester) bool {
	if v, ok := m[path]; ok && objLeaf(v, t) {
		return true
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		if child, ok := m[path[:i]]; ok && objDescend(child, path[i+1:], t) {
			return true
		}
	}
	return false
}

func objDescend(v any, rest string, t ObjectTester) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if objDescend(e, rest, t) {
				return true
			}
		}
	case []map[string]any:
		for _, e := range x {
			if AnyObject(e, rest, t) {
				return true
			}
		}
	case []Doc:
		for _, e := range x {
			if AnyObject(e, rest, t) {
				return true
			}
		}
	default:
		if cm := AsObject(v); cm != nil {
			return AnyObject(cm, rest, t)
		}
	}
	return false
}

func objLeaf(v any, t ObjectTester) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if objLeaf(e, t) {
				return true
			}
		}
	case []map[string]any:
		for _, e := range x {
			if t.Object(e) {
				return true
			}
		}
	case []Doc:
		for _, e := range x {
			if t.Object(e) {
				return true
			}
		}
	default:
		if cm := AsObject(v); cm != nil {
			return t.Object(cm)
		}
	}
	return false
}

// AnyLeaf walks every scalar in m with its dotted path. The path is built
// in a pooled buffer: one on the caller's stack would escape through the
// interface call and cost an allocation per walk.
func AnyLeaf(m map[string]any, t LeafTester) bool {
	bp := pathBufs.Get().(*[]byte)
	ok := anyLeafAt(m, (*bp)[:0], t)
	pathBufs.Put(bp)
	return ok
}

var pathBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

func anyLeafAt(m map[string]any, buf []byte, t LeafTester) bool {
	for k, v := range m {
		p := buf
		if len(p) > 0 {
			p = append(p, '.')
		}
		p = append(p, k...)
		if pathLeaf(v, p, t) {
			return true
		}
	}
	return false
}

func pathLeaf(v any, p []byte, t LeafTester) bool {
	switch x := v.(type) {
	case nil:
	case string:
		return t.Leaf(p, nil, x, true)
	case []any:
		for _, e := range x {
			if pathLeaf(e, p, t) {
				return true
			}
		}
	case []string:
		for _, e := range x {
			if t.Leaf(p, nil, e, true) {
				return true
			}
		}
	case []map[string]any:
		for _, e := range x {
			if anyLeafAt(e, p, t) {
				return true
			}
		}
	case []Doc:
		for _, e := range x {
			if anyLeafAt(e, p, t) {
				return true
			}
		}
	default:
		if cm := AsObject(v); cm != nil {
			return anyLeafAt(cm, p, t)
		}
		return t.Leaf(p, v, "", false)
	}
	return false
}
