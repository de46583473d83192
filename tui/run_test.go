package tui

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunWithFeeder starts the real program through Run, feeds it through
// a Feeder, and stops it by cancelling the context: Run must return nil.
func TestRunWithFeeder(t *testing.T) {
	f := NewFeeder(100)
	for _, a := range tableAlerts() {
		f.Push(a)
	}
	f.SetHealth(testHealth())
	out := &syncBuf{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Backend: newMemBackend(), Location: time.UTC}, f,
			tea.WithInput(strings.NewReader("")), tea.WithOutput(out), tea.WithWindowSize(100, 30))
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "sftp-server") || !strings.Contains(out.String(), "netlink") {
		if time.Now().After(deadline) {
			t.Fatalf("alerts and health never reached the screen:\n%q", out.String())
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not waiting for time
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
