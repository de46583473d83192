package ecsjson

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditd"
)

// sameAsUnmarshal checks that the parser accepts exactly what
// json.Unmarshal into a map accepts as a document, and decodes it to the
// same values.
func sameAsUnmarshal(t *testing.T, p *parser, in []byte) {
	t.Helper()
	var want map[string]any
	werr := json.Unmarshal(in, &want)
	wantOK := werr == nil && want != nil
	got, gerr := p.object(in)
	if wantOK != (gerr == nil) {
		t.Fatalf("input %.200q: Unmarshal err %v (map nil %v), parser err %v", in, werr, want == nil, gerr)
	}
	if wantOK && !reflect.DeepEqual(got, want) {
		t.Fatalf("input %.200q:\n parser    %#v\n Unmarshal %#v", in, got, want)
	}
}

// parseCases are the inputs where a hand-written decoder most easily
// parts from encoding/json.
var parseCases = []string{
	`{}`, ` {"a":1} `, "\t{\"a\":1}\r\n", `{"a":1}x`, `{"a":1}{}`, `null`, `[]`, `[{}]`, `"s"`, `1`, `true`, ``, ` `,
	`{"a":1,"a":2}`, `{"a":{"b":1},"a":{"c":2}}`, `{"process.name":"scp","process":{"name":"sftp"}}`,
	`{"a":[]}`, `{"a":{}}`, `{"a":[[],[{}],null]}`, `{"a":null}`, `{"a":true,"b":false}`,
	`{"a":tru}`, `{"a":nul}`, `{"a":falsey}`, `{"a":True}`,
	`{"n":0}`, `{"n":-0}`, `{"n":255}`, `{"n":256}`, `{"n":007}`, `{"n":01}`, `{"n":-}`, `{"n":1.}`, `{"n":.5}`,
	`{"n":1e}`, `{"n":1e+}`, `{"n":1E-5}`, `{"n":1e400}`, `{"n":-1e400}`, `{"n":1e-400}`, `{"n":12345678901234567890123}`,
	`{"n":0.1}`, `{"n":-12.5e3}`, `{"n":+1}`, `{"n":0x10}`, `{"n":NaN}`, `{"n":Infinity}`, `{"n":1.5E+2}`,
	`{"s":"\u00e9\u4e2d"}`, `{"s":"\ud83d\ude00"}`, `{"s":"\ud83d"}`, `{"s":"\ude00"}`, `{"s":"\ud83d\u0041"}`,
	`{"s":"\ud83d\ud83d\ude00"}`, `{"s":"\ud83dx"}`, `{"s":"\u12"}`, `{"s":"\u12zz"}`, `{"s":"\x"}`, `{"s":"\'"}`,
	`{"s":"\"\\\/\b\f\n\r\t"}`, "{\"s\":\"a\x01b\"}", "{\"s\":\"a\x7fb\"}", "{\"s\":\"tab\there\"}",
	"{\"s\":\"\xff\xfe\"}", "{\"s\":\"a\xc3\"}", "{\"s\":\"\xed\xa0\x80\"}", "{\"s\":\"\xef\xbf\xbd\"}",
	"{\"\xff\":1}", `{"\u0000":1}`, `{"s":"\u0000"}`, "{\"s\":\"\xe2\x80\xaeevil\"}", `{"s":"a\u005c"}`,
	`{"a":1,}`, `{,"a":1}`, `{"a" 1}`, `{"a":1 "b":2}`, `{a:1}`, `{'a':1}`, `{"a":[1,]}`, `{"a":[,1]}`, `{"a":[1 2]}`,
	`{"a":"unterminated}`, `{"a":1`, `{"a":`, `{"a"`, `{"`, `{`, `}`, `{"a":[1,2}`, `{"a":{"b":1]}`,
	"{\"a\":1}\v", "\u00a0{\"a\":1}", "{\"a\":1}\x00",
	`{"":""}`, `{"":{"":[""]}}`, `{"k":"` + strings.Repeat("x", 100) + `"}`, `{"` + strings.Repeat("k", 60) + `":1}`,
	`{"a":"file","b":"file","c":["file","linux"],"file":"file"}`,
	docA, docB,
}

// deepCases sit at encoding/json's nesting limit, on either side.
var deepCases = []string{
	`{"a":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
	`{"a":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	`{"a":` + strings.Repeat(`{"a":`, 9998) + `1` + strings.Repeat("}", 9998) + `}`,
	`{"a":` + strings.Repeat(`{"a":`, 9999) + `1` + strings.Repeat("}", 9999) + `}`,
}

func TestParseLikeUnmarshal(t *testing.T) {
	p := newParser()
	for _, c := range append(parseCases, deepCases...) {
		sameAsUnmarshal(t, p, []byte(c))
	}
	// The same parser again (a warm cache) and every case twice in a row.
	for _, c := range parseCases {
		sameAsUnmarshal(t, p, []byte(c))
		sameAsUnmarshal(t, p, []byte(c))
	}
}

// realDocuments calls fn with the ECS documents xferhunt builds from the
// committed capture, then, when the samples are on this machine, with
// every JSON sample whole, line by line and compacted; it skips the test
// after the capture when they are not.
func realDocuments(t *testing.T, fn func([]byte)) {
	t.Helper()
	f, err := os.Open("../../testdata/capture/raw.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	_, err = auditd.ScanRecorded(f, sources.ScanOptions{HostID: "h", Story: true, Workers: 1, Emit: func(ev sources.Event) {
		b, err := ecs.AppendJSON(nil, ev.Doc)
		if err != nil {
			t.Fatal(err)
		}
		fn(b)
		n++
	}})
	if err != nil || n < 50 {
		t.Fatalf("capture: %v, %d documents", err, n)
	}
	if _, err := os.Stat(samplesDir); err != nil {
		t.Skipf("samples absent: %v", err)
	}
	for _, path := range jsonSamples(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		fn(b)
		for _, line := range bytes.Split(b, []byte{'\n'}) {
			fn(line)
		}
		var c bytes.Buffer
		if json.Compact(&c, b) == nil {
			fn(c.Bytes())
		}
	}
}

// TestParseLikeUnmarshalOnRealDocuments compares the parser with
// Unmarshal on the capture's documents and the samples.
func TestParseLikeUnmarshalOnRealDocuments(t *testing.T) {
	p := newParser()
	realDocuments(t, func(b []byte) { sameAsUnmarshal(t, p, b) })
}

// FuzzParseLikeUnmarshal is the differential fuzz target: on any input the
// parser and json.Unmarshal agree on whether it is a document and on its
// value.
//
//	go test -run '^$' -fuzz FuzzParseLikeUnmarshal -fuzztime 60s ./sources/ecsjson/
func FuzzParseLikeUnmarshal(f *testing.F) {
	for _, c := range parseCases {
		f.Add([]byte(c))
	}
	p := newParser()
	f.Fuzz(func(t *testing.T, in []byte) {
		sameAsUnmarshal(t, p, in)
	})
}
