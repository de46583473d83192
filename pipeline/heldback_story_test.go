package pipeline

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Alerts that max_signals holds back leave their events in the story:
// 150 new terms in one interval raise 100 alerts (the rule's max_signals),
// and the session's story still tells all 150 creations, the 100 that
// alerted marked.
func TestHeldBackEventsStayInTheStory(t *testing.T) {
	log := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(log, uploads(0, 150, time.Now().Add(-time.Hour).Unix()), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	q := NewStoryQuery()
	q.Session = 2
	cfg := Config{Rules: []string{"seed"}, NewTermsFields: []string{"file.path", "host.id"}, HostID: "h", Stdout: &out, Stderr: io.Discard}
	if err := Story(cfg, q, []string{log}); err != nil {
		t.Fatal(err)
	}
	var created, marked int
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.Contains(l, " create ") {
			created++
			if strings.HasPrefix(l, "!") {
				marked++
			}
		}
	}
	if created != 150 || marked != 100 {
		t.Fatalf("story: %d creations, %d marked; want 150 and 100:\n%s", created, marked, out.String())
	}
}
