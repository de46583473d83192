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
// 150 new terms in one interval raise 100 alerts at once (the rule's
// max_signals) and defer 50 to the next interval, which the end of the
// input releases. The session's story tells all 150 creations, and marks
// every one that alerted — the deferred too, as scan raises them (they
// were left unmarked: only alerts raised at once named their event).
func TestHeldBackEventsStayInTheStory(t *testing.T) {
	log := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(log, uploads(0, 150, time.Now().Add(-time.Hour).Unix()), 0o600); err != nil {
		t.Fatal(err)
	}
	var alerts bytes.Buffer
	scfg := Config{Rules: []string{"seed"}, NewTermsFields: []string{"file.path", "host.id"}, HostID: "h", Ephemeral: true, Stdout: &alerts, Stderr: io.Discard}
	if err := Scan(scfg, []string{log}); err != nil {
		t.Fatal(err)
	}
	raised := bytes.Count(alerts.Bytes(), []byte("\n"))
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
	if raised != 150 || created != 150 || marked != raised {
		t.Fatalf("scan raised %d alerts; story: %d creations, %d marked; want 150, 150 and 150:\n%s", raised, created, marked, out.String())
	}
}
