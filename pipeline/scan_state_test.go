package pipeline

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// failingWriter fails every write, as a full disk under a redirected
// stdout does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestScanWriteFailureKeepsHistory: a scan whose alerts could not be
// written saves none of its input's term history in --state, so running it
// again (the disk freed) raises those alerts; saved, the history made every
// re-run judge them not new, and they were never written anywhere.
func TestScanWriteFailureKeepsHistory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	cfg := Config{Rules: []string{"seed"}, StateDir: dir, HistoryWindow: DemoWindow, HostID: "capture-host", Stdout: failingWriter{}, Stderr: io.Discard}
	err := Scan(cfg, []string{"../testdata/capture/raw.log"})
	if err == nil || !strings.Contains(err.Error(), "write alerts") {
		t.Fatalf("Scan into a failing stdout = %v, want the write error", err)
	}
	var out bytes.Buffer
	cfg.Stdout = &out
	if err := Scan(cfg, []string{"../testdata/capture/raw.log"}); err != nil {
		t.Fatal(err)
	}
	got, want := bytes.Count(out.Bytes(), []byte("\n")), bytes.Count(captureAlertsNDJSON(t), []byte("\n"))
	if got != want {
		t.Fatalf("the re-run raised %d alerts, the capture %d with a fresh history", got, want)
	}
}
