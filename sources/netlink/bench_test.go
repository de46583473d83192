package netlink

import (
	"context"
	"fmt"
	"testing"

	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditd"
)

// BenchmarkReadPath measures the records/s the netlink reader sustains
// from datagram to normalized event: auparse header parse, reassembly,
// line rebuild and sources/auditd normalization.
func BenchmarkReadPath(b *testing.B) {
	const events = 2000
	var grams [][]byte
	for i := range events {
		grams = append(grams, upload(1000+i, fmt.Sprintf("/tmp/bench-%d", i))...)
	}
	s := New(Options{NewParser: func(emit func(sources.Event)) LineParser {
		return auditd.NewParser(auditd.Options{HostID: "h", Emit: emit})
	}})
	b.ReportAllocs()
	for b.Loop() {
		rp := &drain{grams: grams}
		ctx, cancel := context.WithCancel(context.Background())
		rp.done = cancel
		n := 0
		if err := s.read(ctx, rp, func(evs []sources.Event) { n += len(evs) }); err != nil {
			b.Fatal(err)
		}
		if n != events {
			b.Fatalf("%d events", n)
		}
	}
	b.ReportMetric(float64(len(grams)*b.N)/b.Elapsed().Seconds(), "records/s")
}
