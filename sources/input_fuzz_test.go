package sources_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/sources"
	// The auditd scanners only: this package's sniff tests expect JSON to
	// be unknown here (FuzzScanDocuments fuzzes the JSON reader).
	"github.com/xferhunt/xferhunt/sources/catalog"
)

// FuzzInput feeds arbitrary bytes, mostly gzip framing (the seeds are
// gzip: whole, truncated, with trailing garbage, concatenated members),
// through the scan input as a file: it never panics, a refusal or a read
// error is one line, and whatever is reported was emitted.
// Seeds: testdata/fuzz/FuzzInput.
//
//	go test -run '^$' -fuzz '^FuzzInput$' -fuzztime 10s ./sources
func FuzzInput(f *testing.F) {
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write([]byte("type=SYSCALL msg=audit(1795661111.044:1): arch=c000003e syscall=257 success=yes exit=3 items=1 ppid=1 pid=2 comm=\"scp\" exe=\"/usr/bin/scp\"\n"))
	w.Close()
	f.Add(z.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		path := filepath.Join(t.TempDir(), "in.log")
		if err := os.WriteFile(path, in, 0o600); err != nil {
			t.Fatal(err)
		}
		in1, err := catalog.Formats().OpenInput(path)
		if err != nil {
			if strings.ContainsRune(err.Error(), '\n') {
				t.Fatalf("refusal is not one line: %q", err)
			}
			return
		}
		defer in1.Close()
		var emitted uint64
		st, err := in1.Scan(sources.ScanOptions{HostID: "h", Emit: func(sources.Event) { emitted++ }})
		if err != nil && strings.ContainsRune(err.Error(), '\n') {
			t.Fatalf("read error is not one line: %q", err)
		}
		if st.Events != emitted {
			t.Fatalf("stats say %d events, %d emitted", st.Events, emitted)
		}
	})
}
