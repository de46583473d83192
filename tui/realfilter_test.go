package tui

import (
	"slices"
	"testing"

	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/kql"
)

// realFilterQueries are the filter kinds the scale issue names, over the
// fields real alerts carry: free text and phrases (every field, the long
// rule texts and audit records among them), wildcards on short and long
// values, nested queries, exists on an object and on an array of objects,
// negation, and ranges on numbers, dates and keywords.
var realFilterQueries = []string{
	`sftp-server`,
	`"sftp-server"`,
	`xfvictim and not scp`,
	`"Lateral Movement"`,
	`*pwned*`,
	`sftp*`,
	`process.name : sftp-server`,
	`process.name : sftp*`,
	`file.path : *dropped-1*`,
	`event.original : *syscall=257*`,
	`kibana.alert.reason : *sftp-server*`,
	`kibana.alert.rule.note : *`, // over ignore_above: never indexed
	`kibana.alert.rule.description : *remote*`,
	`process.entry_leader.entry_meta.source.ip : 127.0.0.5`,
	`process.entry_leader.entry_meta : { source.ip : 127.0.0.5 and type : ssh }`,
	`process : { parent.pid > 2000 and name : sftp-server }`,
	`process.parent : *`,
	`not process.parent : *`,
	`process.entry_leader : *`,
	`kibana.alert.ancestors : *`,
	`kibana.alert.ancestors : { depth : 0 and type : event }`,
	`threat : { tactic.id : TA0008 }`,
	`not process.name : scp and not file.name : dropped-1*`,
	`not (user.name : xfvictim or source.ip : 127.0.0.1)`,
	`process.pid > 2130`,
	`source.port >= 40000 and source.port < 50000`,
	`@timestamp >= "2026-11-26T03:20:00.000Z"`,
	`kibana.alert.original_time < "2026-11-26T04:00:00Z"`,
	`file.inode > 9`,
	`*.name : sshd`,
	`process.* : 2135`,
	// wildcards in free text reach every row's own long values
	// (event.original) as well as the rule's texts
	`*sftp-server*`,
	`not *dropped-1* and *evil*`,
	`*syscall=257* and not xfvictim`,
	`event.original : *dropped-12-*`,
	`process.name.caseless : SFTP*`,
	`2135 or "Lateral Movement"`,
}

// TestRealFilterMatchesDecoded: over a few thousand real-shaped alerts,
// every filter kind keeps exactly the alerts the straightforward
// evaluation (decode each alert, run the predicate) keeps, with the KQL
// defaults and with the field types the real backend compiles with.
func TestRealFilterMatchesDecoded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 2000 alerts; skipped with -short")
	}
	var rows []*alertdb.Row
	realAlertBatches(t, 2000, func(as []detect.Alert) {
		for _, a := range as {
			rows = append(rows, alertdb.NewRow(a))
		}
	})
	docs := make([]map[string]any, len(rows))
	for i, r := range rows {
		docs[i] = r.Doc()
	}
	for _, mapped := range []bool{false, true} {
		for _, text := range realFilterQueries {
			q, err := kql.Parse(text)
			if mapped {
				q, err = kql.ParseMapped(text)
			}
			if err != nil {
				t.Fatalf("%s: %v", text, err)
			}
			var want []int32
			for i, d := range docs {
				if q.Match(d) {
					want = append(want, int32(i))
				}
			}
			// Handed the query (as the TUI does), and only its predicate.
			for _, m := range []alertdb.Matcher{q, alertdb.MatchFunc(q.Match)} {
				got := alertdb.Filter(rows, text, m, alertdb.SortTime)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("mapped=%v %s (%T): the filter keeps %d alerts, decoding keeps %d", mapped, text, m, len(got), len(want))
				}
			}
			t.Logf("mapped=%v %-70s %d of %d", mapped, text, len(want), len(rows))
		}
	}
}
