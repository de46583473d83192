package kql

import "github.com/xferhunt/xferhunt/ecs"

// The walkers below resolve a field in a document the way ecs.Doc.Values
// does (and Elasticsearch when it indexes): at each object the remaining
// path may be one key or several dotted segments, arrays at any level are
// flattened, null and [] contribute nothing, objects are not values. They
// differ from Values only in that they stop at the first value that passes
// and allocate nothing, because Match runs once per event.

// tester tests one scalar. Strings come through str so that []string
// elements need no boxing.
type tester interface {
	str(s string) bool
	other(v any) bool
}

func asMap(v any) (map[string]any, bool) {
	switch t := v.(type) {
	case map[string]any:
		return t, true
	case ecs.Doc:
		return t, true
	}
	return nil, false
}

// anyValue reports whether some value of path in m passes t.
func anyValue(m map[string]any, path string, t tester) bool {
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

func anyDescend(v any, rest string, t tester) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if anyDescend(e, rest, t) {
				return true
			}
		}
	case []map[string]any:
		for _, e := range x {
			if anyValue(e, rest, t) {
				return true
			}
		}
	default:
		if cm, ok := asMap(v); ok {
			return anyValue(cm, rest, t)
		}
	}
	return false
}

func anyLeaf(v any, t tester) bool {
	switch x := v.(type) {
	case nil:
	case string:
		return t.str(x)
	case []any:
		for _, e := range x {
			if anyLeaf(e, t) {
				return true
			}
		}
	case []string:
		for _, e := range x {
			if t.str(e) {
				return true
			}
		}
	case map[string]any, ecs.Doc, []map[string]any:
		// objects are not values
	default:
		return t.other(v)
	}
	return false
}

// objTester receives the objects found at a path (nested queries).
type objTester interface {
	obj(m map[string]any) bool
}

// anyObject reports whether some object at path in m (arrays flattened)
// passes t.
func anyObject(m map[string]any, path string, t objTester) bool {
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

func objDescend(v any, rest string, t objTester) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if objDescend(e, rest, t) {
				return true
			}
		}
	case []map[string]any:
		for _, e := range x {
			if anyObject(e, rest, t) {
				return true
			}
		}
	default:
		if cm, ok := asMap(v); ok {
			return anyObject(cm, rest, t)
		}
	}
	return false
}

func objLeaf(v any, t objTester) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if objLeaf(e, t) {
				return true
			}
		}
	case []map[string]any:
		for _, e := range x {
			if t.obj(e) {
				return true
			}
		}
	default:
		if cm, ok := asMap(v); ok {
			return t.obj(cm)
		}
	}
	return false
}

// anyPath walks every scalar in m with its dotted path (field-name
// wildcards and free text). buf holds the path so far; w is concrete so that
// the buffer can stay on the caller's stack.
func anyPath(m map[string]any, buf []byte, w *wildFieldM) bool {
	for k, v := range m {
		p := buf
		if len(p) > 0 {
			p = append(p, '.')
		}
		p = append(p, k...)
		if pathLeaf(v, p, w) {
			return true
		}
	}
	return false
}

func pathLeaf(v any, p []byte, w *wildFieldM) bool {
	switch x := v.(type) {
	case nil:
	case string:
		return w.leaf(p, nil, x, true)
	case []any:
		for _, e := range x {
			if pathLeaf(e, p, w) {
				return true
			}
		}
	case []string:
		for _, e := range x {
			if w.leaf(p, nil, e, true) {
				return true
			}
		}
	case []map[string]any:
		for _, e := range x {
			if anyPath(e, p, w) {
				return true
			}
		}
	default:
		if cm, ok := asMap(v); ok {
			return anyPath(cm, p, w)
		}
		return w.leaf(p, v, "", false)
	}
	return false
}
