package alertdb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/internal/sharedtest/alerts"
)

func TestFeederBoundsAndBatches(t *testing.T) {
	f := NewFeeder[int](3)
	for i := range 5 {
		f.Push(alerts.Make(alerts.Spec{ID: fmt.Sprint(i), Sev: "low", Path: "/x"}))
	}
	if f.Dropped() != 2 {
		t.Fatalf("dropped %d, want 2", f.Dropped())
	}
	f.SetHealth(8)
	f.SetHealth(9) // only the newest is delivered
	batches := make(chan Batch, 4)
	healths := make(chan int, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.Forward(ctx, time.Millisecond, func(b Batch) { batches <- b }, func(h int) { healths <- h })
	b := <-batches
	if len(b.Rows) != 3 || b.Dropped != 2 {
		t.Fatalf("batch %d dropped %d", len(b.Rows), b.Dropped)
	}
	if h := <-healths; h != 9 {
		t.Fatalf("health %d forwarded, want the newest (9)", h)
	}
	// Nothing new and the same drop count: no batch is worth sending.
	select {
	case b := <-batches:
		t.Fatalf("empty tick delivered %+v", b)
	case <-time.After(20 * time.Millisecond):
	}
}

// TestFeederDeepBufferStillFilters: rows deep in the feeder buffer drop
// their arrival document; a live filter must decode them instead of
// dropping or mis-filtering them.
func TestFeederDeepBufferStillFilters(t *testing.T) {
	f := NewFeeder[struct{}](0)
	n := keepArrival + 4
	for i := range n {
		proc := "vsftpd"
		if i%2 == 0 {
			proc = "sshd"
		}
		f.Push(alerts.Make(alerts.Spec{ID: fmt.Sprint(i), At: alerts.Base.Add(time.Duration(i) * time.Second).Format(time.RFC3339), Sev: "low", Proc: proc, Path: "/x"}))
	}
	b, _, _ := f.take()
	if b.Rows[0].arrival == nil || b.Rows[n-1].arrival != nil {
		t.Fatal("arrival documents not bounded as designed")
	}
	st := NewStore()
	st.Add(b.Rows, nil, SortTime, kql.MustParse("process.name : sshd").Match)
	if got := st.Shown(); got != n/2 {
		t.Fatalf("live filter kept %d of %d sshd alerts", got, n/2)
	}
}
