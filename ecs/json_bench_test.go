package ecs

import (
	"bytes"
	"encoding/json"
	"testing"
)

// benchAlert is the largest alert the bundled capture produces (~11 KB,
// mostly the rule's description and investigation note), decoded into the
// Doc shape the pipeline encodes.
func benchAlert(b *testing.B) Doc {
	b.Helper()
	var best []byte
	for _, line := range scanAlerts(b) {
		if len(line) > len(best) {
			best = line
		}
	}
	var m map[string]any
	if err := json.Unmarshal(best, &m); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(best)))
	return Doc(m)
}

func BenchmarkAlertEncodingJSON(b *testing.B) {
	doc := benchAlert(b)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := enc.Encode(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAlertAppendJSON(b *testing.B) {
	doc := benchAlert(b)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendJSON(buf[:0], doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAlertAppendJSONParallel shows the string cache's lock under
// concurrent writers.
func BenchmarkAlertAppendJSONParallel(b *testing.B) {
	doc := benchAlert(b)
	b.ReportAllocs()
	b.ResetTimer() // RunParallel, unlike b.Loop, would time the binary build
	b.RunParallel(func(pb *testing.PB) {
		var buf []byte
		for pb.Next() {
			var err error
			if buf, err = AppendJSON(buf[:0], doc); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkEscapeLongString is the uncached cost of one long note: what the
// cache saves on every alert after the second.
func BenchmarkEscapeLongString(b *testing.B) {
	doc := benchAlert(b)
	var note string
	for _, path := range []string{"kibana.alert.rule.note", "kibana.alert.rule.description"} {
		if s := doc.Str(path); len(s) > len(note) {
			note = s
		}
	}
	if len(note) < cacheMinLen {
		b.Skipf("alert has no long rule text (longest %d bytes)", len(note))
	}
	b.SetBytes(int64(len(note)))
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf = appendEscaped(buf[:0], note)
	}
}
