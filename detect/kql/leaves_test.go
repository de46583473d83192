package kql

import (
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/ecs"
)

// leaf is one scalar of a document with its dotted path.
type leaf struct {
	path  string
	s     string
	v     any
	isStr bool
}

type leafList []leaf

func (l *leafList) Leaf(path []byte, v any, s string, isStr bool) bool {
	*l = append(*l, leaf{string(path), s, v, isStr})
	return false
}

// leafwiseMatch evaluates q's leafwise form on d's leaves, the way an index
// of leaves would; ok is false when q has none, or an exists atom names a
// path with leaves below it.
func leafwiseMatch(q *Query, d ecs.Doc) (matched, ok bool) {
	lw, ok := q.Leafwise()
	if !ok {
		return false, false
	}
	var leaves leafList
	ecs.AnyLeaf(d, &leaves)
	for i := range lw.Atoms() {
		if !lw.Exists(i) {
			continue
		}
		for _, lf := range leaves {
			if strings.HasPrefix(lf.path, lw.Path(i)+".") {
				return false, false
			}
		}
	}
	return lw.Eval(func(i int) bool {
		for _, lf := range leaves {
			t := lw.Test(i, lf.path)
			if t == nil {
				continue
			}
			if p := lw.Path(i); p != "" && p != lf.path {
				panic("a test for a path the atom does not read")
			}
			if lf.isStr && t.MaxLen() >= 0 && len(lf.s) > t.MaxLen() && t.Str(lf.s) {
				panic("MaxLen is not a bound")
			}
			if lf.isStr && t.Str(lf.s) || !lf.isStr && t.Other(lf.v) {
				return true
			}
		}
		return false
	}), true
}

// TestLeafwiseForms: which queries have a leafwise form.
func TestLeafwiseForms(t *testing.T) {
	for q, want := range map[string]bool{
		`a:b`:                           true,
		`a:b and not (c:* or d > 3)`:    true,
		`free text`:                     true,
		`*wild*`:                        true,
		`process.*:x`:                   true,
		`*`:                             true,
		`f:{ a:b }`:                     false,
		`x:y or not f:{ a:b and c:d }`:  false,
		`"phrase" and not other`:        true,
		`@timestamp >= now-1d and a:b*`: true,
	} {
		_, ok := MustParse(q).Leafwise()
		if ok != want {
			t.Errorf("%s: leafwise %v, want %v", q, ok, want)
		}
	}
}

// TestLeafwiseBounds: only case-sensitive equality bounds the strings a
// test passes.
func TestLeafwiseBounds(t *testing.T) {
	mapped := MappedOptions()
	for _, tc := range []struct {
		q, path string
		want    int
	}{
		{`a:xyz`, "a", 3},
		{`a:(xy or xyz1)`, "a", 4},
		{`a:(xy or x*)`, "a", -1},
		{`a:x*`, "a", -1},
		{`a:*`, "a", -1},
		{`a > x`, "a", -1},
		{`hello`, "any.field", 5},
		{`process.name.caseless:scp`, "process.name", -1}, // lowercasing may shorten
		{`process.pid:12`, "process.pid", -1},             // " 12 " is 12
		{`hello`, "process.name", -1},                     // free text reaches the caseless multi-field
	} {
		q, err := ParseWith(tc.q, mapped)
		if err != nil {
			t.Fatal(err)
		}
		lw, _ := q.Leafwise()
		lt := lw.Test(0, tc.path)
		if lt == nil || lt.MaxLen() != tc.want {
			t.Errorf("%s at %s: %+v, want bound %d", tc.q, tc.path, lt, tc.want)
		}
	}
}
