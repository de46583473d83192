package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/internal/liveness"
	"github.com/xferhunt/xferhunt/sources"
)

// BenchmarkLiveDetectAlert measures the detection goroutine's cost per
// event that becomes an alert: engine, alert document and live enrichment
// of a real file and this very process.
func BenchmarkLiveDetectAlert(b *testing.B) {
	seed, err := os.ReadFile("../detect/rules/builtin/seed.toml")
	if err != nil {
		b.Fatal(err)
	}
	// Every event alerts: no max_signals cap, a new term per file.
	rule := filepath.Join(b.TempDir(), "uncapped.toml")
	os.WriteFile(rule, bytes.Replace(seed, []byte("[rule]\n"), []byte("[rule]\nmax_signals = 100000000\n"), 1), 0o600)
	var errb bytesSink
	s, err := newSetup(&Config{Rules: []string{rule}, Ephemeral: true, NewTermsFields: []string{"file.path", "host.id"}, Stderr: &errb})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// This host, as a live run sets it: the events (host.id h1) are live
	// here, so they are enriched (process identity included).
	s.here = liveness.Host{ID: "h1", Boot: liveness.BootID()}
	l := newLive(s, nil)
	dir := b.TempDir()
	paths := make([]string, 256)
	for i := range paths {
		paths[i] = filepath.Join(dir, fmt.Sprintf("f%d.bin", i))
		os.WriteFile(paths[i], []byte("payload"), 0o644)
	}
	n := 0
	sink := func(detect.Alert) { n++ }
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := creation("/usr/bin/scp", paths[i%len(paths)])
		ev.Set("file.path", fmt.Sprintf("%s#%d", paths[i%len(paths)], i))
		ev.Set("process.pid", os.Getpid())
		ev.Set("user.id", "0")
		l.detect([]sources.Event{{Doc: ev, Key: fmt.Sprint(i)}}, func(st stagedAlert) { l.finish(context.Background(), context.Background(), st, sink) })
	}
	if n != b.N {
		b.Fatalf("%d alerts for %d events", n, b.N)
	}
}

type bytesSink struct{}

func (bytesSink) Write(p []byte) (int, error) { return len(p), nil }
