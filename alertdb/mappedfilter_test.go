package alertdb

import (
	"testing"

	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/internal/sharedtest/alerts"
)

// TestMappedFilterMatchesDecoded: queries compiled with the Defend field
// types, as the TUI compiles them (kql.ParseMapped: dates, ips, numbers,
// .caseless multi-fields), keep on the index the rows decoding keeps. The
// fuzzer parses with keyword types only and cannot reach these testers.
func TestMappedFilterMatchesDecoded(t *testing.T) {
	as := append(append(alerts.TableAlerts(), alerts.Many(50)...), oddAlerts()...)
	rows := buildRows(as)
	for _, qs := range []string{
		`source.ip : 192.0.2.0/24`, `source.ip : 192.0.2.9`, `not source.ip : 192.0.2.9`,
		`source.ip >= 192.0.2.10`, `192.0.2.9`, `*:192.0.2.9`, `source.* : 192.0.2.0/24`,
		`@timestamp > "2026-11-26T01:01:30Z"`, `@timestamp : 2026-11-26`, `@timestamp < now`,
		`not @timestamp >= "2026-11-26T01:02:00Z"`, `xferhunt.file.mtime : *`,
		`process.pid < 40000`, `process.pid : 31337`, `process.* : 31337`, `31337`, `process.pid : *`,
		`source.port : 2121`, `source.port > 2000`, `kibana.alert.risk_score > 50`, `99.5`,
		`process.name.caseless : SCP`, `*.caseless : SCP`, `process.*.caseless : *SSH*`, `SCP`,
		`user.name.caseless : Mallory`, `not process.name.caseless : SCP`,
		`process.name : ""`, `""`, `true`, `xferhunt.historical : false`, `*:false`,
		`labels.team : *`, `not labels.env : *`, `labels : *`, `file.path.caseless : *DEEP*`,
		`kibana.alert.rule.description.caseless : *VARIANT-B*`, `not *.caseless : *VARIANT-A*`,
	} {
		q, err := kql.ParseMapped(qs)
		if err != nil {
			t.Logf("%s: %v", qs, err)
			continue
		}
		filterLikeDecoded(t, rows, qs, q)
	}
}
