package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/tui"
)

// TestViewAlertsCapped: view holds at most viewMaxAlerts alerts from all
// its files (a small gzip can expand to tens of millions of alerts of
// distinct uuids); the rest are counted and said, not held.
func TestViewAlertsCapped(t *testing.T) {
	saved := viewMaxAlerts
	viewMaxAlerts = 5
	defer func() { viewMaxAlerts = saved }()
	dir := t.TempDir()
	var paths []string
	for f := range 2 {
		var b strings.Builder
		for i := range 4 {
			fmt.Fprintf(&b, `{"kibana.alert.uuid":"u-%d-%d","@timestamp":"2026-11-26T01:00:00Z"}`+"\n", f, i)
		}
		p := filepath.Join(dir, fmt.Sprintf("alerts-%d.ndjson", f))
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	inputs, err := openInputs(paths)
	defer closeInputs(inputs)
	if err != nil {
		t.Fatal(err)
	}
	feed := tui.NewFeeder(0)
	hs := loadAlerts(context.Background(), inputs, feed)
	if n := feed.Len(); n != 5 {
		t.Errorf("view holds %d alerts, want the cap of 5", n)
	}
	if hs[0].Err != "" || hs[0].Events != 4 {
		t.Errorf("first file: %d alerts, %q", hs[0].Events, hs[0].Err)
	}
	if hs[1].Events != 1 || !strings.Contains(hs[1].Err, "3 alerts left out") {
		t.Errorf("second file: %d alerts, %q; want 1 and 3 left out", hs[1].Events, hs[1].Err)
	}
}
