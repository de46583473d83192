package alertdb

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/kql"
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

// captureRows are n rows of the real capture alerts, each copy with its
// own uuid and event.original, as rows of a long history differ.
func captureRows(b *testing.B, n int) []*Row {
	as := captureAlerts(b, "enriched.log", []string{"file.path", "host.id"})
	rows := make([]*Row, 0, n)
	for i := range n {
		d := as[i%len(as)].Doc.Clone()
		d["kibana.alert.uuid"] = fmt.Sprintf("copy-%d", i)
		if ev, ok := d["event"].(map[string]any); ok {
			ev["original"] = fmt.Sprintf("%v copy=%d", ev["original"], i)
		}
		rows = append(rows, NewRow(detect.Alert{Doc: d}))
	}
	return rows
}

// threadCPU is the CPU time of the calling thread, in ns.
func threadCPU() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkLeafwiseCapture is a filter pass handed a KQL query over 20k
// real-shaped rows, per kind of query; ns/row is the CPU of one worker
// per row.
func BenchmarkLeafwiseCapture(b *testing.B) {
	rows := captureRows(b, 20_000)
	for _, tc := range []struct{ name, q string }{
		{"freetext", "sftp-server"},
		{"wildcard-freetext", "*pwned*"},
		{"event.original", "event.original : *pwned*"},
		{"field", "process.name : scp"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			q := kql.MustParse(tc.q)
			lp := newLeafPlan(q)
			if lp == nil {
				b.Fatal("no leafwise plan")
			}
			keep := make([]bool, len(rows))
			// The thread's CPU time moves less than the wall time on a
			// shared machine.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c0 := threadCPU()
			b.ReportAllocs()
			for b.Loop() {
				e := newLeafEval(lp)
				for i, r := range rows {
					keep[i], _ = e.match(r)
				}
				e.release()
			}
			b.ReportMetric(float64(threadCPU()-c0)/float64(b.N*len(rows)), "cpu-ns/row")
		})
	}
}
