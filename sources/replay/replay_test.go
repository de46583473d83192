package replay

import (
	"context"
	"io"
	"testing"
	"time"
)

func TestPacesByRecordTime(t *testing.T) {
	log := "type=X msg=audit(100.000:1): a\nno timestamp\ntype=X msg=audit(100.500:2): b\ntype=X msg=audit(100.500:3): c\ntype=X msg=audit(1000.000:4): d\n"
	r := New(context.Background(), []byte(log), 10)
	var slept []time.Duration
	r.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	b, err := io.ReadAll(r)
	if err != nil || string(b) != log {
		t.Fatalf("read %q, %v", b, err)
	}
	// 0.5 s at speed 10 is 50 ms. The 899.5 s gap is capped: the next record
	// is due MaxGap after the previous one was (the fake sleep returns at
	// once, so that one's 50 ms are still ahead).
	if len(slept) != 3 {
		t.Fatalf("slept %v, want three pauses", slept)
	}
	if slept[0] < 40*time.Millisecond || slept[0] > 50*time.Millisecond {
		t.Errorf("first pause %v, want about 50ms", slept[0])
	}
	if slept[2] > MaxGap+100*time.Millisecond || slept[2] < MaxGap-100*time.Millisecond {
		t.Errorf("long gap paused %v, want capped near %v", slept[2], MaxGap)
	}
}

func TestStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := New(ctx, []byte("type=X msg=audit(1.000:1): a\ntype=X msg=audit(2.000:2): b\n"), 1)
	buf := make([]byte, 100)
	if _, err := r.Read(buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r.Read(buf); err == nil {
		t.Fatal("read after cancel succeeded")
	}
}
