package tui

import (
	"encoding/json"
	"testing"
)

func BenchmarkZInflate(b *testing.B) {
	r := newRow(0, mkAlert(table[2]))
	for b.Loop() {
		_, _ = inflate(r.blob)
	}
}

func BenchmarkZUnmarshal(b *testing.B) {
	r := newRow(0, mkAlert(table[2]))
	js, _ := inflate(r.blob)
	for b.Loop() {
		var d map[string]any
		_ = json.Unmarshal(js, &d)
	}
}
