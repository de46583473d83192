package netlink

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParseKmsg(t *testing.T) {
	for _, tc := range []struct {
		rec  string
		want kmsgLine
	}{
		{"4,1234,560561457,-;kauditd_printk_skb: 492238 callbacks suppressed\n", kmsgLine{suppressed: 492238}},
		{"5,1235,560561466,-;audit: type=1300 audit(1796496073.506:245702): arch=c000003e syscall=257\n",
			kmsgLine{typ: 1300, serial: 245702, at: time.Unix(1796496073, 506*int64(time.Millisecond))}},
		{"4,1238,2,-;audit: audit_backlog=16385 > audit_backlog_limit=16384\n", kmsgLine{}},
		{"6,1240,4,-;eth0: link up\n", kmsgLine{}},
		{"garbage without a separator", kmsgLine{}},
		{"4,1,1,-;kauditd_printk_skb: x callbacks suppressed", kmsgLine{}},
		{"5,1,1,-;audit: type=1300 audit(17964960x3.506:1): x", kmsgLine{}},
	} {
		if got := parseKmsg([]byte(tc.rec)); got != tc.want {
			t.Errorf("%q: %+v, want %+v", tc.rec, got, tc.want)
		}
	}
}

// TestPrintedLogCounts feeds a kernel log through a file in place of
// /dev/kmsg (one record per read, as the device gives them).
func TestPrintedLogCounts(t *testing.T) {
	since := time.Unix(1796496068, 500*int64(time.Millisecond))
	recs := []string{
		// Before our window: not ours, to the millisecond.
		"5,1,1,-;audit: type=1300 audit(1796496068.499:10): arch=c000003e",
		"5,2,1,-;audit: type=1300 audit(1796496068.500:11): arch=c000003e",
		"5,3,1,-;audit: type=1302 audit(1796496068.500:11): item=0",
		"4,4,1,-;kauditd_printk_skb: 7 callbacks suppressed",
		// Our own configuration change and its syscall records.
		"5,5,1,-;audit: type=1305 audit(1796496069.000:12): op=set audit_pid=0",
		"5,6,1,-;audit: type=1300 audit(1796496069.000:12): syscall=44",
		"5,7,1,-;audit: type=1327 audit(1796496069.000:12): proctitle=78",
		"5,8,1,-;audit: type=1300 audit(1796496069.001:13): syscall=257",
	}
	p := &printedLog{since: since, buf: make([]byte, 8192)}
	dir := t.TempDir()
	var total, sup uint64
	var config bool
	for _, r := range recs {
		path := filepath.Join(dir, "rec")
		if err := os.WriteFile(path, []byte(r), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		p.f = f
		n, s, c := p.read()
		f.Close()
		total, sup, config = total+n, sup+s, config || c
	}
	if total != 3 || sup != 7 || !config {
		t.Errorf("counted %d printed, %d suppressed, config %v; want 3, 7, true", total, sup, config)
	}
}
