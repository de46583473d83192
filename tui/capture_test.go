package tui

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditd"
	"github.com/xferhunt/xferhunt/story"
)

// captured is the real capture (testdata/capture/enriched.log) read by the
// real parser with story events on, run through the seed rule, and kept
// ready for a real event store (storeOf) — what `xferhunt demo` shows,
// without a program.
type captured struct {
	alerts []detect.Alert // oldest first, as the engine raised them
	events []story.Event  // every story event, in log order
}

// captureAt is the alert time the fixture's engine stamps, so goldens do
// not depend on the wall clock.
var captureAt = time.Date(2026, 11, 26, 3, 14, 0, 0, time.UTC)

var (
	captureOnce sync.Once
	captureData captured
	captureErr  error
)

// loadCapture parses the capture once per test binary; tests fill their
// own store from it (storeOf), so none sees another's changes.
func loadCapture(tb testing.TB) captured {
	tb.Helper()
	captureOnce.Do(func() { captureData, captureErr = parseCapture() })
	if captureErr != nil {
		tb.Fatal(captureErr)
	}
	return captureData
}

// kqlQuery adapts a parsed KQL query to detect.Matcher, as main does.
type kqlQuery struct{ q *kql.Query }

func (k kqlQuery) Match(d ecs.Doc) bool { return k.q.Match(d) }

func (k kqlQuery) Explain(d ecs.Doc) []detect.Clause {
	var out []detect.Clause
	for _, c := range k.q.Explain(d) {
		out = append(out, detect.Clause{Text: c.Text, Matched: c.Matched})
	}
	return out
}

func parseCapture() (captured, error) {
	log, err := os.ReadFile(filepath.Join("..", "testdata", "capture", "enriched.log"))
	if err != nil {
		return captured{}, err
	}
	r, err := rules.Load("seed")
	if err != nil {
		return captured{}, err
	}
	q, err := kql.Parse(r.Query)
	if err != nil {
		return captured{}, err
	}
	// file.path as the new term, as the terminal e2e test does: every
	// upload outside /run alerts, the hostile name included.
	eng, err := detect.NewEngine([]detect.RuleSpec{{Rule: r, Query: kqlQuery{q}}}, nil, nil, detect.Options{
		HistoryWindow:  1000 * 24 * time.Hour,
		NewTermsFields: []string{"file.path", "host.id"},
		Now:            func() time.Time { return captureAt },
	})
	if err != nil {
		return captured{}, err
	}
	var c captured
	_, err = auditd.Scan(bytes.NewReader(log), auditd.Options{
		HostID: "capture-host", HostName: "vm", Workers: 1, Story: true,
		Emit: func(ev sources.Event) {
			se, ok := story.FromDoc(ev.Doc, ev.Key)
			if !ev.Context {
				for _, a := range eng.Process(ev.Doc, detect.Flags{Key: ev.Key}) {
					c.alerts = append(c.alerts, a)
					if se.Alert == "" {
						se.Alert = a.ID()
					}
				}
			}
			if ok {
				c.events = append(c.events, se)
			}
		},
	})
	return c, err
}

// storeOf fills a fresh event store with events.
func storeOf(evs []story.Event) *story.Store {
	s := story.NewStore(0)
	for _, e := range evs {
		s.Add(e)
	}
	return s
}

// captureModel is a w×h model over the capture: its alerts in the list,
// its events in the backend's store.
func captureModel(tb testing.TB, w, h int) (Model, *memBackend) {
	tb.Helper()
	c := loadCapture(tb)
	b := newMemBackend()
	b.stories = storeOf(c.events)
	m := New(Options{Backend: b, Now: func() time.Time { return captureAt }, Location: time.UTC})
	m, _ = step(tb, m, tea.WindowSizeMsg{Width: w, Height: h})
	m, _ = step(tb, m, AlertsMsg{Alerts: c.alerts})
	m, _ = step(tb, m, captureHealth(len(c.events)))
	return m, b
}

// captureHealth is the status bar a replay of the capture would show.
func captureHealth(events int) HealthMsg {
	return HealthMsg{
		Sources: []sources.Health{{Name: "auditlog:enriched.log", Live: true, Records: 730, Events: uint64(events)}},
		Stats:   Stats{Events: uint64(events), Matches: 5, Alerts: 5, Terms: 5, HistoryWindow: 1000 * 24 * time.Hour, Coverage: captureAt.Add(-time.Minute), Newest: captureAt},
		At:      captureAt,
	}
}
