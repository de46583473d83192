// Package ecs holds the document type that flows through xferhunt: an ECS
// document shaped as Elasticsearch stores _source (nested objects), plus the
// field-resolution rules Elasticsearch applies when it indexes one.
//
// Every stage speaks this type: sources build it, detection reads it with
// Elasticsearch's semantics, the alert builder copies it, and the TUI shows it.
package ecs

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
)

// IgnoreAbove is the keyword length above which Elasticsearch does not index
// a value (ECS mappings use ignore_above: 1024): such a value is kept in
// _source but behaves as absent for queries and aggregations.
const IgnoreAbove = 1024

// Doc is one ECS document. Values are string, bool, float64, int, int64,
// json.Number, []any, []string, map[string]any or Doc. Keys may themselves
// contain dots ("kibana.alert.uuid"), as Elasticsearch allows.
type Doc map[string]any

// Get returns the first value found at the dotted path, or nil. It accepts
// nested objects, dotted keys, and mixtures of both; it does not descend
// into arrays (use Values for Elasticsearch's array semantics).
func (d Doc) Get(path string) any {
	return get(map[string]any(d), path)
}

func get(m map[string]any, path string) any {
	if v, ok := m[path]; ok {
		return v
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		child, ok := m[path[:i]]
		if !ok {
			continue
		}
		if cm := AsObject(child); cm != nil {
			if v := get(cm, path[i+1:]); v != nil {
				return v
			}
		}
	}
	return nil
}

// Str returns the value at path as text ("" when missing). Numbers and
// booleans are rendered as Elasticsearch would index them as keywords; for an
// array the first element is used.
func (d Doc) Str(path string) string {
	v := d.Get(path)
	if arr, ok := v.([]any); ok {
		if len(arr) == 0 {
			return ""
		}
		v = arr[0]
	}
	if arr, ok := v.([]string); ok {
		if len(arr) == 0 {
			return ""
		}
		v = arr[0]
	}
	s, _ := Keyword(v)
	return s
}

// Set stores v at the dotted path, creating nested objects as needed. A
// non-object value already sitting on the way is replaced by an object.
func (d Doc) Set(path string, v any) {
	m := map[string]any(d)
	for {
		i := strings.IndexByte(path, '.')
		if i < 0 {
			m[path] = v
			return
		}
		next := AsObject(m[path[:i]])
		if next == nil {
			next = map[string]any{}
			m[path[:i]] = next
		}
		m, path = next, path[i+1:]
	}
}

// Delete removes the value at the dotted path (nested objects only).
func (d Doc) Delete(path string) {
	m := map[string]any(d)
	for {
		if _, ok := m[path]; ok {
			delete(m, path)
			return
		}
		i := strings.IndexByte(path, '.')
		if i < 0 {
			return
		}
		next := AsObject(m[path[:i]])
		if next == nil {
			return
		}
		m, path = next, path[i+1:]
	}
}

// Values resolves a field the way Elasticsearch does when it indexes a
// document: every dotted-key spelling of the path is followed, arrays at any
// level are flattened, nulls and empty arrays contribute nothing, and objects
// are not values. The result holds scalars only.
func (d Doc) Values(path string) []any {
	c := &valueList{}
	c.vals = c.buf[:0]
	AnyValue(d, path, c)
	if len(c.vals) == 0 {
		return nil
	}
	return c.vals
}

// Objects returns the objects at path with the same dotted-key and array
// rules as Values, keeping objects instead of scalars: the elements a
// nested query or exception entry is evaluated against one by one.
func (d Doc) Objects(path string) []Doc {
	c := &objectList{}
	c.objs = c.buf[:0]
	AnyObject(d, path, c)
	if len(c.objs) == 0 {
		return nil
	}
	return c.objs
}

// valueList gathers the values a walk finds (walk.go), for Values. The
// first few live in buf, so that a field of a few values costs one
// allocation: the list escapes through the walk's interface anyway.
type valueList struct {
	vals []any
	buf  [4]any
}

func (c *valueList) Str(s string, boxed any) bool {
	if boxed == nil {
		boxed = s // an element of a []string
	}
	c.vals = append(c.vals, boxed)
	return false
}

func (c *valueList) Other(v any) bool {
	c.vals = append(c.vals, v)
	return false
}

// objectList gathers the objects a walk finds, for Objects, as valueList.
type objectList struct {
	objs []Doc
	buf  [2]Doc
}

func (c *objectList) Object(m map[string]any) bool {
	c.objs = append(c.objs, m)
	return false
}

// Keywords returns the indexed keyword values of a field: Values rendered as
// text, with values longer than IgnoreAbove dropped, as Elasticsearch drops
// them from the index.
func (d Doc) Keywords(path string) []string {
	out, _ := d.KeywordsIgnored(path)
	return out
}

// KeywordsIgnored is Keywords plus how many scalar values were left out for
// being longer than IgnoreAbove: Elasticsearch's behaviour, kept, but a
// value made long on purpose escapes a rule, so callers count it.
func (d Doc) KeywordsIgnored(path string) (kw []string, ignored int) {
	vals := d.Values(path)
	if len(vals) == 0 {
		return nil, 0
	}
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		s, ok := Keyword(v)
		if !ok {
			continue
		}
		if len(s) > IgnoreAbove {
			ignored++
			continue
		}
		out = append(out, s)
	}
	return out, ignored
}

// Keyword renders a scalar as the text Elasticsearch indexes for it in a
// keyword field: strings as they are, numbers in their shortest form, booleans
// as "true"/"false". The second result is false for non-scalars.
func Keyword(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case bool:
		return strconv.FormatBool(t), true
	case int:
		return strconv.Itoa(t), true
	case int64:
		return strconv.FormatInt(t, 10), true
	case uint32:
		return strconv.FormatUint(uint64(t), 10), true
	case uint64:
		return strconv.FormatUint(t, 10), true
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e15 {
			return strconv.FormatInt(int64(t), 10), true
		}
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case json.Number:
		return t.String(), true
	}
	return "", false
}

// Leaves lists the paths of every scalar-bearing field in the document, in
// sorted order, spelled with dots. Field-name wildcards (process.*:scp) are
// resolved against it, as Elasticsearch resolves them against its mapping.
func (d Doc) Leaves() []string {
	seen := leafPaths{}
	AnyLeaf(d, seen)
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// leafPaths gathers the paths of a walk's scalars, for Leaves.
type leafPaths map[string]bool

func (l leafPaths) Leaf(path []byte, _ any, _ string, _ bool) bool {
	if !l[string(path)] {
		l[string(path)] = true
	}
	return false
}
