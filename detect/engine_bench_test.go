package detect

import (
	"fmt"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/state"
)

// benchEvent is shaped like an Elastic Defend file creation event.
func benchEvent(i int) ecs.Doc {
	at := base.Add(time.Duration(i) * 10 * time.Millisecond)
	exe := fmt.Sprintf("/usr/libexec/openssh/sftp-server-%d", i%50)
	return ecs.Doc{
		"@timestamp":  at.Format(time.RFC3339Nano),
		"agent":       map[string]any{"id": "a1b2c3", "type": "endpoint", "version": "8.17.0"},
		"data_stream": map[string]any{"type": "logs", "dataset": "endpoint.events.file", "namespace": "default"},
		"ecs":         map[string]any{"version": "8.10.0"},
		"event": map[string]any{
			"action": "creation", "category": []any{"file"}, "type": []any{"creation"}, "kind": "event",
			"id": fmt.Sprintf("NjM5ODI%d", i), "ingested": at.Add(time.Second).Format(time.RFC3339Nano), "module": "endpoint",
		},
		"file": map[string]any{"path": "/home/alice/upload.bin", "name": "upload.bin", "extension": "bin"},
		"host": map[string]any{
			"id": "9f2a", "name": "web-1", "hostname": "web-1",
			"os": map[string]any{"type": "linux", "family": "debian", "kernel": "6.8.0"},
		},
		"process": map[string]any{
			"name": "sftp-server", "executable": exe, "pid": 4242.0, "entity_id": "ZmFrZQ==",
			"parent": map[string]any{"name": "sshd", "pid": 4200.0, "executable": "/usr/sbin/sshd"},
		},
		"user":   map[string]any{"name": "alice", "id": "1000"},
		"source": map[string]any{"ip": "10.1.2.3", "port": 51022.0},
	}
}

func benchEngine(b *testing.B, store HistoryStore) {
	r := testRule()
	e, err := NewEngine([]RuleSpec{{Rule: r, Query: nameMatcher{[]string{"scp", "sftp-server"}}}}, store, nil, Options{Now: func() time.Time { return base }})
	if err != nil {
		b.Fatal(err)
	}
	evs := make([]ecs.Doc, 4096)
	for i := range evs {
		evs[i] = benchEvent(i)
	}
	// Warm up: every tuple known, so the measured loop is the common case
	// (matching events whose tuple is not new).
	for _, ev := range evs[:100] {
		e.Process(ev, Flags{})
	}
	b.ReportAllocs()
	b.ResetTimer()
	alerts := 0
	for i := 0; i < b.N; i++ {
		alerts += len(e.Process(evs[i%len(evs)], Flags{}))
	}
	b.StopTimer()
	if err := e.Flush(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if alerts != 0 {
		b.Fatalf("%d alerts in the steady state", alerts)
	}
}

func BenchmarkEngineProcess(b *testing.B) {
	b.Run("nohistory", func(b *testing.B) { benchEngine(b, nil) })
	b.Run("memory", func(b *testing.B) {
		st := state.OpenMemory()
		defer st.Close()
		benchEngine(b, st)
	})
	b.Run("bbolt", func(b *testing.B) {
		st, err := state.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		benchEngine(b, st)
	})
}
