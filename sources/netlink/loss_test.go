package netlink

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	libaudit "github.com/elastic/go-libaudit/v2"
)

// replay is a NetlinkReceiver that hands out recorded kernel datagrams,
// then behaves like an idle socket (EAGAIN after a short wait).
type replay struct {
	mu    sync.Mutex
	grams [][]byte
}

func (r *replay) Receive(_ bool, p libaudit.NetlinkParser) ([]syscall.NetlinkMessage, error) {
	r.mu.Lock()
	if len(r.grams) == 0 {
		r.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		return nil, syscall.EAGAIN
	}
	g := r.grams[0]
	r.grams = r.grams[1:]
	r.mu.Unlock()
	return p(g)
}

func datagram(typ uint16, data string) []byte {
	b := make([]byte, syscall.NLMSG_HDRLEN+len(data))
	*(*syscall.NlMsghdr)(unsafe.Pointer(&b[0])) = syscall.NlMsghdr{Len: uint32(len(b)), Type: typ}
	copy(b[syscall.NLMSG_HDRLEN:], data)
	return b
}

// upload returns the kernel records of one sftp-server file creation
// (SPEC §3's real capture), as netlink delivers them.
func upload(serial int, path string) [][]byte {
	h := fmt.Sprintf("audit(1795661111.044:%d): ", serial)
	return [][]byte{
		datagram(1300, h+`arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55be209674e0 a2=41 a3=1a4 items=2 ppid=7845 pid=7846 auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=(none) ses=2 comm="sftp-server" exe="/usr/lib/openssh/sftp-server" key="xferhunt"`),
		datagram(1307, h+`cwd="/home/victim"`),
		datagram(1302, h+`item=0 name="/tmp/" inode=246947 dev=fe:00 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0`),
		datagram(1302, h+`item=1 name="`+path+`" inode=9978498 dev=fe:00 mode=0100644 ouid=1001 ogid=1001 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0`),
		datagram(1327, h+`proctitle=62617368002D63002F7573722F6C69622F6F70656E7373682F736674702D736572766572`),
		datagram(1320, h),
	}
}

func TestLossCountedAndFlagged(t *testing.T) {
	var grams [][]byte
	grams = append(grams, upload(100, "/tmp/before-gap")...)
	grams = append(grams, upload(102, "/tmp/after-gap")...) // serial 101 never arrives
	grams = append(grams, upload(103, "/tmp/next")...)
	rp := &replay{grams: grams}
	lines := &lineLog{}
	s := newTestSource(Unicast, nil, lines)
	var kernelLost atomic.Uint32
	kernelLost.Store(7)
	c := &collector{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.read(ctx, rp, func() (uint32, error) { return kernelLost.Load(), nil }, 7, c.emit)
	}()
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, ok := c.path("/tmp/next")
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("events not delivered")
		}
		time.Sleep(10 * time.Millisecond)
	}
	kernelLost.Store(12) // the kernel reports 5 more lost records
	for s.Health().Lost != 5 {
		if time.Now().After(deadline) {
			t.Fatalf("kernel lost delta not counted: %+v", s.Health())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h := s.Health()
	if h.Gaps != 1 || h.Records != 18 || h.Events != 3 {
		t.Errorf("health %+v", h)
	}
	for p, flagged := range map[string]bool{"/tmp/before-gap": false, "/tmp/after-gap": true, "/tmp/next": true} {
		e, _ := c.path(p)
		if got := e.Doc.Get("xferhunt.loss") == true; got != flagged {
			t.Errorf("%s: loss flag %v, want %v", p, got, flagged)
		}
	}
}

// drain replays datagrams then cancels the reader's context.
type drain struct {
	grams [][]byte
	done  func()
}

func (d *drain) Receive(_ bool, p libaudit.NetlinkParser) ([]syscall.NetlinkMessage, error) {
	if len(d.grams) == 0 {
		d.done()
		return nil, syscall.EAGAIN
	}
	g := d.grams[0]
	d.grams = d.grams[1:]
	return p(g)
}
