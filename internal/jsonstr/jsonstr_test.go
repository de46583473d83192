package jsonstr

import (
	"encoding/json"
	"testing"
)

// TestLikeEncodingJSON: every string decodes to what json.Unmarshal gives,
// and what it refuses is refused.
func TestLikeEncodingJSON(t *testing.T) {
	for _, lit := range []string{
		`"plain"`, `""`, `"q\"b\\s\/n\nr\rt\tb\bf\f"`, `"\u00e9\u20ac\ud83d\ude00"`,
		`"lone \ud800 high"`, `"\udc00 low first"`, `"\ud83d\u0041"`, `"\ud83d"`, `"日本\u8a9e"`,
		"\"bad \xff utf8 \xc3\"", "\"cut \xe2\x82\"",
		`"\x"`, `"\u12"`, `"\u12g4"`, `"end\`, `"unterminated`, "\"ctl \x01\"", `"\'"`,
	} {
		var want string
		wantErr := json.Unmarshal([]byte(lit), &want) != nil
		got, next, err := AppendUnquoted([]byte("prefix:"), []byte(lit), 1, 1)
		if wantErr {
			if err == nil {
				t.Errorf("%q: accepted, encoding/json refuses it", lit)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", lit, err)
			continue
		}
		if string(got) != "prefix:"+want || next != len(lit) {
			t.Errorf("%q: got %q (end %d), want %q (end %d)", lit, got, next, "prefix:"+want, len(lit))
		}
	}
}
