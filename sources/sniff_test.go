package sources_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/xferhunt/xferhunt/internal/sharedtest"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/catalog"
)

func TestSniff(t *testing.T) {
	cases := []struct {
		name string
		head string
		want sources.Format
		err  error
	}{
		{"raw", "type=DAEMON_START msg=audit(1614671878.311:9694): op=start ver=3.0\n", sources.AuditdRaw, nil},
		{"raw after blank lines", "\n\r\n  \ntype=EOE msg=audit(1.2:3): \n", sources.AuditdRaw, nil},
		{"node prefix", "node=web1 type=SYSCALL msg=audit(1.2:3): arch=c000003e\n", sources.AuditdRaw, nil},
		{"enriched", "type=DAEMON_START msg=audit(1.2:3): op=start format=enriched\x1dAUID=\"unset\" UID=\"root\"\n", sources.AuditdEnriched, nil},
		{"enriched on a later line", "type=A msg=audit(1.2:3): x\ntype=B msg=audit(1.2:4): y\x1dUID=\"root\"\n", sources.AuditdEnriched, nil},
		{"truncated last line", "type=SYSCALL msg=audit(1.2:3): arch=c000003e sysc", sources.AuditdRaw, nil},
		{"json", `{"@timestamp":"2026-01-01T00:00:00Z"}` + "\n", sources.Unknown, sources.ErrUnknownFormat},
		{"prose", "hello world\nthis is not a log\n", sources.Unknown, sources.ErrUnknownFormat},
		{"type= without msg", "type=SYSCALL arch=c000003e\n", sources.Unknown, sources.ErrUnknownFormat},
		{"empty", "", sources.Unknown, sources.ErrUnknownFormat},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := sources.NewFormats(nil).Sniff([]byte(c.head)) // auditd alone: JSON has no sniffer here
			if got != c.want || !errors.Is(err, c.err) {
				t.Errorf("Sniff = %v, %v; want %v, %v", got, err, c.want, c.err)
			}
		})
	}
}

func TestSniffRealSamples(t *testing.T) {
	for dir, want := range map[string]sources.Format{
		sharedtest.Dir + "/samples/auditd-raw/real-hosts":      sources.AuditdRaw,
		sharedtest.Dir + "/samples/auditd-enriched/real-hosts": sources.AuditdEnriched,
	} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		if len(files) == 0 {
			t.Skipf("shared samples absent: %s", dir)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > sources.SniffHeadSize {
				b = b[:sources.SniffHeadSize]
			}
			if got, err := catalog.Formats().Sniff(b); got != want || err != nil {
				t.Errorf("%s: %v %v, want %v", filepath.Base(f), got, err, want)
			}
		}
	}
}

func TestFormatString(t *testing.T) {
	if sources.AuditdEnriched.String() != "auditd-enriched" || sources.Format(99).String() != "format(99)" {
		t.Errorf("names: %s %s", sources.AuditdEnriched, sources.Format(99))
	}
}
