package bridge

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/sources"
)

func ev(key, action, path string) sources.Event {
	d := ecs.Doc{}
	d.Set("event.action", action)
	d.Set("file.path", path)
	return sources.Event{Doc: d, Key: key}
}

func TestFullBufferDropsAndCountsPerSource(t *testing.T) {
	b := New(Options{Capacity: 3})
	b.Push("netlink", []sources.Event{ev("", "creation", "/a"), ev("", "creation", "/b")})
	b.Push("auditlog", []sources.Event{ev("", "creation", "/c"), ev("", "creation", "/d"), ev("", "creation", "/e")})
	st := b.Stats()
	if st.Accepted != 3 || st.Dropped != 2 || st.DroppedBy["auditlog"] != 2 || st.DroppedBy["netlink"] != 0 {
		t.Fatalf("stats %+v", st)
	}
	got := b.Take()
	if len(got) != 3 || got[2].Doc.Str("file.path") != "/c" {
		t.Fatalf("took %d events", len(got))
	}
	if b.Take() != nil {
		t.Fatal("second Take not empty")
	}
}

func TestDedupSameKernelEventTwoSources(t *testing.T) {
	b := New(Options{})
	k := "host1/1795661111.044:3375"
	b.Push("netlink", []sources.Event{ev(k, "rename", "/tmp/new"), ev(k, "deletion", "/tmp/old")})
	b.Push("auditlog", []sources.Event{ev(k, "rename", "/tmp/new"), ev(k, "deletion", "/tmp/old"), ev("", "creation", "/x"), ev("", "creation", "/x")})
	st := b.Stats()
	if st.Duplicate != 2 || st.Accepted != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDedupWindowIsBounded(t *testing.T) {
	b := New(Options{DedupWindow: 100})
	for i := range 1000 {
		b.Push("s", []sources.Event{ev(fmt.Sprint(i), "creation", "/p")})
	}
	b.mu.Lock()
	n := len(b.seen) + len(b.old)
	b.mu.Unlock()
	if n > 100 {
		t.Fatalf("remembers %d keys, window 100", n)
	}
	// A key inside the window is still caught.
	b.Push("s", []sources.Event{ev("999", "creation", "/p")})
	if b.Stats().Duplicate != 1 {
		t.Fatal("recent duplicate not caught")
	}
}

// A consumer that blocks must not block the producer.
func TestSlowConsumerNeverBlocksProducer(t *testing.T) {
	b := New(Options{Capacity: 1000, Interval: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	var delivered sync.WaitGroup
	delivered.Add(1)
	go func() {
		defer delivered.Done()
		b.Run(ctx, func([]sources.Event) { <-release })
	}()
	done := make(chan struct{})
	go func() {
		for i := range 100000 {
			b.Push("netlink", []sources.Event{ev("", "creation", fmt.Sprint(i))})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("producer blocked behind a stuck consumer")
	}
	st := b.Stats()
	if st.Dropped == 0 || st.Accepted+st.Dropped != 100000 {
		t.Fatalf("stats %+v", st)
	}
	close(release)
	cancel()
	delivered.Wait()
}

func TestRunBatchesAndFlushesOnStop(t *testing.T) {
	b := New(Options{Interval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var batches [][]sources.Event
	stopped := make(chan struct{})
	go func() {
		b.Run(ctx, func(bt []sources.Event) { mu.Lock(); batches = append(batches, bt); mu.Unlock() })
		close(stopped)
	}()
	for i := range 50 {
		b.Push("s", []sources.Event{ev("", "creation", fmt.Sprint(i))})
	}
	cancel()
	<-stopped
	n := 0
	for _, bt := range batches {
		n += len(bt)
	}
	if n != 50 || len(batches) > 3 {
		t.Fatalf("%d events in %d batches", n, len(batches))
	}
}

func BenchmarkPush(b *testing.B) {
	br := New(Options{Capacity: 1 << 20, DedupWindow: -1})
	batch := []sources.Event{ev("", "creation", "/tmp/x")}
	for i := 0; b.Loop(); i++ {
		br.Push("netlink", batch)
		if i%4096 == 0 {
			br.Take()
		}
	}
}

func BenchmarkPushDedup(b *testing.B) {
	br := New(Options{Capacity: 1 << 20})
	evs := make([]sources.Event, 4096)
	for i := range evs {
		evs[i] = ev(fmt.Sprint("k", i), "creation", "/tmp/x")
	}
	for i := 0; b.Loop(); i++ {
		br.Push("netlink", evs[i%4096:i%4096+1])
		if i%4096 == 0 {
			br.Take()
		}
	}
}

func BenchmarkPushTake64(b *testing.B) {
	br := New(Options{Capacity: 1 << 20, DedupWindow: -1})
	batch := make([]sources.Event, 64)
	for i := range batch {
		batch[i] = ev("", "creation", "/tmp/x")
	}
	for b.Loop() {
		br.Push("netlink", batch)
		br.Take()
	}
}

func TestByteBudgetBoundsMemory(t *testing.T) {
	b := New(Options{Capacity: 1000, MaxBytes: 10 * (2048 + 1000)})
	big := strings.Repeat("x", 1000)
	evs := make([]sources.Event, 20)
	for i := range evs {
		evs[i] = sources.Event{Doc: ecs.Doc{"event": map[string]any{"original": big}}}
	}
	b.Push("src", evs)
	st := b.Stats()
	if st.Queued != 10 || st.Dropped != 10 || st.DroppedBy["src"] != 10 {
		t.Fatalf("queued %d dropped %d (%v), want 10 and 10", st.Queued, st.Dropped, st.DroppedBy)
	}
	if got := len(b.Take()); got != 10 {
		t.Fatalf("took %d", got)
	}
	b.Push("src", evs[:5])
	if st := b.Stats(); st.Queued != 5 {
		t.Fatalf("after Take the budget is free again: queued %d", st.Queued)
	}
}

// TestWaitingSourceLosesNothing: a source that can wait, emitting far more
// than the buffer holds into a slow consumer, loses nothing and keeps its
// order (issue 9 item 16: a file read through the live pipeline lost what
// did not fit).
func TestWaitingSourceLosesNothing(t *testing.T) {
	b := New(Options{Capacity: 64})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Run(ctx, func(batch []sources.Event) {
			time.Sleep(time.Millisecond) // a consumer slower than the source
			for _, e := range batch {
				got = append(got, e.Doc.Str("file.path"))
			}
		})
	}()
	emit := b.WaitingEmitter(ctx, "auditlog:/var/log/audit/audit.log")
	const n = 10000
	for i := 0; i < n; i += 10 {
		batch := make([]sources.Event, 10)
		for j := range batch {
			batch[j] = ev("", "creation", fmt.Sprintf("/f%05d", i+j))
		}
		emit(batch)
	}
	cancel() // every emit has returned: Run's final take delivers the rest
	<-done
	if st := b.Stats(); st.Dropped != 0 || st.Delivered != n {
		t.Fatalf("stats %+v, want %d delivered and none dropped", st, n)
	}
	for i, p := range got {
		if want := fmt.Sprintf("/f%05d", i); p != want {
			t.Fatalf("event %d is %s, want %s", i, p, want)
		}
	}
}

// TestWaitingSourceLeavesRoomForKernel: a waiting source fills half the
// buffer and waits there; the other half still takes a source that
// cannot wait, which drops only beyond it.
func TestWaitingSourceLeavesRoomForKernel(t *testing.T) {
	b := New(Options{Capacity: 10})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	file := make([]sources.Event, 8)
	for i := range file {
		file[i] = ev("", "creation", fmt.Sprintf("/file%d", i))
	}
	returned := make(chan struct{})
	go func() {
		b.WaitingEmitter(ctx, "auditlog:x")(file)
		close(returned)
	}()
	waitQueued := func(n int) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for b.Stats().Queued != n {
			if time.Now().After(deadline) {
				t.Fatalf("queued %d, want %d", b.Stats().Queued, n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitQueued(5)
	kernel := make([]sources.Event, 6)
	for i := range kernel {
		kernel[i] = ev("", "creation", fmt.Sprintf("/kernel%d", i))
	}
	b.Push("netlink", kernel)
	if st := b.Stats(); st.DroppedBy["netlink"] != 1 || st.DroppedBy["auditlog:x"] != 0 || st.Queued != 10 {
		t.Fatalf("stats %+v: want the kernel's 6th event dropped, nothing of the file's", st)
	}
	select {
	case <-returned:
		t.Fatal("the waiting source returned with 3 events not queued")
	default:
	}
	if got := len(b.Take()); got != 10 {
		t.Fatalf("took %d", got)
	}
	<-returned
	if got := len(b.Take()); got != 3 {
		t.Fatalf("took %d after the wait, want the file's last 3", got)
	}
}

// TestWaitingEndsWithContext: at shutdown a waiting source stops waiting;
// what does not fit is dropped and counted.
func TestWaitingEndsWithContext(t *testing.T) {
	b := New(Options{Capacity: 4})
	ctx, cancel := context.WithCancel(context.Background())
	evs := make([]sources.Event, 7)
	for i := range evs {
		evs[i] = ev("", "creation", fmt.Sprintf("/p%d", i))
	}
	returned := make(chan struct{})
	go func() {
		b.WaitingEmitter(ctx, "auditlog:x")(evs)
		close(returned)
	}()
	select {
	case <-returned:
		t.Fatal("returned without room for its events")
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	select {
	case <-returned:
	case <-time.After(3 * time.Second):
		t.Fatal("still waiting after its context ended")
	}
	if st := b.Stats(); st.Accepted != 4 || st.DroppedBy["auditlog:x"] != 3 {
		t.Fatalf("stats %+v: want 4 queued, 3 dropped and counted", st)
	}
}

// TestRunReusesBatches: Run hands a delivered batch's slice back to Take
// instead of allocating one per wake-up, cleared so that it keeps no event
// document alive; the events each batch carries are the ones pushed.
func TestRunReusesBatches(t *testing.T) {
	b := New(Options{DedupWindow: -1})
	type got struct {
		first *sources.Event
		path  string
	}
	delivered := make(chan got)
	next := make(chan struct{})
	var held []sources.Event // the first batch, looked at while the second is delivered
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Run(ctx, func(batch []sources.Event) {
			if held == nil {
				held = batch
			}
			delivered <- got{&batch[:1][0], batch[0].Doc.Str("file.path")}
			<-next
		})
	}()
	var seen []got
	for i := range 4 {
		b.Push("netlink", []sources.Event{ev("", "creation", fmt.Sprintf("/f%d", i))})
		g := <-delivered
		if i == 1 && held[:1][0].Doc != nil {
			t.Errorf("the delivered first batch still holds its event's document while it waits for reuse")
		}
		seen = append(seen, g)
		next <- struct{}{}
	}
	cancel()
	<-done
	for i, g := range seen {
		if want := fmt.Sprintf("/f%d", i); g.path != want {
			t.Errorf("batch %d carried %s, want %s", i, g.path, want)
		}
	}
	if seen[2].first != seen[0].first || seen[3].first != seen[1].first {
		t.Errorf("each wake-up got a fresh batch slice: Run does not reuse what deliver returned")
	}
}
