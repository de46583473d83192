package tui

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/internal/sharedtest/alerts"
	"github.com/xferhunt/xferhunt/story"
)

func alertRange(from, to, n int) []detect.Alert { return alerts.Range(from, to, n) }

// loaded returns a 160×48 model holding n alerts delivered in live-sized
// batches, the way the Feeder delivers them.
func loaded(tb testing.TB, n int) Model {
	m := New(Options{Backend: newMemBackend(), Location: time.UTC})
	m, _ = step(tb, m, tea.WindowSizeMsg{Width: 160, Height: 48})
	// Generate as we go, as the engine would: the maps of a batch are
	// garbage once the batch is stored.
	for i := 0; i < n; i += 2000 {
		m, _ = step(tb, m, AlertsMsg{Alerts: alertRange(i, min(n, i+2000), n)})
	}
	return m
}

// BenchmarkKeyToFrame100k measures one key press (cursor down, wrapping
// back to the top at the end of the page range) plus rendering the frame,
// with 100k alerts held.
func BenchmarkKeyToFrame100k(b *testing.B) {
	m := loaded(b, 100_000)
	m = keys(b, m, "G") // far end: worst case for the window arithmetic
	benchUpDown(b, m)
}

// benchUpDown times key presses (down and up by turns) plus the frame.
func benchUpDown(b *testing.B, m Model) {
	down, up := press("down"), press("up")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := down
		if i%2 == 1 {
			k = up
		}
		nm, _ := m.Update(k)
		m = nm.(Model)
		_ = m.View()
	}
}

// BenchmarkDetailFrame100k: tab switch inside an open alert (Raw, the
// largest tab) with 100k alerts held.
func BenchmarkDetailFrame100k(b *testing.B) {
	m := keys(b, loaded(b, 100_000), "enter")
	tab := press("tab")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		nm, _ := m.Update(tab)
		m = nm.(Model)
		_ = m.View()
	}
}

// BenchmarkLiveBatch100k: a 50-alert live batch, already turned into rows
// by the Feeder's goroutine, merged into 100k alerts and drawn.
func BenchmarkLiveBatch100k(b *testing.B) {
	m := loaded(b, 100_000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		batch := alertRange(0, 50, 50)
		for j := range batch {
			batch[j].Doc["kibana.alert.uuid"] = fmt.Sprintf("live-%d-%d", i, j)
			batch[j].Doc["kibana.alert.original_time"] = base.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
		}
		rows := buildRows(batch)
		b.StartTimer()
		nm, _ := m.Update(AlertsMsg{rows: rows})
		m = nm.(Model)
		_ = m.View()
	}
}

// TestFrameBudget100k asserts the acceptance numbers: key press to frame
// under 16 ms with 100k alerts, and the process RSS under 200 MB.
func TestFrameBudget100k(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 100k alerts; skipped with -short")
	}
	m := loaded(t, 100_000)
	debug.FreeOSMemory()
	rss := rssMB(t)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("RSS with 100k alerts held: %.1f MB (heap in use %.1f MB)", rss, float64(ms.HeapInuse)/(1<<20))
	if rss > 200 {
		t.Errorf("RSS %.1f MB exceeds 200 MB", rss)
	}
	// Each key is timed three times on copies of the same state and the
	// best kept, so a GC pause does not fail the budget; the budget is on
	// the thread's CPU time (frameCost), so a busy shared core does not.
	var worst time.Duration
	var worstKey string
	for _, k := range []string{"down", "G", "up", "g", "enter", "tab", "tab", "tab", "tab", "tab", "esc", "?", "?", "a", "K", "n"} {
		best := time.Hour
		var next Model
		tries := 3
		if strings.Contains("aKn", k) {
			tries = 1 // mutates shared store state: a repeat would time a no-op
		}
		var wall time.Duration
		for range tries {
			var cpu time.Duration
			next, _, cpu, wall = updateCost(t, m, press(k))
			best = min(best, cpu)
		}
		m = next
		t.Logf("  %-5s %v CPU (%v wall)", k, best, wall)
		if best > worst {
			worst, worstKey = best, k
		}
	}
	t.Logf("worst key→frame with 100k alerts: %v CPU (%s)", worst, worstKey)
	if worst > 16*time.Millisecond {
		t.Errorf("key→frame %v exceeds 16 ms", worst)
	}
}

func rssMB(t testing.TB) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	t.Skip("VmRSS not reported")
	return 0
}

// BenchmarkFilter100k is a KQL filter pass over 100k held alerts (decode +
// predicate on every core), the cost of pressing enter on a new filter.
func BenchmarkFilter100k(b *testing.B) {
	m := loaded(b, 100_000)
	rows := m.st.Snapshot()
	pred, _ := newMemBackend().Compile("process.name : sshd")
	b.ResetTimer()
	for range b.N {
		if vis := alertdb.Filter(rows, "process.name : sshd", pred, alertdb.SortTime); len(vis) != 20_000 {
			b.Fatalf("filter kept %d", len(vis))
		}
	}
}

// BenchmarkFilterFreeText100k is a free-text filter: every field of every
// alert, including the long ones the row index leaves in the JSON.
func BenchmarkFilterFreeText100k(b *testing.B) {
	m := loaded(b, 100_000)
	rows := m.st.Snapshot()
	q := kql.MustParse("sshd")
	b.ResetTimer()
	for range b.N {
		if vis := alertdb.Filter(rows, "sshd", q, alertdb.SortTime); len(vis) != 100_000 {
			b.Fatalf("filter kept %d", len(vis))
		}
	}
}

// TestFilterBudget100k asserts the acceptance number for pressing enter on
// a field filter with 100k alerts held: the pass (index lookup, predicate,
// sort) takes well under a second.
func TestFilterBudget100k(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 100k alerts; skipped with -short")
	}
	m := loaded(t, 100_000)
	rows := m.st.Snapshot()
	for _, tc := range []struct {
		q      string
		kept   int
		budget time.Duration
	}{
		{"process.name : sshd", 20_000, time.Second},
		{"user.name : user7 and not source.ip : 198.51.100.7", 1031 - 5, time.Second}, // i%97 == 7, minus i%24250 == 7
	} {
		q := kql.MustParse(tc.q)
		best := time.Hour
		// Best of three, so a GC pause or a busy shared core does not
		// fail the budget.
		for range 3 {
			start := time.Now()
			vis := alertdb.Filter(rows, tc.q, q, alertdb.SortTime)
			best = min(best, time.Since(start))
			if len(vis) != tc.kept {
				t.Fatalf("%s kept %d, want %d", tc.q, len(vis), tc.kept)
			}
		}
		t.Logf("filter %q over 100k alerts: %v", tc.q, best)
		if best > tc.budget {
			t.Errorf("filter %q took %v, budget %v", tc.q, best, tc.budget)
		}
	}
}

// bigStory is a 10k-event session built from the capture's real events:
// the whole capture repeated with its times shifted, every copy put in
// session 44, only the first copy keeping its alert marks.
func bigStory(tb testing.TB, n int) (Model, *memBackend) {
	tb.Helper()
	c := loadCapture(tb)
	b := newMemBackend()
	b.stories = story.NewStore(0)
	span := c.events[len(c.events)-1].Time - c.events[0].Time + 1000
	var start44 int64 // the login of session 44 the alert names
	for _, e := range c.events {
		if e.Session == 44 {
			start44 = e.SesStart
		}
	}
	for k := 0; b.stories.Stats().Events < n; k++ {
		for _, e := range c.events {
			if b.stories.Stats().Events == n {
				break
			}
			e.Time += int64(k) * span
			e.Session, e.Key = 44, ""
			e.SesStart = start44 // one login
			if k > 0 {
				e.Alert = ""
			}
			b.stories.Add(e)
		}
	}
	m := New(Options{Backend: b, Location: time.UTC, Now: func() time.Time { return captureAt }})
	m, _ = step(tb, m, tea.WindowSizeMsg{Width: 160, Height: 48})
	m, _ = step(tb, m, AlertsMsg{Alerts: c.alerts})
	m = keys(tb, m, "t") // the newest alert: session 44
	if got := len(m.sv.lines); got != n {
		tb.Fatalf("story holds %d events, want %d", got, n)
	}
	m = keys(tb, m, strings.Split("/sftp-server", "")...)
	m = keys(tb, m, "enter")
	return m, b
}

// BenchmarkStoryView10k measures a key press in the story view plus the
// frame, with a 10k-event story open (160×48, wrapping on, a search with
// thousands of matches highlighted): the keys cycle through scrolling,
// paging, both ends and the next match.
func BenchmarkStoryView10k(b *testing.B) {
	m, _ := bigStory(b, 10_000)
	ks := []tea.KeyPressMsg{press("j"), {Code: tea.KeyPgDown}, press("n"), press("G"), press("k"), {Code: tea.KeyPgUp}, press("N"), press("g")}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		nm, _ := m.Update(ks[i%len(ks)])
		m = nm.(Model)
		_ = m.View()
	}
}

// BenchmarkStoryQuery10k is the Cmd behind opening, switching scope and
// every live refresh of a changed 10k-event story: the Backend's answer,
// the lines built and sanitized, the search run. It runs off the UI loop.
func BenchmarkStoryQuery10k(b *testing.B) {
	m, _ := bigStory(b, 10_000)
	sc := m.sv.scope
	q := storyReq{clock: m.clock, b: m.opt.Backend, uuid: m.sv.uuid, origin: m.sv.origin, kind: m.sv.kind, scope: &sc, query: m.sv.query}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if msg := q.run().(storyMsg); len(msg.lines) != 10_000 {
			b.Fatalf("%d lines", len(msg.lines))
		}
	}
}

// TestStoryFrameBudget10k asserts the acceptance number: with a 10k-event
// story open, every key of the view is drawn in under 16 ms.
func TestStoryFrameBudget10k(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 10k-event story; skipped with -short")
	}
	m, _ := bigStory(t, 10_000)
	var worst time.Duration
	var worstKey string
	for _, k := range []string{"g", "j", "pgdown", "pgdown", "n", "n", "N", "G", "k", "pgup", "w", "w", "/", "x", "esc", "tab", "shift+tab"} {
		msg := press(k)
		switch k {
		case "pgdown":
			msg = tea.KeyPressMsg{Code: tea.KeyPgDown}
		case "pgup":
			msg = tea.KeyPressMsg{Code: tea.KeyPgUp}
		}
		best := time.Hour
		var next Model
		var cmd tea.Cmd
		for range 3 {
			var cpu time.Duration
			next, cmd, cpu, _ = updateCost(t, m, msg)
			best = min(best, cpu)
		}
		// Cmds (a search, a scope switch) run off the UI loop; their
		// answer is one more message to install and draw.
		if cmd != nil {
			if out := cmd(); out != nil {
				var cpu time.Duration
				next, _, cpu, _ = updateCost(t, next, out)
				best = max(best, cpu)
			}
		}
		m = next
		t.Logf("  %-9s %v", k, best)
		if best > worst {
			worst, worstKey = best, k
		}
	}
	t.Logf("worst key→frame with a 10k-event story: %v CPU (%s)", worst, worstKey)
	if worst > 16*time.Millisecond {
		t.Errorf("key→frame %v exceeds 16 ms", worst)
	}
}

// TestSortFrameBudget100k: with 100k alerts, sorting by each column keeps
// key→frame under 16 ms. The key only starts the sort (a Cmd over a
// snapshot, off the UI loop) and draws "working…"; installing the sorted
// order when it arrives is a second frame, also under budget. The Cmd's
// own time is logged: it is what the "working…" covers. Best of three,
// on the thread's CPU time (frameCost).
func TestSortFrameBudget100k(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 100k alerts; skipped with -short")
	}
	m := keys(t, loaded(t, 100_000), "down", "down", "down")
	var worst time.Duration
	for i := range 8 {
		k := "s"
		if i == 7 {
			k = "S" // and a reversal
		}
		bestKey, bestInstall, bestCmd := time.Hour, time.Hour, time.Hour
		var next Model
		for range 3 {
			nm, cmd, cpu, _ := updateCost(t, m, press(k))
			bestKey = min(bestKey, cpu)
			start := time.Now()
			res := cmd()
			bestCmd = min(bestCmd, time.Since(start))
			next, _, cpu, _ = updateCost(t, nm, res)
			bestInstall = min(bestInstall, cpu)
		}
		sel := m.selected().UUID()
		m = next
		if m.selected().UUID() != sel {
			t.Errorf("sort by %v moved the selection", m.sortMode)
		}
		t.Logf("  %-12v key→frame %v · sorted order installed→frame %v · sort Cmd (off the UI loop) %v", m.sortMode, bestKey, bestInstall, bestCmd)
		worst = max(worst, bestKey, bestInstall)
	}
	t.Logf("worst sort key→frame with 100k alerts: %v", worst)
	if worst > 16*time.Millisecond {
		t.Errorf("sort key→frame %v exceeds 16 ms", worst)
	}
}

// BenchmarkSort100k: one sort of 100k alerts end to end — the key, the
// Cmd that sorts the snapshot, installing its answer, the frame —
// cycling through every column.
func BenchmarkSort100k(b *testing.B) {
	m := loaded(b, 100_000)
	s := press("s")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		nm, cmd := m.Update(s)
		nm, _ = nm.(Model).Update(cmd())
		m = nm.(Model)
		_ = m.View()
	}
}
