package ecs

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDisplay(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{nil, ""},
		{"x", "x"},
		{4242.0, "4242"},
		{1e21, "1000000000000000000000"},
		{true, "true"},
		{[]any{"a", 1.5, nil}, "a, 1.5, "},
		{[]string{"a", "b"}, "a, b"},
		{int64(7), "7"},
		{json.Number("12"), "12"},
		{time.Duration(0), "0s"},
		{map[string]any{"k": "v"}, `{"k":"v"}`},
	} {
		if got := Display(tc.v); got != tc.want {
			t.Errorf("Display(%#v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestFloat(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want float64
		ok   bool
	}{
		{1.5, 1.5, true},
		{float32(2), 2, true},
		{31337, 31337, true},
		{int32(-1), -1, true},
		{int64(1 << 40), 1 << 40, true},
		{uint32(9), 9, true},
		{uint64(10), 10, true},
		{json.Number("2121"), 2121, true},
		{json.Number("x"), 0, false},
		{"12", 0, false},
		{true, 0, false},
		{nil, 0, false},
	} {
		got, ok := Float(tc.v)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Float(%#v) = %v, %v; want %v, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}
