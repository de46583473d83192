package auditd

import (
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/sources"
)

func BenchmarkSpecEvent(b *testing.B) {
	lines := strings.Split(specExample, "\n")
	p := NewParser(Options{HostID: "h", Emit: func(sources.Event) {}})
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			p.Line([]byte(l))
		}
		p.Flush()
	}
}
