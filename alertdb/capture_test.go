package alertdb

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditd"
)

// captureAt is the alert time the engine stamps, so what is derived from
// the capture does not depend on the wall clock.
var captureAt = time.Date(2026, 11, 26, 3, 14, 0, 0, time.UTC)

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

// captureAlerts reads testdata/capture/<name> with the real parser and
// raises alerts with the built-in seed rule through detect's alert
// builder. newTerms overrides the rule's new-terms fields when set.
func captureAlerts(tb testing.TB, name string, newTerms []string) []detect.Alert {
	tb.Helper()
	log, err := os.ReadFile(filepath.Join("..", "testdata", "capture", name))
	if err != nil {
		tb.Fatal(err)
	}
	r, err := rules.Load("seed")
	if err != nil {
		tb.Fatal(err)
	}
	q, err := kql.Parse(r.Query)
	if err != nil {
		tb.Fatal(err)
	}
	eng, err := detect.NewEngine([]detect.RuleSpec{{Rule: r, Query: kqlQuery{q}}}, nil, nil, detect.Options{
		HistoryWindow:  1000 * 24 * time.Hour,
		NewTermsFields: newTerms,
		Now:            func() time.Time { return captureAt },
	})
	if err != nil {
		tb.Fatal(err)
	}
	var out []detect.Alert
	_, err = auditd.Scan(bytes.NewReader(log), auditd.Options{
		HostID: "capture-host", HostName: "vm", Workers: 1,
		Emit: func(ev sources.Event) {
			if !ev.Context {
				out = append(out, eng.Process(ev.Doc, detect.Flags{Key: ev.Key})...)
			}
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
