//go:build scanprofile

package auditd_test

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/xferhunt/xferhunt/pipeline"
)

// BenchmarkScanCommand (build tag scanprofile, so that a broken pipeline
// package never breaks this package's tests) runs `xferhunt scan --ephemeral` in process, the
// whole path (engine and JSON output included), on the file named by
// XFERHUNT_BENCH_LOG, so `go test -cpuprofile` profiles what users run.
func BenchmarkScanCommand(b *testing.B) {
	path := os.Getenv("XFERHUNT_BENCH_LOG")
	if path == "" {
		b.Skip("XFERHUNT_BENCH_LOG names the log to scan (go run ./scripts/mklog)")
	}
	var errb bytes.Buffer
	for b.Loop() {
		errb.Reset()
		cfg := pipeline.Config{Rules: []string{"seed"}, Ephemeral: true, HostID: "h", Stdout: io.Discard, Stderr: &errb}
		if err := pipeline.Scan(cfg, []string{path}); err != nil {
			b.Fatal(err)
		}
	}
	b.Log(errb.String())
}
