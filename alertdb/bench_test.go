package alertdb

import "testing"

// BenchmarkBuildRow is the Feeder-side cost of one alert: column
// extraction, sanitizing and compression.
func BenchmarkBuildRow(b *testing.B) {
	a := mkAlert(table[2])
	b.ReportAllocs()
	for b.Loop() {
		_ = NewRow(a)
	}
}
