// Package alerts builds the alert documents the TUI's and the alert
// store's tests share, so both packages test the same documents.
package alerts

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/ecs"
)

// Spec is one compact alert row: Make fills in the rest of a realistic
// alert around it.
type Spec struct {
	ID, At, Sev, Proc, User, IP, Path string
	Historical                        bool
}

// Base is the reference time of the fixtures (an alert without At is at
// Base; Range counts back from it).
var Base = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

// Make builds a realistic SPEC §6 alert document from a compact spec.
func Make(s Spec) detect.Alert {
	at := s.At
	if at == "" {
		at = Base.Format(time.RFC3339Nano)
	}
	name := s.Path[strings.LastIndex(s.Path, "/")+1:]
	return detect.Alert{Doc: ecs.Doc{
		"@timestamp":                   at,
		"kibana.alert.uuid":            s.ID,
		"kibana.alert.original_time":   at,
		"kibana.alert.severity":        s.Sev,
		"kibana.alert.risk_score":      47.0,
		"kibana.alert.workflow_status": "open",
		"kibana.alert.rule.name":       "Unusual Remote File Creation",
		"kibana.alert.rule.rule_id":    "6a2e4a6b-2ef6-4b3b-9d0c-1f6b5a4e6f2d",
		"kibana.alert.rule.type":       "new_terms",
		"kibana.alert.new_terms":       []any{s.Path, s.Proc},
		"kibana.alert.reason":          fmt.Sprintf("file event with process %s, file %s, by %s on web-01 created with new terms", s.Proc, s.Path, s.User),
		"threat": []any{map[string]any{
			"framework": "MITRE ATT&CK",
			"tactic":    map[string]any{"id": "TA0008", "name": "Lateral Movement"},
			"technique": []any{map[string]any{"id": "T1021", "name": "Remote Services"}},
		}},
		"event":  map[string]any{"category": []any{"file"}, "action": "creation", "type": []any{"creation"}, "original": "type=SYSCALL msg=audit(1764126000.123:4242): arch=c000003e syscall=257 success=yes exit=3 comm=\"" + s.Proc + "\"\ntype=PATH msg=audit(1764126000.123:4242): item=1 name=\"" + s.Path + "\" nametype=CREATE"},
		"host":   map[string]any{"name": "web-01", "ip": []any{"10.0.0.5"}},
		"source": map[string]any{"ip": s.IP, "port": 52114.0},
		"process": map[string]any{
			"name": s.Proc, "pid": 4242.0, "executable": "/usr/sbin/" + s.Proc,
			"args": []any{s.Proc, "-D"}, "working_directory": "/home/" + s.User,
			"parent": map[string]any{"name": "sshd", "pid": 4100.0, "executable": "/usr/sbin/sshd"},
		},
		"user": map[string]any{
			"id": "1001", "name": s.User,
			"effective": map[string]any{"id": "1001", "name": s.User},
			"audit":     map[string]any{"id": "1001", "name": s.User},
		},
		"file": map[string]any{"path": s.Path, "name": name, "mode": "0600", "uid": "1001", "owner": s.User},
		"xferhunt": map[string]any{
			"historical": s.Historical,
			"explain": map[string]any{
				"clauses": []any{
					map[string]any{"clause": `event.category : "file"`, "matched": true},
					map[string]any{"clause": `process.name : ("scp" or "sshd" or "vsftpd" or "sftp-server")`, "matched": true},
					map[string]any{"clause": `not file.path : /tmp/*`, "matched": true},
				},
				"last_seen":        "never",
				"new_terms_fields": []any{"file.path", "process.name"},
				"history_window":   "now-7d",
			},
			"session":  map[string]any{"id": 12.0, "login_time": "2026-11-26T02:58:11Z", "terminal": "ssh", "sshd_pid": 4100.0, "attributed_by": "auid session → sshd accept"},
			"ancestry": []any{map[string]any{"pid": 4242.0, "ppid": 4100.0, "name": s.Proc, "executable": "/usr/sbin/" + s.Proc, "args": []any{s.Proc, "-D"}}, map[string]any{"pid": 4100.0, "ppid": 1.0, "name": "sshd", "executable": "/usr/sbin/sshd", "args": []any{"sshd: " + s.User}}, map[string]any{"pid": 1.0, "ppid": 0.0, "name": "systemd", "executable": "/usr/lib/systemd/systemd"}},
			// The enricher's shape (enrich/fields.go).
			"file": map[string]any{"size": 18234.0, "hash": map[string]any{"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}, "mode": "0644", "owner": s.User, "uid": "1001", "group": s.User, "gid": "1001", "exists": true, "type": "elf", "facts": "final", "facts_at": "2026-11-26T02:10:03Z"},
		},
	}}
}

// Table is five alerts of every severity, two with hostile bytes in
// their paths.
var Table = []Spec{
	{"a1", "2026-11-26T02:10:00Z", "medium", "vsftpd", "alice", "203.0.113.7", "/srv/ftp/upload/payload.bin", true},
	{"a2", "2026-11-26T02:20:00Z", "medium", "sshd", "bob", "198.51.100.23", "/home/bob/.ssh/authorized_keys", false},
	{"a3", "2026-11-26T02:30:00Z", "high", "sftp-server", "carol", "192.0.2.44", "/var/www/html/shell.php", false},
	{"a4", "2026-11-26T02:40:00Z", "low", "scp", "dave", "2001:db8::1", "/opt/app/bin/update\x1b[31mEVIL\x1b[0m.sh", false},
	{"a5", "2026-11-26T02:50:00Z", "critical", "sshd", "root", "203.0.113.99", "/usr/local/bin/kworker\nfake", false},
}

// TableAlerts is Table as alerts.
func TableAlerts() []detect.Alert {
	out := make([]detect.Alert, len(Table))
	for i, s := range Table {
		out[i] = Make(s)
	}
	return out
}

var procs = []string{"sshd", "vsftpd", "sftp-server", "scp", "proftpd"}
var sevs = []string{"low", "medium", "high", "critical"}

// Many builds n distinct alerts, one second apart, half historical.
func Many(n int) []detect.Alert { return Range(0, n, n) }

// Range builds alerts [from, to) of a history of n.
func Range(from, to, n int) []detect.Alert {
	out := make([]detect.Alert, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, Make(Spec{
			ID:         "u" + strconv.Itoa(i),
			At:         Base.Add(time.Duration(i-n) * time.Second).Format(time.RFC3339),
			Sev:        sevs[i%len(sevs)],
			Proc:       procs[i%len(procs)],
			User:       "user" + strconv.Itoa(i%97),
			IP:         fmt.Sprintf("198.51.100.%d", i%250),
			Path:       fmt.Sprintf("/srv/ftp/upload/%d/file-%d.bin", i%1000, i),
			Historical: i < n/2,
		}))
	}
	return out
}
