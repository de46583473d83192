package detect

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/sharedtest"
)

// TestAlertFromDefendSample builds an alert from a real Elastic Defend
// document (skipped when the shared samples are absent).
func TestAlertFromDefendSample(t *testing.T) {
	b, err := os.ReadFile(sharedtest.Dir + "/samples/elastic-defend-ecs/endpoint-package-schema-examples/file_modified_linux.json")
	if err != nil {
		t.Skipf("shared samples not available: %v", err)
	}
	var ev ecs.Doc
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	r := testRule()
	e, err := NewEngine([]RuleSpec{{Rule: r, Query: nameMatcher{[]string{"ssh"}}}}, nil, nil,
		Options{NewTermsFields: []string{"process.executable", "host.name"}, Now: func() time.Time { return base }})
	if err != nil {
		t.Fatal(err)
	}
	a := e.Process(ev, Flags{})
	if len(a) != 1 {
		t.Fatalf("%d alerts", len(a))
	}
	d := a[0].Doc
	checks := map[string]string{
		"kibana.alert.reason":        "file event with process ssh, file driver, by root on host1 created medium alert Unusual Remote File Creation.",
		"kibana.alert.original_time": "2020-03-03T19:08:32.746Z",
		"event.kind":                 "signal",
		"event.id":                   "LZuf+05Wl/ji0z7y+++++++3",
		"host.os.platform":           "ubuntu",
		"xferhunt.event_time":        "2020-03-03T19:08:32.746Z",
	}
	for k, want := range checks {
		if got := d.Str(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got := a[0].NewTerms(); len(got) != 2 || got[0] != "/usr/bin/ssh" || got[1] != "host1" {
		t.Errorf("new_terms %v", got)
	}
	if ev.Str("event.kind") != "event" {
		t.Error("building the alert changed the source event")
	}
	if _, err := json.Marshal(d); err != nil {
		t.Fatal(err)
	}
}
