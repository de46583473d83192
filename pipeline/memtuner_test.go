package pipeline

import (
	"math"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"
)

// TestMemTunerFollowsLiveHeap: the scan's soft memory limit starts at the
// floor, rises to 1.5 × the live heap once that passes the floor and
// comes down with it, so the collector runs before the heap passes the
// budget however early the live heap grows (issue 12: the GOGC switch
// let a 57 MiB live heap set a 285 MiB goal first).
func TestMemTunerFollowsLiveHeap(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	var live atomic.Uint64
	live.Store(20 << 20)
	const floor = 100 << 20
	stop := memTuner(floor, time.Millisecond, live.Load)
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	if got := debug.SetMemoryLimit(-1); got != floor {
		t.Fatalf("limit %d at start, want the floor %d", got, floor)
	}
	waitLimit := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for debug.SetMemoryLimit(-1) != want {
			if time.Now().After(deadline) {
				t.Fatalf("limit %d, want %d", debug.SetMemoryLimit(-1), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	live.Store(200 << 20)
	waitLimit(300 << 20)
	live.Store(50 << 20)
	waitLimit(floor)
	stop()
	stop = nil
	live.Store(400 << 20)
	time.Sleep(20 * time.Millisecond)
	if got := debug.SetMemoryLimit(-1); got != floor {
		t.Fatalf("limit %d after stop, want it left at %d", got, floor)
	}
}
