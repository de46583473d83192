package detect

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
)

// TestOffStoreKeys: clusters keep their keys through replacements, drops
// and the compactions they cause, and the arena stays within twice the
// keys in use (plus a block): out-of-order input must not grow it with
// the events.
func TestOffStoreKeys(t *testing.T) {
	var s offStore
	want := map[uint32]string{}
	heads := map[uint64]uint32{} // tuples whose cluster was never dropped
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		c := s.alloc()
		s.at(c).hash = uint64(i)
		s.setHead(uint64(i), c)
		heads[uint64(i)] = c
		k := fmt.Sprintf("host-%d/ev-%d", i%7, i)
		s.setKey(c, k)
		want[c] = k
	}
	for round := range 100_000 {
		var c uint32
		for c = range want {
			break
		}
		if round%10 == 0 {
			// Merge-like: drop a cluster, make another.
			delete(heads, s.at(c).hash)
			s.drop(c)
			delete(want, c)
			c = s.alloc()
		}
		k := fmt.Sprintf("host-%d/ev-%d-%s", round%7, rng.IntN(1e9), string(make([]byte, rng.IntN(40))))
		s.setKey(c, k)
		want[c] = k
	}
	if s.compactions == 0 {
		t.Fatal("no compaction happened: the test does not test it")
	}
	live := 0
	for c, k := range want {
		if got := string(s.keyOf(s.at(c))); got != k {
			t.Fatalf("cluster %d: key %q, want %q", c, got, k)
		}
		live += len(k) + uvarintLen(uint64(len(k)))
	}
	if s.keys.live != live {
		t.Fatalf("arena counts %d live bytes, want %d", s.keys.live, live)
	}
	if s.keys.size > 2*live+2*keyBlock {
		t.Fatalf("arena holds %d bytes for %d live", s.keys.size, live)
	}
	for h, c := range heads {
		if got := s.head(h); got != c {
			t.Fatalf("tuple %d: head %d, want %d", h, got, c)
		}
	}
}

// TestOfflineReversedCompacts: fed in reverse time order, every event of
// a cluster replaces its earliest event's key, so the key arena compacts
// during the scan; the alerts (ids, source events) are those of the same
// events in order.
func TestOfflineReversedCompacts(t *testing.T) {
	const tuples, each = 3000, 10
	events := make([]ecs.Doc, 0, tuples*each)
	for k := range each {
		for i := range tuples {
			n := k*tuples + i
			events = append(events, ecs.Doc{
				"@timestamp": base.Add(time.Duration(n) * 100 * time.Millisecond).UnixMilli(),
				"event":      map[string]any{"category": []any{"file"}, "id": fmt.Sprintf("ev-%06d", n)},
				"host":       map[string]any{"id": "h"},
				"process":    map[string]any{"name": "scp", "executable": "/usr/bin/scp"},
				"file":       map[string]any{"path": fmt.Sprintf("/srv/%d", i)},
			})
		}
	}
	run := func(order func(int) int) ([]string, int) {
		e := newEngine(t, testRule(), nil, nil, Options{Offline: true, NewTermsFields: []string{"file.path"}})
		for i := range events {
			e.Process(events[order(i)], Flags{})
		}
		compactions := e.rules[0].off.compactions
		var got []string
		for _, a := range e.Drain() {
			got = append(got, a.Doc.Str("kibana.alert.uuid")+" "+a.Doc.Str("event.id"))
		}
		return got, compactions
	}
	want, _ := run(func(i int) int { return i })
	// The replaced keys (~27,000 of ~20 bytes) outgrow the live ones and
	// a block.
	got, compactions := run(func(i int) int { return len(events) - 1 - i })
	if compactions == 0 {
		t.Fatal("the key arena never compacted: the test does not test it")
	}
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Fatalf("reversed: %d alerts, in order %d (or not the same)", len(got), len(want))
	}
}
