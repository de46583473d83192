package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/state"
	"github.com/xferhunt/xferhunt/story"
)

// Alerts are journaled once per uuid, events in order; a second run on
// the same state restores both, and its journal knows the restored
// alerts, so the backfill's copies are not journaled again. A restored
// alert marks the event it was raised on (its first ancestor): an alert
// max_signals deferred is journaled after its event, whose record does
// not name it.
func TestJournalRestore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "st")
	st, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	j := newJournal(st)
	a := detect.Alert{Doc: ecs.Doc{"kibana.alert.uuid": "u1", "file": map[string]any{"path": "/tmp/x"},
		"kibana.alert.ancestors": []any{map[string]any{"id": "k1"}}}}
	j.alert(a)
	j.alert(a)
	for i := range 3 {
		e := story.Event{Time: int64(1000 + i), Key: fmt.Sprintf("k%d", i), Action: "exec", Session: 7, Path: "/bin/x"}
		j.event(&e)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	j.run(ctx) // a cancelled run commits once
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stories := story.NewStore(0)
	j2 := newJournal(st)
	r, err := restore(st, stories, j2)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.alerts) != 1 || r.alerts[0].ID() != "u1" || r.alerts[0].Doc.Str("file.path") != "/tmp/x" {
		t.Fatalf("restored alerts = %+v", r.alerts)
	}
	got := stories.Story(story.Scope{Kind: story.BySession, Session: 7})
	if len(got) != 3 || r.until != 1002 {
		t.Fatalf("restored %d events, until %d", len(got), r.until)
	}
	for _, e := range got {
		if want := map[bool]string{true: "u1"}[e.Key == "k1"]; e.Alert != want {
			t.Errorf("restored event %s names alert %q, want %q", e.Key, e.Alert, want)
		}
	}
	j2.alert(a)
	if len(j2.alerts) != 0 {
		t.Error("a restored alert was queued again")
	}
}

// What waits for the next commit is bounded in bytes as well as records:
// events with 8 KiB of arguments (one user's exec loop) stop being queued
// at maxPendingBytes, counted as dropped, and a commit makes room again.
func TestJournalPendingBytesBounded(t *testing.T) {
	st := state.OpenMemory()
	defer st.Close()
	j := newJournal(st)
	arg := strings.Repeat("<", 8183)
	e := story.Event{Time: 1000, Action: "exec", Session: 7, Path: "/bin/true", Args: []string{"/bin/true", arg}}
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	n := 2*maxPendingBytes/len(b) + 1
	for range n {
		j.event(&e)
	}
	if j.pending > maxPendingBytes {
		t.Fatalf("pending %d bytes, bound %d", j.pending, maxPendingBytes)
	}
	queued, dropped := len(j.events), int(j.dropped.Load())
	if queued+dropped != n || dropped < n/2-1 {
		t.Fatalf("queued %d, dropped %d of %d events of %d bytes", queued, dropped, n, len(b))
	}
	j.flush()
	j.event(&e)
	if len(j.events) != 1 || int(j.dropped.Load()) != dropped {
		t.Fatalf("after a commit: queued %d, dropped %d (was %d)", len(j.events), j.dropped.Load(), dropped)
	}
}
