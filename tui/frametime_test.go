package tui

import (
	"runtime"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"golang.org/x/sys/unix"
)

// frameCost runs fn on a thread of its own and returns the CPU time that
// thread spent in it, and the wall time. The frame budgets are asserted on
// CPU time: a loaded shared machine stretches the wall time of the same
// work (waiting for a core) without the work growing, and a budget test
// must fail when the work grows, not when the machine is busy. The wall
// time is logged beside it.
func frameCost(tb testing.TB, fn func()) (cpu, wall time.Duration) {
	tb.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var a, b unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &a); err != nil {
		tb.Fatalf("thread CPU clock: %v", err)
	}
	start := time.Now()
	fn()
	wall = time.Since(start)
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &b); err != nil {
		tb.Fatalf("thread CPU clock: %v", err)
	}
	return time.Duration(b.Nano() - a.Nano()), wall
}

// updateCost hands msg to m and draws the frame, returning the new model,
// its Cmd, and the CPU and wall time of both (frameCost).
func updateCost(tb testing.TB, m Model, msg tea.Msg) (Model, tea.Cmd, time.Duration, time.Duration) {
	tb.Helper()
	var nm tea.Model
	var cmd tea.Cmd
	cpu, wall := frameCost(tb, func() {
		nm, cmd = m.Update(msg)
		_ = nm.(Model).View()
	})
	return nm.(Model), cmd, cpu, wall
}

// The thread CPU clock counts the work done and not the time spent
// waiting: a sleep costs no CPU, a busy loop costs about its wall time.
func TestFrameCostCountsWork(t *testing.T) {
	cpu, wall := frameCost(t, func() { time.Sleep(30 * time.Millisecond) })
	if cpu > 10*time.Millisecond || wall < 30*time.Millisecond {
		t.Errorf("a 30 ms sleep cost %v CPU over %v wall", cpu, wall)
	}
	// A fixed amount of work (not a loop for a wall time, which a loaded
	// machine would give less CPU): ~10–30 ms of CPU however busy the host.
	var sum uint64
	cpu, _ = frameCost(t, func() {
		for i := range uint64(30_000_000) {
			sum += i * i
		}
	})
	t.Logf("30 M multiply-adds: %v CPU", cpu)
	if cpu < 3*time.Millisecond {
		t.Errorf("30 M multiply-adds cost only %v CPU (sum %d)", cpu, sum)
	}
}
