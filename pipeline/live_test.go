package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/sources/bridge"
)

// uploads is an auditd log of n sftp-server creations of distinct files,
// serials from first, logged at sec.
func uploads(first, n int, sec int64) []byte {
	var b strings.Builder
	for i := first; i < first+n; i++ {
		h := fmt.Sprintf("msg=audit(%d.%03d:%d):", sec, i%1000, i)
		fmt.Fprintf(&b, "type=SYSCALL %s arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55be209674e0 a2=41 a3=1a4 items=2 ppid=7845 pid=7846 auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=(none) ses=2 comm=\"sftp-server\" exe=\"/usr/lib/openssh/sftp-server\" key=\"xferhunt\"\n", h)
		fmt.Fprintf(&b, "type=CWD %s cwd=\"/home/victim\"\n", h)
		fmt.Fprintf(&b, "type=PATH %s item=0 name=\"/srv/drop/\" inode=246947 dev=fe:00 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n", h)
		fmt.Fprintf(&b, "type=PATH %s item=1 name=\"/srv/drop/f%06d.bin\" inode=%d dev=fe:00 mode=0100644 ouid=1001 ogid=1001 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n", h, i, 9978000+i)
		fmt.Fprintf(&b, "type=PROCTITLE %s proctitle=62617368002D63002F7573722F6C69622F6F70656E7373682F736674702D736572766572\n", h)
	}
	return []byte(b.String())
}

// TestFileSourceWaitsForDetection: the bridge dropped a file source's
// events when its buffer was full, though the file could simply wait:
// backfill and a live burst through the live pipeline lost most of what
// scan keeps (issue 9 item 16). A file source now waits for detection:
// every upload of the backfill and of a burst appended live reaches the
// engine and matches (one new term per file, so each costs an alert
// document), and nothing is dropped. The bridge is made small so a few
// thousand events overflow it many times.
func TestFileSourceWaitsForDetection(t *testing.T) {
	const backfill, burst = 3000, 3000
	log := filepath.Join(t.TempDir(), "audit.log")
	sec := time.Now().Add(-time.Minute).Unix()
	if err := os.WriteFile(log, uploads(0, backfill, sec), 0o600); err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	l := testLive(t, Config{Rules: []string{"seed"}, Ephemeral: true, HostID: "h1", Sources: []string{"auditlog:" + log},
		NewTermsFields: []string{"file.path", "host.id"}, Stderr: &errb})
	s := l.s
	l.bridge = bridge.New(bridge.Options{Capacity: 256})
	var alerts atomic.Int64 // the seed rule's max_signals caps them; counted to keep the sink honest
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.run(ctx, func(detect.Alert) { alerts.Add(1) }) }()
	select {
	case <-l.ready():
	case <-time.After(30 * time.Second):
		t.Fatal("backfill not done")
	}
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(uploads(backfill, burst, time.Now().Unix())); err != nil {
		t.Fatal(err)
	}
	f.Close()
	const want = backfill + burst
	settled := func() bool {
		return s.engine.Stats().Events+l.health()[0].Dropped >= want
	}
	deadline := time.Now().Add(60 * time.Second)
	for !settled() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h, es := l.health()[0], s.engine.Stats()
	if es.Events != want || es.Matches != want || h.Dropped != 0 {
		t.Fatalf("engine saw %d events, %d matches; %d dropped: want %d, %d, none", es.Events, es.Matches, h.Dropped, want, want)
	}
	if h.Events != want || h.Lost != 0 || h.Gaps != 0 || h.Malformed != 0 || alerts.Load() == 0 {
		t.Errorf("health %+v, %d alerts", h, alerts.Load())
	}
}
