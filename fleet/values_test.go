package fleet

import (
	"encoding/json"
	"testing"

	"github.com/xferhunt/xferhunt/ecs"
)

// TestFieldsValueShapes pins how each value shape is walked and typed:
// arrays give their elements the array's path, []string included; an
// object inside an array is walked; numbers are long or double by value
// (float64) or literal (json.Number); Go integers are keywords.
func TestFieldsValueShapes(t *testing.T) {
	d := ecs.Doc{
		"x": ecs.Doc{
			"b":    true,
			"i":    3.0,
			"f":    1.5,
			"big":  float64(1 << 53),
			"ni":   json.Number("7"),
			"nf":   json.Number("7.0"),
			"ne":   json.Number("1e3"),
			"tags": []string{"a", "b"},
			"arr":  []any{map[string]any{"k": 1.0}, 2.0},
			"null": nil,
			"go":   42,
			"mix":  []any{1.0, 2.5},
		},
	}
	want := map[string]string{
		"x.b": Boolean, "x.i": Long, "x.f": Double, "x.big": Double,
		"x.ni": Long, "x.nf": Double, "x.ne": Double, "x.tags": Keyword,
		"x.arr.k": Long, "x.arr": Long, "x.go": Keyword, "x.mix": Double,
	}
	got := Fields([]ecs.Doc{d})
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: %q, want %q", p, got[p], w)
		}
	}
	if _, ok := got["x.null"]; ok {
		t.Error("null got a field")
	}
	if len(got) != len(want) {
		t.Errorf("fields %v, want %d", got, len(want))
	}
}

// TestAcceptsValueShapes pins which values Elasticsearch takes into a
// field of each type, as the template test relies on.
func TestAcceptsValueShapes(t *testing.T) {
	for _, c := range []struct {
		typ  string
		v    any
		want bool
	}{
		{Long, 3.0, true}, {Long, 3.5, false}, {Double, 3.5, true},
		{Long, json.Number("3.5"), true}, {Long, 3, false}, {Long, "3", false},
		{Date, "2026-03-01T10:00:00Z", true}, {Date, "soon", false},
		{Date, 1.0, true}, {Date, json.Number("1"), false},
		{Boolean, true, true}, {Boolean, "false", true}, {Boolean, 1.0, false},
		{Keyword, []any{}, true},
		{IP, "127.0.0.1", true}, {IP, "x", false},
	} {
		if got := Accepts(c.typ, c.v); got != c.want {
			t.Errorf("Accepts(%s, %#v) = %v, want %v", c.typ, c.v, got, c.want)
		}
	}
}
