package ecs

import (
	"encoding/json"
	"testing"
)

func TestKind(t *testing.T) {
	cases := []struct {
		v    any
		want ValueKind
	}{
		{nil, KindNull},
		{"x", KindString},
		{true, KindBool},
		{1.5, KindNumber},
		{int64(3), KindNumber},
		{json.Number("7"), KindNumber},
		{map[string]any{}, KindObject},
		{Doc{}, KindObject},
		{[]any{1.0}, KindArray},
		{[]string{"a"}, KindArray},
		{[]map[string]any{{}}, KindObjects},
		{[]Doc{{}}, KindObjects},
		{struct{}{}, KindOther},
		{uint8(1), KindOther}, // Float does not read it either
	}
	for _, c := range cases {
		if got := Kind(c.v); got != c.want {
			t.Errorf("Kind(%#v) = %v, want %v", c.v, got, c.want)
		}
		// A number is exactly what Float reads.
		if _, ok := Float(c.v); ok != (c.want == KindNumber) {
			t.Errorf("Float(%#v) ok = %v, Kind %v", c.v, ok, c.want)
		}
	}
	if KindBool.String() != "boolean" || KindObjects.String() != "array of objects" {
		t.Errorf("names: %v %v", KindBool, KindObjects)
	}
}

func TestLenElem(t *testing.T) {
	a := []any{"a", 2.0}
	s := []string{"x", "y", "z"}
	if Len(a) != 2 || Len(s) != 3 || Len("abc") != 0 || Len(map[string]any{"k": 1}) != 0 {
		t.Fatalf("Len: %d %d", Len(a), Len(s))
	}
	if Elem(a, 1) != 2.0 || Elem(s, 2) != "z" || Elem(s, 3) != nil || Elem(a, -1) != nil || Elem("x", 0) != nil {
		t.Fatal("Elem")
	}
	if n := testing.AllocsPerRun(100, func() {
		for i := 0; i < Len(a); i++ {
			_ = Kind(Elem(a, i))
		}
	}); n != 0 {
		t.Errorf("walking []any allocates %v", n)
	}
}

func TestNumberShapes(t *testing.T) {
	if !IsDecoded(1.0) || IsDecoded(json.Number("1")) || IsDecoded(1) {
		t.Error("IsDecoded")
	}
	for _, c := range []struct {
		v            any
		integral, ok bool
	}{
		{1.0, true, true}, {1.5, false, true}, {float64(1 << 53), false, true},
		{json.Number("10"), true, true}, {json.Number("1.0"), false, true}, {json.Number("1e3"), false, true},
		{3, false, false}, {"1", false, false},
	} {
		if i, ok := Integral(c.v); i != c.integral || ok != c.ok {
			t.Errorf("Integral(%#v) = %v %v", c.v, i, ok)
		}
	}
	if l, ok := NumberLiteral(json.Number("1.50")); !ok || l != "1.50" {
		t.Error("NumberLiteral")
	}
	if n, ok := Int(int64(1<<62 + 1)); !ok || n != 1<<62+1 {
		t.Errorf("Int of an int64 = %d %v", n, ok)
	}
	if _, ok := Int(3.0); ok {
		t.Error("Int of a float64")
	}
	if _, ok := NumberLiteral(1.5); ok {
		t.Error("NumberLiteral of a float64")
	}
}
