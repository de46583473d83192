package auditd

import (
	"bytes"
	"os"
	"testing"
)

func BenchmarkZZSysParse(b *testing.B) {
	data, _ := os.ReadFile("../../testdata/capture/raw.log")
	var bodies [][]byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		h, ok := parseHeader(l)
		if ok && string(h.typ) == "SYSCALL" {
			bodies = append(bodies, h.body)
		}
	}
	var s sysRec
	b.ResetTimer()
	for b.Loop() {
		for _, bd := range bodies {
			s.parse(bd)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bodies)), "ns/rec")
}

func BenchmarkZZHeader(b *testing.B) {
	data, _ := os.ReadFile("../../testdata/capture/raw.log")
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	b.ResetTimer()
	for b.Loop() {
		for _, l := range lines {
			h, _ := parseHeader(l)
			_ = kindOf(h.typ)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/line")
}
