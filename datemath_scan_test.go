package main

import (
	"slices"
	"strings"
	"testing"
)

// TestScanHistoryWindowDateMath drives `xferhunt scan` with rule TOMLs
// whose history_window_start and from are date math Kibana accepts and
// xferhunt refused before ("months and years have no fixed length",
// "date-math rounding is not supported"). Each event's window is the
// expression resolved with now = the event's time, as Kibana resolves it
// with now = the run's time:
//
//   - now-1M: T on 01-31 12:00 is new; 02-28 13:00 has 01-31 in
//     [01-28 13:00, …); 03-31 12:00 has 02-28 13:00 in [02-28 12:00, …);
//     05-01 12:00 starts at 04-01 12:00: new. 2 alerts (a fixed 30 days
//     would raise 3: 02-28 13:00 to 03-31 12:00 is 30d23h).
//   - now-30d/d with from now-1d/d: T on 01-01 00:30 is new; 01-31 23:00
//     starts at 01-01 00:00 (rounded down), so 01-01 00:30 is history:
//     1 alert (a fixed 30 days starts at 01-01 23:00: 2).
//
// The file reversed gives the same alerts (scan is order-free).
func TestScanHistoryWindowDateMath(t *testing.T) {
	exe := "/usr/lib/openssh/sftp-server"
	cases := []struct {
		window, from string
		ingested     []string
		want         []string
	}{
		{"now-1M", "", []string{"2026-01-31T12:00:00Z", "2026-02-28T13:00:00Z", "2026-03-31T12:00:00Z", "2026-05-01T12:00:00Z"},
			[]string{"2026-01-31T12:00:00Z", "2026-05-01T12:00:00Z"}},
		{"now-30d/d", `from = "now-1d/d"`, []string{"2026-01-01T00:30:00Z", "2026-01-31T23:00:00Z"},
			[]string{"2026-01-01T00:30:00Z"}},
	}
	for _, c := range cases {
		rule := writeFile(t, "rule.toml", strings.Replace(ruleTOML("event.category:file", c.from), `value = "now-10d"`, `value = "`+c.window+`"`, 1))
		var docs []map[string]any
		for _, ing := range c.ingested {
			docs = append(docs, ingestedDoc(ing, exe))
		}
		for _, order := range []string{"file", "reversed"} {
			if order == "reversed" {
				slices.Reverse(docs)
			}
			as, stderr := scanDocs(t, docs, "--rule", rule)
			if got := sortedField(as, "event.ingested"); !slices.Equal(got, c.want) {
				t.Errorf("%s (%s order): alerts for %v, want %v; stderr: %s", c.window, order, got, c.want, stderr)
				continue
			}
			params, _ := as[0]["kibana.alert.rule.parameters"].(map[string]any)
			if p := params["history_window_start"]; p != c.window {
				t.Errorf("%s: parameters.history_window_start = %v", c.window, p)
			}
		}
	}
}
