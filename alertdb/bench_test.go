package alertdb

import (
	"testing"

	"github.com/xferhunt/xferhunt/internal/sharedtest/alerts"
)

// BenchmarkBuildRow is the Feeder-side cost of one alert: column
// extraction, sanitizing and compression.
func BenchmarkBuildRow(b *testing.B) {
	a := alerts.Make(alerts.Table[2])
	b.ReportAllocs()
	for b.Loop() {
		_ = NewRow(a)
	}
}

// BenchmarkBuildRowCapture is BuildRow for a real alert: the seed rule's
// over the enriched capture, ~11.5 KB of JSON with the rule's guide.
func BenchmarkBuildRowCapture(b *testing.B) {
	a := captureAlerts(b, "enriched.log", []string{"file.path", "host.id"})[3]
	b.ReportAllocs()
	for b.Loop() {
		_ = NewRow(a)
	}
}

// BenchmarkDecodeCapture decodes that real alert's row, the cost of a
// drill-down or a decoding filter pass per alert.
func BenchmarkDecodeCapture(b *testing.B) {
	r := NewRow(captureAlerts(b, "enriched.log", []string{"file.path", "host.id"})[3])
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Doc()
	}
}
