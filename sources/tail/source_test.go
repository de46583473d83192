package tail

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditd"
)

// lineDecoder records the lines a ReaderSource hands it.
type lineDecoder struct {
	mu    sync.Mutex
	lines []string
}

func (d *lineDecoder) Line(b []byte) {
	d.mu.Lock()
	d.lines = append(d.lines, string(b))
	d.mu.Unlock()
}

func (d *lineDecoder) Flush() {}

// endless reads as an endless run of 'A' without a newline.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'A'
	}
	return len(p), nil
}

// TestReaderSourceCapsLines: `--source -` kept a line without a newline
// in memory however long (issue 9 item 7). A line over DefaultMaxLine is
// counted as malformed and skipped, the lines around it still arrive, and
// reading 256 MiB of it allocates a bounded amount.
func TestReaderSourceCapsLines(t *testing.T) {
	const long = 256 << 20
	in := io.MultiReader(strings.NewReader("before\n"), io.LimitReader(endless{}, long), strings.NewReader("\nafter\n"))
	dec := &lineDecoder{}
	src := NewReaderSource("stdin", in, func(func(sources.Event)) Decoder { return dec })
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := src.Run(context.Background(), func([]sources.Event) {}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got := strings.Join(dec.lines, "|"); got != "before|after" {
		sizes := make([]int, len(dec.lines))
		for i, l := range dec.lines {
			sizes[i] = len(l)
		}
		t.Fatalf("%d lines of %v bytes, want before|after", len(sizes), sizes)
	}
	if h := src.Health(); h.Malformed != 1 {
		t.Fatalf("malformed %d, want the one over-long line", h.Malformed)
	}
	// Growing the held line up to the cap costs about twice the cap;
	// without it, reading the line cost more than the line.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*DefaultMaxLine {
		t.Fatalf("allocated %d MiB reading a %d MiB line", alloc>>20, long>>20)
	}
}

// blindParser is the auditd parser without its Awaiting: a decoder that
// cannot tell where its events end, so the tailer falls back on its line
// hold.
type blindParser struct{ p *auditd.Parser }

func (b blindParser) Line(l []byte)        { b.p.Line(l) }
func (b blindParser) Flush()               { b.p.Flush() }
func (b blindParser) Stats() sources.Stats { return b.p.Stats() }

// upload is a real sftp-server creation of path, split where the writer
// of the log may pause: before the CREATE record, and after it.
func upload(serial int, path string) (head, tail string) {
	h := fmt.Sprintf("msg=audit(1795661111.%03d:%d):", serial%1000, serial)
	head = "type=SYSCALL " + h + ` arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55be209674e0 a2=41 a3=1a4 items=2 ppid=7845 pid=7846 auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=(none) ses=2 comm="sftp-server" exe="/usr/lib/openssh/sftp-server" key="xferhunt"` + "\n" +
		"type=CWD " + h + ` cwd="/home/victim"` + "\n" +
		"type=PATH " + h + ` item=0 name="/tmp/" inode=246947 dev=fe:00 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0` + "\n"
	tail = "type=PATH " + h + ` item=1 name="` + path + `" inode=9978498 dev=fe:00 mode=0100644 ouid=1001 ogid=1001 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0` + "\n" +
		"type=PROCTITLE " + h + ` proctitle=62617368002D63002F7573722F6C69622F6F70656E7373682F736674702D736572766572` + "\n"
	return head, tail
}

// TestIdleFlushWaitsForOpenEvent: a writer pausing inside an event longer
// than the idle flush but within the hold loses nothing; one pausing past
// the hold has the event finished short, and its late records are counted
// as a gap, not dropped silently (issue 9 item 14: gaps=0).
func TestIdleFlushWaitsForOpenEvent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := NewSource("auditlog:"+path, Options{Path: path}, func(emit func(sources.Event)) Decoder {
		return auditd.NewParser(auditd.Options{Emit: emit, Follow: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	src.idle, src.hold = 50*time.Millisecond, 400*time.Millisecond
	c := &collector{}
	stop := runSource(t, src, c.emit)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	head, rest := upload(1, "/tmp/paused-within-hold")
	f.WriteString(head)
	time.Sleep(200 * time.Millisecond) // four idle periods, half the hold
	f.WriteString(rest)
	waitFor(t, func() bool { return c.has("/tmp/paused-within-hold") }, 3*time.Second, "the event paused within the hold")
	if h := src.Health(); h.Gaps != 0 {
		t.Fatalf("gaps %d after a pause within the hold", h.Gaps)
	}

	head, rest = upload(2, "/tmp/paused-past-hold")
	f.WriteString(head)
	// The decoder is flushed once the hold is over; only then the rest.
	waitFor(t, func() bool { return src.pump.flushes.Load() >= 2 }, 3*time.Second, "the flush after the hold")
	f.WriteString(rest)
	waitFor(t, func() bool { return src.Health().Gaps > 0 }, 3*time.Second, "the late records counted as a gap")
	stop()
	if c.has("/tmp/paused-past-hold") {
		t.Fatal("the event finished short still has its late CREATE record")
	}
	if h := src.Health(); h.Gaps != 2 || h.Malformed != 0 {
		t.Fatalf("health %+v: want the two late records as gaps", h)
	}
}

type collector struct {
	mu  sync.Mutex
	evs []sources.Event
}

func (c *collector) emit(evs []sources.Event) {
	c.mu.Lock()
	c.evs = append(c.evs, evs...)
	c.mu.Unlock()
}

func (c *collector) has(path string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.ContainsFunc(c.evs, func(e sources.Event) bool { return e.Doc.Str("file.path") == path })
}

// runSource runs src until the returned stop (or the test's end).
func runSource(t *testing.T, src *Source, emit func([]sources.Event)) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, emit) }()
	select {
	case <-src.Ready():
	case err := <-done:
		t.Fatalf("source stopped: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("source not ready")
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// TestUnfinishedLineHoldsFlushForLineHold: for a decoder that cannot tell
// where its events end, an unfinished line holds back the idle flush of
// the event before it, but only for the tailer's lineHold; once its writer
// finishes it, it is parsed whole.
func TestUnfinishedLineHoldsFlushForLineHold(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := NewSource("auditlog:"+path, Options{Path: path}, func(emit func(sources.Event)) Decoder {
		return blindParser{auditd.NewParser(auditd.Options{Emit: emit})}
	})
	if err != nil {
		t.Fatal(err)
	}
	src.idle, src.tailer.lineHold = 50*time.Millisecond, 500*time.Millisecond
	c := &collector{}
	runSource(t, src, c.emit)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head, rest := upload(1, "/tmp/before-the-unfinished-line")
	next, nextRest := upload(2, "/tmp/unfinished-then-finished")
	start := time.Now()
	f.WriteString(head + rest + next[:20])
	waitFor(t, func() bool { return c.has("/tmp/before-the-unfinished-line") }, 3*time.Second, "the event before the unfinished line")
	if d := time.Since(start); d < src.tailer.lineHold {
		t.Fatalf("flushed after %v, inside the line hold", d)
	}
	f.WriteString(next[20:] + nextRest)
	waitFor(t, func() bool { return c.has("/tmp/unfinished-then-finished") }, 3*time.Second, "the finished line's event")
	if h := src.Health(); h.Malformed != 0 || h.Gaps != 0 {
		t.Fatalf("health %+v", h)
	}
}

// stallDecoder records lines and stalls on one until released, as a
// decoder behind a slow consumer would.
type stallDecoder struct {
	lineDecoder
	at              string
	stalled, resume chan struct{}
}

func (d *stallDecoder) Line(b []byte) {
	d.lineDecoder.Line(b)
	if string(b) == d.at {
		close(d.stalled)
		<-d.resume
	}
}

// TestMissedFileCountedLost: a file created and deleted while the tailer
// was busy was never read; the source says so in Health.Lost (issue 9
// item 14: loss by rotation was silent).
func TestMissedFileCountedLost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dec := &stallDecoder{at: "a", stalled: make(chan struct{}), resume: make(chan struct{})}
	src, err := NewSource("auditlog:"+path, Options{Path: path}, func(func(sources.Event)) Decoder { return dec })
	if err != nil {
		t.Fatal(err)
	}
	stop := runSource(t, src, func([]sources.Event) {})
	if err := os.WriteFile(path, []byte("a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	<-dec.stalled
	// While the tailer is busy: rotate, and a file comes and goes unread.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	close(dec.resume)
	waitFor(t, func() bool { return src.Health().Lost == 1 }, 5*time.Second, "the missed file counted lost")
	stop()
	dec.mu.Lock()
	defer dec.mu.Unlock()
	if got := strings.Join(dec.lines, "|"); got != "a|c" {
		t.Fatalf("lines %q, want a|c", got)
	}
	if h := src.Health(); h.Lost != 1 {
		t.Fatalf("lost %d, want 1", h.Lost)
	}
}
