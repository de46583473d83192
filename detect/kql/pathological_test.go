package kql

import (
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
)

// Hostile queries parse (or fail) and match in time linear-ish in their
// size: no exponential backtracking in the grammar or the wildcard matcher.
func TestPathologicalInputs(t *testing.T) {
	long := strings.Repeat("a", 100_000)
	cases := map[string]string{
		"open parens":        strings.Repeat("(", 50_000) + "a:b",
		"balanced parens":    strings.Repeat("(", 150) + "a:b" + strings.Repeat(")", 150),
		"value parens":       "f:" + strings.Repeat("(", 50_000) + "x",
		"nested value lists": "f:" + strings.Repeat("(a or ", 150) + "x" + strings.Repeat(")", 150),
		"nested braces":      strings.Repeat("f:{ ", 20_000) + "a:b",
		"long or chain":      strings.Repeat("f:x or ", 20_000) + "f:y",
		"long value list":    "f:(" + strings.Repeat("x or ", 20_000) + "y)",
		"not chain":          strings.Repeat("not (", 150) + "a:b" + strings.Repeat(")", 150),
		"spaces":             "f:x" + strings.Repeat(" ", 100_000) + "y",
		"keyword-ish":        "f:" + strings.Repeat(" o", 50_000),
		"many stars":         "f:" + strings.Repeat("*a", 5_000) + "b",
		"long literal":       "f:" + long,
		"escapes":            "f:" + strings.Repeat(`\u0041\*\or `, 10_000),
		"quotes":             `f:"` + strings.Repeat(`\"`, 50_000),
	}
	doc := ecs.Doc{"f": strings.Repeat("a", 1000), "g": []any{long, map[string]any{"h": long}}}
	for name, q := range cases {
		start := time.Now()
		parsed, err := Parse(q)
		if err == nil {
			parsed.Match(doc)
			parsed.Explain(doc)
			parsed.KQL()
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: %v", name, d)
		}
	}
}

func TestGlob(t *testing.T) {
	cases := []struct {
		segs []string
		s    string
		want bool
	}{
		{[]string{"", ""}, "", true},
		{[]string{"a", ""}, "a", true},
		{[]string{"", "a"}, "ba", true},
		{[]string{"ab", "ba"}, "aba", false}, // prefix and suffix may not overlap
		{[]string{"ab", "ba"}, "abba", true},
		{[]string{"a", "b", "c"}, "abbc", true},
		{[]string{"a", "b", "c"}, "acbc", true},
		{[]string{"a", "b", "c"}, "acb", false},
		{[]string{"", "x", "x", ""}, "x", false},
		{[]string{"", "x", "x", ""}, "xx", true},
		{[]string{"/run/", ""}, "/run/\n", true},
	}
	for _, c := range cases {
		g := newGlob(c.segs)
		if got := g.match(c.s); got != c.want {
			t.Errorf("glob %q on %q = %v", c.segs, c.s, got)
		}
	}
	// worst case: many short segments against a long near-miss
	segs := append([]string{""}, strings.Split(strings.Repeat("a", 2000), "")...)
	segs = append(segs, "b")
	g := newGlob(segs)
	start := time.Now()
	if g.match(strings.Repeat("a", 100_000)) {
		t.Error("matched")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("glob took %v", d)
	}
}
