package netlink

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	libaudit "github.com/elastic/go-libaudit/v2"

	"github.com/xferhunt/xferhunt/sources"
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

// fakeKernel is the status the watcher polls: what the kernel would answer.
type fakeKernel struct {
	mu sync.Mutex
	st Settings
}

func (k *fakeKernel) set(f func(*Settings)) { k.mu.Lock(); f(&k.st); k.mu.Unlock() }
func (k *fakeKernel) status() (Settings, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.st, nil
}

// watchFake runs the status watcher against k until the returned stop.
func watchFake(s *Source, k *fakeKernel, w watchFor) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.watch(ctx, cancel, k.status, w) }()
	return ctx, func() { cancel(nil); <-done }
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(5 * time.Millisecond)
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
	s.opt.PollEvery = 10 * time.Millisecond
	k := &fakeKernel{st: Settings{Enabled: 1, PID: 4242, Lost: 1<<32 - 3}}
	_, stopWatch := watchFake(s, k, watchFor{lost: 1<<32 - 3, owner: 4242})
	defer stopWatch()
	c := &collector{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.read(ctx, rp, c.emit) }()
	waitFor(t, "events not delivered", func() bool { _, ok := c.path("/tmp/next"); return ok })
	k.set(func(st *Settings) { st.Lost = 2 }) // 5 more lost records, the counter wrapping
	waitFor(t, "kernel lost delta not counted", func() bool { return s.Health().Lost == 5 })
	// `auditctl --reset-lost` sets the counter back to 0: not a loss, and
	// what follows counts from there.
	k.set(func(st *Settings) { st.Lost = 0 })
	time.Sleep(30 * time.Millisecond)
	k.set(func(st *Settings) { st.Lost = 4 })
	waitFor(t, "delta after a reset not counted", func() bool { return s.Health().Lost == 9 })
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

// TestWatchFeedStops: the watcher ends the attachment, with the reason,
// exactly when the records stop flowing to us.
func TestWatchFeedStops(t *testing.T) {
	for _, tc := range []struct {
		name   string
		w      watchFor
		change func(*Settings)
		want   string // "" = keeps watching
	}{
		{"unicast owner replaced", watchFor{owner: 100}, func(st *Settings) { st.PID = 200 }, "gave way to 200"},
		{"multicast owner left", watchFor{owner: 100}, func(st *Settings) { st.PID = 0 }, "gave way to 0"},
		{"audit switched off", watchFor{owner: 100}, func(st *Settings) { st.Enabled = 0 }, "switched off"},
		{"daemon started beside ownerless multicast", watchFor{owner: 0}, func(st *Settings) { st.PID = uint32(os.Getpid()) }, "started"},
		{"dead pid appears: not a daemon", watchFor{owner: 0}, func(st *Settings) { st.PID = deadPID(t) }, ""},
		{"lost records only", watchFor{owner: 100}, func(st *Settings) { st.Lost = 9 }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSource(Auto, nil, &lineLog{})
			s.opt.PollEvery = 5 * time.Millisecond
			k := &fakeKernel{st: Settings{Enabled: 1, PID: tc.w.owner}}
			ctx, stop := watchFake(s, k, tc.w)
			defer stop()
			time.Sleep(30 * time.Millisecond)
			if ctx.Err() != nil {
				t.Fatalf("stopped before any change: %v", context.Cause(ctx))
			}
			k.set(tc.change)
			if tc.want == "" {
				time.Sleep(60 * time.Millisecond)
				if ctx.Err() != nil {
					t.Fatalf("stopped: %v", context.Cause(ctx))
				}
				return
			}
			waitFor(t, "watcher did not stop", func() bool { return ctx.Err() != nil })
			var fl *feedLost
			if cause := context.Cause(ctx); !errors.As(cause, &fl) || !strings.Contains(fl.Error(), tc.want) {
				t.Fatalf("cause %v, want feedLost mentioning %q", cause, tc.want)
			}
		})
	}
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) uint32 {
	t.Helper()
	c := exec.Command("/bin/true")
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	return uint32(c.Process.Pid)
}

// TestOverflowErrorClears: a receive buffer overflow is counted as a loss,
// shown, and cleared from Health once the source has been quiet.
func TestOverflowErrorClears(t *testing.T) {
	s := newTestSource(Unicast, nil, &lineLog{})
	s.opt.PollEvery = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	rp := &overflowOnce{}
	go func() { done <- s.read(ctx, rp, func([]sources.Event) {}) }()
	waitFor(t, "overflow not counted", func() bool { return s.Health().Overruns == 1 })
	if h := s.Health(); h.Lost != 1 || !strings.Contains(h.Err, "overflow") {
		t.Fatalf("after an overflow: %+v", h)
	}
	// Pretend it happened long ago; the watcher's next tick clears it.
	s.mu.Lock()
	s.errAt = time.Now().Add(-errQuiet - time.Second)
	s.mu.Unlock()
	k := &fakeKernel{st: Settings{Enabled: 1, PID: 1}}
	_, stopWatch := watchFake(s, k, watchFor{owner: 1})
	waitFor(t, "transient error not cleared", func() bool { return s.Health().Err == "" })
	stopWatch()
	cancel()
	<-done
	if h := s.Health(); h.Lost != 1 || h.Overruns != 1 {
		t.Errorf("counters changed by the clearing: %+v", h)
	}
}

// overflowOnce is a socket whose first read reports ENOBUFS, then idles.
type overflowOnce struct{ n atomic.Int32 }

func (o *overflowOnce) Receive(bool, libaudit.NetlinkParser) ([]syscall.NetlinkMessage, error) {
	if o.n.Add(1) == 1 {
		return nil, syscall.ENOBUFS
	}
	time.Sleep(5 * time.Millisecond)
	return nil, syscall.EAGAIN
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
