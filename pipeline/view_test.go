package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/xferhunt/xferhunt/state"
	"github.com/xferhunt/xferhunt/triage"
)

// screen collects what the TUI draws, for polling from the test.
type screen struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitScreen polls until the screen shows want.
func waitScreen(t *testing.T, s *screen, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the screen never showed %q:\n%q", want, s.String())
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not waiting for time
	}
}

// captureAlertsNDJSON is what `xferhunt scan` prints for the real capture
// with a 2 s window (one alert per upload, as the demo shows them).
func captureAlertsNDJSON(t *testing.T) []byte {
	t.Helper()
	var out bytes.Buffer
	cfg := Config{Rules: []string{"seed"}, Ephemeral: true, HistoryWindow: DemoWindow, HostID: "capture-host", Stdout: &out, Stderr: io.Discard}
	if err := Scan(cfg, []string{"../testdata/capture/raw.log"}); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(out.Bytes(), []byte("\n")); n < 3 {
		t.Fatalf("scan of the capture gave %d alerts", n)
	}
	return out.Bytes()
}

// runView runs the view command on files with keys typed into it and
// returns what it printed on stderr once it quit.
func runView(t *testing.T, cfg Config, files []string, drive func(s *screen, keys io.Writer)) string {
	t.Helper()
	var errb screen
	cfg.Stderr = &errb
	if len(cfg.Rules) == 0 {
		cfg.Rules = []string{"seed"}
	}
	in, keys := io.Pipe()
	scr := &screen{}
	// The view runs until it quits or the test ends; only the time from
	// the last key to the quit is bounded. A deadline over the whole
	// drive failed under load: each wait may take up to its own 20 s.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- view(ctx, cfg, files, tea.WithInput(in), tea.WithOutput(scr), tea.WithWindowSize(200, 40))
	}()
	drive(scr, keys)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("view: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("view did not quit within 30 s of its last key")
	}
	keys.Close()
	return errb.String()
}

// TestViewTriage opens scan's output of the real capture (plus one event
// that is no alert) in the TUI, acknowledges the newest alert, tries to
// kill its process (refused: a view of recorded alerts acts on no host),
// quits, and opens the file again on the same state: the mark is back.
func TestViewTriage(t *testing.T) {
	alerts := captureAlertsNDJSON(t)
	lines := strings.Split(strings.TrimSpace(string(alerts)), "\n")
	newest := ""
	var newestAt string
	for _, l := range lines {
		var d map[string]any
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatal(err)
		}
		if at, _ := d["kibana.alert.original_time"].(string); at > newestAt {
			newestAt, newest = at, d["kibana.alert.uuid"].(string)
		}
	}
	if newest == "" {
		t.Fatal("no kibana.alert.uuid in scan output")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "alerts.ndjson")
	event := `{"@timestamp":"2026-11-26T03:00:00Z","event":{"kind":"event","category":["file"],"action":"creation"},"process":{"name":"scp"}}` + "\n"
	if err := os.WriteFile(file, append(alerts, event...), 0o600); err != nil {
		t.Fatal(err)
	}
	stateDir := filepath.Join(dir, "state")
	cfg := Config{StateDir: stateDir}
	// The renderer redraws only the cells that changed: the test waits
	// for short strings that appear whole.
	oldest := "dropped-sftpmode.bin"
	stderr := runView(t, cfg, []string{file}, func(s *screen, keys io.Writer) {
		waitScreen(t, s, oldest)
		waitScreen(t, s, "were not alerts") // the file is read to its end
		io.WriteString(keys, "a")
		waitScreen(t, s, "ack 1")
		// K is refused at once, with the reason: no confirmation is offered
		// for a pid that is not this host's.
		io.WriteString(keys, "K")
		waitScreen(t, s, "does not act on the host")
		io.WriteString(keys, "q")
	})
	if !strings.Contains(stderr, "1 documents were not alerts") {
		t.Errorf("stderr does not count the event that is no alert:\n%s", stderr)
	}
	st, err := state.Open(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := st.AllTriage()
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(tr) != 1 || tr[newest].Status != triage.StatusAcknowledged {
		t.Fatalf("triage in the state = %+v, want %s acknowledged", tr, newest)
	}
	// Opened again on the same state, the mark is shown.
	runView(t, cfg, []string{file}, func(s *screen, keys io.Writer) {
		waitScreen(t, s, oldest)
		waitScreen(t, s, "ack 1")
		io.WriteString(keys, "q")
	})
}

// TestViewRejectsBadInput: a missing file fails before the TUI starts
// (usage error), and a file with no alert says so after.
func TestViewRejectsBadInput(t *testing.T) {
	err := view(context.Background(), Config{Ephemeral: true, Rules: []string{"seed"}, Stderr: io.Discard}, []string{filepath.Join(t.TempDir(), "missing.ndjson")})
	if !errors.Is(err, ErrUsage) {
		t.Fatalf("missing file: err = %v, want a usage error", err)
	}
	stderr := runView(t, Config{Ephemeral: true}, []string{"../testdata/capture/raw.log"}, func(s *screen, keys io.Writer) {
		waitScreen(t, s, "no alert documents")
		io.WriteString(keys, "q")
	})
	if !strings.Contains(stderr, "no alert documents") {
		t.Errorf("stderr = %q, want it to say the audit log holds no alerts", stderr)
	}
}
