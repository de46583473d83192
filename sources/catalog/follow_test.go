package catalog

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/internal/testenv"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditd"
)

// scanPaths is what scan finds in a log: the file.path of every event.
func scanPaths(t *testing.T, log []byte) []string {
	t.Helper()
	var paths []string
	_, err := auditd.Scan(bytes.NewReader(log), auditd.Options{Workers: 1, Emit: func(ev sources.Event) {
		paths = append(paths, ev.Doc.Str("file.path"))
	}})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

func (c *collect) paths() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var p []string
	for _, e := range c.evs {
		p = append(p, e.Doc.Str("file.path"))
	}
	return p
}

// TestAuditlogWriterPausesInsideEvent: the live tailer flushed its decoder
// after 200 ms of quiet, so an upload's event whose records were written
// more than 200 ms apart, or whose CREATE record was written in two halves,
// lost its PATH records (they arrived as uncounted gaps) and the upload
// was missed, while scan of the same file found it (issue 9 item 14). The
// real capture is written to a followed log with a 600 ms pause inside the
// scp upload's event, once between two records and once inside a record:
// the live events must be scan's, with no gap or malformed line.
func TestAuditlogWriterPausesInsideEvent(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/capture/raw.log")
	if err != nil {
		t.Fatal(err)
	}
	want := scanPaths(t, raw)
	const upload = "/tmp/dropped-legacy.bin" // scp's upload, the second alert of the capture
	if !slices.Contains(want, upload) {
		t.Fatalf("scan of the capture finds no %s: %q", upload, want)
	}
	lines := strings.SplitAfter(string(raw), "\n")
	create := slices.IndexFunc(lines, func(l string) bool {
		return strings.HasPrefix(l, "type=PATH ") && strings.Contains(l, `name="`+upload+`"`)
	})
	for _, tc := range []struct {
		name string
		cut  int // where in the CREATE line the writer pauses
	}{{"between records", 0}, {"inside a record", 40}} {
		t.Run(tc.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "audit.log")
			if err := os.WriteFile(log, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			src, err := Parse("auditlog:"+log, Options{HostID: "hid"})
			if err != nil {
				t.Fatal(err)
			}
			c := &collect{}
			stop := run(t, src, c)
			f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			write := func(s string) {
				if _, err := f.WriteString(s); err != nil {
					t.Fatal(err)
				}
			}
			write(strings.Join(lines[:create], "") + lines[create][:tc.cut])
			time.Sleep(600 * time.Millisecond) // three idle flushes' worth
			write(lines[create][tc.cut:] + strings.Join(lines[create+1:], ""))
			testenv.WaitFor(t, func() bool { return slices.Contains(c.paths(), upload) }, 5*time.Second, "the paused upload's event")
			testenv.WaitFor(t, func() bool { return c.len() >= len(want) }, 5*time.Second, "every event scan finds")
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if got := c.paths(); !slices.Equal(got, want) {
				t.Errorf("live events differ from scan's:\n got %q\nwant %q", got, want)
			}
			if h := src.Health(); h.Gaps != 0 || h.Malformed != 0 {
				t.Errorf("health %+v: want no gap and no malformed line", h)
			}
		})
	}
}
