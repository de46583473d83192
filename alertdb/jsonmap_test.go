package alertdb

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/xferhunt/xferhunt/internal/sharedtest/alerts"
)

func TestDecodeObjectMatchesEncodingJSON(t *testing.T) {
	docs := []string{
		`{}`,
		`{"a":[],"b":{},"c":null,"d":true,"e":false,"f":-1.5e3,"g":0,"h":[1,"x",{"y":[null]}]}`,
		`{"esc":"q\"uote\\back\nnl\u001b\u00e9\ud83d\ude00","plain":"日本語","sl":"a\/b"}`,
		` { "sp" : [ 1 , 2 ] , "k" : "v" } `,
		// what encoding/json replaces: lone surrogates, invalid UTF-8
		`{"lone":"a\ud800b","rev":"\udc00\ud800","half":"\ud83dx","key\u00e9":"v",` + "\"bad\":\"x\xffy\xc3\"}",
	}
	for _, a := range alerts.TableAlerts() {
		b, _ := json.Marshal(map[string]any(a.Doc))
		docs = append(docs, string(b))
	}
	for _, s := range docs {
		var want map[string]any
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("bad test doc %s: %v", s, err)
		}
		got, err := decodeObject([]byte(s))
		if err != nil {
			t.Fatalf("decodeObject(%s): %v", s, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decodeObject(%s)\n got %#v\nwant %#v", s, got, want)
		}
	}
}

func TestDecodeObjectRejectsBadInput(t *testing.T) {
	for _, s := range []string{``, `[]`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":tru}`, `{"a":"x`, `{"a":[1 2]}`, "{\"a\":\"\x01\"}", `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"x\`} {
		if _, err := decodeObject([]byte(s)); err == nil {
			t.Errorf("decodeObject(%q) accepted bad input", s)
		}
	}
}

func BenchmarkDecodeObject(b *testing.B) {
	js, _ := NewRow(alerts.Make(alerts.Table[2])).JSON()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeObject(js); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEncodingJSON(b *testing.B) {
	js, _ := NewRow(alerts.Make(alerts.Table[2])).JSON()
	b.ReportAllocs()
	for b.Loop() {
		var d map[string]any
		if err := json.Unmarshal(js, &d); err != nil {
			b.Fatal(err)
		}
	}
}
