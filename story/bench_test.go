package story_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/xferhunt/xferhunt/story"
)

// burst returns n events made from the capture's real ones, each a
// distinct event (own key, time, pid and session), as a busy host would
// produce them.
func burst(t testing.TB, n int) []story.Event {
	t.Helper()
	real := load(t, 0).All()
	out := make([]story.Event, n)
	for i := range out {
		e := real[i%len(real)]
		round := i / len(real)
		e.Time += int64(round) * 1000
		e.Key = fmt.Sprintf("h:%d:%d", e.Time, i)
		e.PID += round
		if e.Session != story.NoSession {
			e.Session += int64(round % 5000)
		}
		out[i] = e
	}
	return out
}

// BenchmarkStoreAdd is the event store's ingest rate: events/s, and the
// bytes an event costs in the store's own accounting.
func BenchmarkStoreAdd(b *testing.B) {
	evs := burst(b, 100000)
	b.ReportAllocs()
	b.ResetTimer()
	st := story.NewStore(0)
	for i := 0; i < b.N; i++ {
		st.Add(evs[i%len(evs)])
	}
	b.StopTimer()
	s := st.Stats()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if s.Events > 0 {
		b.ReportMetric(float64(s.Bytes)/float64(s.Events), "B/event")
	}
}

// BenchmarkSessionStory is the query behind the story view: one session
// of 10k events out of a store of 200k.
func BenchmarkSessionStory(b *testing.B) {
	evs := burst(b, 200000)
	st := story.NewStore(1 << 30)
	for i := range evs {
		if i%20 == 0 {
			// 10k events in one session: one login (a session id with
			// its login's start; each start is another login).
			evs[i].Session, evs[i].SesStart = 424242, 1
		}
		st.Add(evs[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if got := st.Story(story.Scope{Kind: story.BySession, Session: 424242}); len(got) != 10000 {
			b.Fatalf("%d events", len(got))
		}
	}
}

// A burst of 1M events into a 32 MiB store: the oldest are evicted and
// counted, and the heap the store holds stays near its budget (the
// accounting is an estimate: a quarter over is allowed, never unbounded).
func TestBurstStaysInBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("1M events: not in -short")
	}
	const budget = 32 << 20
	evs := burst(t, 100000)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	st := story.NewStore(budget)
	peak := uint64(0)
	for i := range 1000000 {
		e := evs[i%len(evs)]
		e.Key = fmt.Sprint(i) // distinct, and allocated like a source's
		st.Add(e)
		if i%100000 == 99999 {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc-min(m.HeapAlloc, before.HeapAlloc))
		}
	}
	s := st.Stats()
	if s.Evicted == 0 || s.Events+int(s.Evicted) != 1000000 {
		t.Fatalf("held %d + evicted %d != 1M", s.Events, s.Evicted)
	}
	if s.Bytes > budget {
		t.Fatalf("accounted %d bytes over the budget %d", s.Bytes, budget)
	}
	if limit := uint64(budget * 5 / 4); peak > limit {
		t.Fatalf("heap grew %d MiB holding a %d MiB store (limit %d MiB)", peak>>20, budget>>20, limit>>20)
	}
	t.Logf("1M events into %d MiB: held %d (%.0f B/event accounted), evicted %d, heap +%d MiB", budget>>20, s.Events, float64(s.Bytes)/float64(s.Events), s.Evicted, peak>>20)
	runtime.KeepAlive(st)
}

// upload is the i-th of the file creations one `scp -r` makes (e2e/live
// TestLoad's load): one process, session and address, each file its own
// path, inode and event key, allocated as a source allocates them.
func upload(i int) story.Event {
	return story.Event{
		Time: 1764990000000 + int64(i), Kind: story.Create, Action: "creation",
		Key:  fmt.Sprintf("h1:1764990000.%03d:%d", i%1000, 100000+i),
		Host: "h1", Session: 7, SesStart: 1764980000000, Addr: "127.0.0.10", Port: 40000,
		User: "xfe2l-a", Login: "xfe2l-a", PID: 4242, PPID: 4241, Process: "scp", Exe: "/usr/bin/scp",
		Path: fmt.Sprintf("/tmp/xferhunt-e2e-load-123/load/f%05d", i), Inode: fmt.Sprint(900000 + i), Mode: "0644", Via: "session",
	}
}

// TestStoreHeapPerEvent: what the store's memory costs per held event, as
// the heap sees it (events, their strings, storage, indexes), for a burst
// of uploads just past a power of two and for TestLoad's 20,000. Storage
// grows a chunk at a time: the doubling ring it replaced held up to twice
// its events (16,385 uploads: 978 B/event; 20,000: 822; now 633 and 601).
func TestStoreHeapPerEvent(t *testing.T) {
	for _, n := range []int{16385, 20000} {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		st := story.NewStore(0)
		for i := range n {
			st.Add(upload(i))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if got := st.Stats().Events; got != n {
			t.Fatalf("%d events held, want %d", got, n)
		}
		per := float64(after.HeapAlloc-min(after.HeapAlloc, before.HeapAlloc)) / float64(n)
		t.Logf("%d uploads: %.0f B/event on the heap (the store accounts %d)", n, per, st.Stats().Bytes/int64(n))
		if per > 700 {
			t.Errorf("%d uploads held in %.0f B/event, want ≤ 700", n, per)
		}
		runtime.KeepAlive(st)
	}
}
