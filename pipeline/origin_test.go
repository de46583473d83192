package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/internal/liveness"
)

// TestOriginStamps: the live pipeline stamps each alert with where its
// event came from, the one verdict every host action reads: a followed
// log's old lines are backfill, its new lines live, a new line of another
// host (auditd's node=) foreign; stdin is off-host whatever it holds.
func TestOriginStamps(t *testing.T) {
	log := filepath.Join(t.TempDir(), "audit.log")
	sec := time.Now().Add(-time.Minute).Unix()
	if err := os.WriteFile(log, uploads(0, 1, sec), 0o600); err != nil {
		t.Fatal(err)
	}
	stdin := uploads(10, 1, time.Now().Unix())
	var errb bytes.Buffer
	cfg := Config{Rules: []string{"seed"}, Ephemeral: true, HostID: "h1", Sources: []string{"auditlog:" + log, "-"},
		NewTermsFields: []string{"file.path", "host.id"}, Stderr: &errb, Stdin: bytes.NewReader(stdin)}
	l := testLive(t, cfg)
	s := l.s
	var mu sync.Mutex
	got := map[string]detect.Alert{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- l.run(ctx, func(a detect.Alert) {
			mu.Lock()
			got[filepath.Base(a.Doc.Str("file.path"))] = a
			mu.Unlock()
		})
	}()
	select {
	case <-l.ready():
	case <-time.After(30 * time.Second):
		t.Fatal("backfill not done")
	}
	now := time.Now().Unix()
	var foreign strings.Builder
	for _, line := range strings.SplitAfter(string(uploads(20, 1, now)), "\n") {
		if line != "" {
			foreign.WriteString("node=other-host " + line)
		}
	}
	appendTo(t, log, uploads(1, 1, now), []byte(foreign.String()))
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 4 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := map[string]liveness.Origin{"f000000.bin": liveness.Backfill, "f000001.bin": liveness.Live, "f000020.bin": liveness.Foreign, "f000010.bin": liveness.OffHost}
	for name, o := range want {
		a, ok := got[name]
		if !ok {
			t.Fatalf("no alert on %s (got %d alerts)", name, len(got))
		}
		st := liveness.Read(a.Doc)
		if st.Origin != o {
			t.Errorf("%s: origin %q, want %q", name, st.Origin, o)
		}
		why := s.here.Check(st)
		if (why == "") != (o == liveness.Live) {
			t.Errorf("%s: verdict %q", name, why)
		}
		if o != liveness.Live && a.Doc.Get("xferhunt.file.exists") != nil {
			t.Errorf("%s (%s) was enriched from this host", name, o)
		}
	}
}

// appendTo appends each chunk to the file at path, as a logging daemon
// would.
func appendTo(t *testing.T, path string, chunks ...[]byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, c := range chunks {
		if _, err := f.Write(c); err != nil {
			t.Fatal(err)
		}
	}
}
