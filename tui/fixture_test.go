package tui

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/liveness"
	"github.com/xferhunt/xferhunt/internal/procid"
	"github.com/xferhunt/xferhunt/respond"
	"github.com/xferhunt/xferhunt/story"
)

// testHere is the host the test alerts are live on.
var testHere = liveness.Host{ID: "test-host", Boot: "test-boot"}

// spec is one compact alert row for tests.
type spec struct {
	id, at, sev, proc, user, ip, path string
	historical                        bool
}

var base = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

// mkAlert builds a realistic SPEC §6 alert document from a compact spec.
func mkAlert(s spec) detect.Alert {
	at := s.at
	if at == "" {
		at = base.Format(time.RFC3339Nano)
	}
	name := s.path[strings.LastIndex(s.path, "/")+1:]
	return detect.Alert{Doc: ecs.Doc{
		"@timestamp":                   at,
		"kibana.alert.uuid":            s.id,
		"kibana.alert.original_time":   at,
		"kibana.alert.severity":        s.sev,
		"kibana.alert.risk_score":      47.0,
		"kibana.alert.workflow_status": "open",
		"kibana.alert.rule.name":       "Unusual Remote File Creation",
		"kibana.alert.rule.rule_id":    "6a2e4a6b-2ef6-4b3b-9d0c-1f6b5a4e6f2d",
		"kibana.alert.rule.type":       "new_terms",
		"kibana.alert.new_terms":       []any{s.path, s.proc},
		"kibana.alert.reason":          fmt.Sprintf("file event with process %s, file %s, by %s on web-01 created with new terms", s.proc, s.path, s.user),
		"threat": []any{map[string]any{
			"framework": "MITRE ATT&CK",
			"tactic":    map[string]any{"id": "TA0008", "name": "Lateral Movement"},
			"technique": []any{map[string]any{"id": "T1021", "name": "Remote Services"}},
		}},
		"event":  map[string]any{"category": []any{"file"}, "action": "creation", "type": []any{"creation"}, "original": "type=SYSCALL msg=audit(1764126000.123:4242): arch=c000003e syscall=257 success=yes exit=3 comm=\"" + s.proc + "\"\ntype=PATH msg=audit(1764126000.123:4242): item=1 name=\"" + s.path + "\" nametype=CREATE"},
		"host":   map[string]any{"name": "web-01", "id": testHere.ID, "ip": []any{"10.0.0.5"}},
		"source": map[string]any{"ip": s.ip, "port": 52114.0},
		"process": map[string]any{
			"name": s.proc, "pid": 4242.0, "executable": "/usr/sbin/" + s.proc,
			"args": []any{s.proc, "-D"}, "working_directory": "/home/" + s.user,
			"parent": map[string]any{"name": "sshd", "pid": 4100.0, "executable": "/usr/sbin/sshd"},
		},
		"user": map[string]any{
			"id": "1001", "name": s.user,
			"effective": map[string]any{"id": "1001", "name": s.user},
			"audit":     map[string]any{"id": "1001", "name": s.user},
		},
		"file": map[string]any{"path": s.path, "name": name},
		"xferhunt": map[string]any{
			"live":       map[string]any{"origin": "live", "boot_id": testHere.Boot},
			"historical": s.historical,
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
			"ancestry": []any{map[string]any{"pid": 4242.0, "ppid": 4100.0, "name": s.proc, "executable": "/usr/sbin/" + s.proc, "args": []any{s.proc, "-D"}}, map[string]any{"pid": 4100.0, "ppid": 1.0, "name": "sshd", "executable": "/usr/sbin/sshd", "args": []any{"sshd: " + s.user}}, map[string]any{"pid": 1.0, "ppid": 0.0, "name": "systemd", "executable": "/usr/lib/systemd/systemd"}},
			"file":     map[string]any{"size": 18234.0, "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "mode": "0644", "owner": s.user, "exists": true, "kind": "ELF 64-bit executable"},
		},
	}}
}

var table = []spec{
	{"a1", "2026-11-26T02:10:00Z", "medium", "vsftpd", "alice", "203.0.113.7", "/srv/ftp/upload/payload.bin", true},
	{"a2", "2026-11-26T02:20:00Z", "medium", "sshd", "bob", "198.51.100.23", "/home/bob/.ssh/authorized_keys", false},
	{"a3", "2026-11-26T02:30:00Z", "high", "sftp-server", "carol", "192.0.2.44", "/var/www/html/shell.php", false},
	{"a4", "2026-11-26T02:40:00Z", "low", "scp", "dave", "2001:db8::1", "/opt/app/bin/update\x1b[31mEVIL\x1b[0m.sh", false},
	{"a5", "2026-11-26T02:50:00Z", "critical", "sshd", "root", "203.0.113.99", "/usr/local/bin/kworker\nfake", false},
}

func tableAlerts() []detect.Alert {
	out := make([]detect.Alert, len(table))
	for i, s := range table {
		out[i] = mkAlert(s)
	}
	return out
}

// memBackend is an in-memory Backend that records calls.
type memBackend struct {
	mu         sync.Mutex
	statuses   map[string]string
	exceptions []string
	killed     []int
	// quarantined and responses record host actions.
	quarantined []string
	responses   []respond.Entry
	exported    map[string]int
	guide       string
	compile     func(string) (func(ecs.Doc) bool, error)
	stories     *story.Store
}

func newMemBackend() *memBackend {
	return &memBackend{statuses: map[string]string{}, exported: map[string]int{}, guide: testGuide}
}

func (b *memBackend) SetStatus(uuid, status string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.statuses[uuid] = status
	return nil
}

func (b *memBackend) Statuses() map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.statuses)
}

func (b *memBackend) AddException(field, value string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.exceptions = append(b.exceptions, field+"="+value)
	return nil
}

// Compile understands `field : value` (and `field : *`), which is all the
// tests need; the real KQL package is injected by main.
func (b *memBackend) Compile(q string) (func(ecs.Doc) bool, error) {
	if b.compile != nil {
		return b.compile(q)
	}
	f, v, ok := strings.Cut(q, ":")
	if !ok {
		return nil, fmt.Errorf("expected field : value in %q", q)
	}
	f, v = strings.TrimSpace(f), strings.Trim(strings.TrimSpace(v), `"`)
	return func(d ecs.Doc) bool {
		for _, k := range d.Keywords(f) {
			if v == "*" || k == v {
				return true
			}
		}
		return false
	}, nil
}

// PlanKill offers the alert's pid and a two-process session.
func (b *memBackend) PlanKill(a detect.Alert) (respond.KillPlan, error) {
	pid := int(a.Doc.Get("process.pid").(float64))
	return respond.KillPlan{
		Process: procid.Identity{PID: pid, Name: a.Doc.Str("process.name"), Exe: a.Doc.Str("process.executable")},
		Ses:     "12",
		Session: []procid.Identity{{PID: 4100, PPID: 1, Name: "sshd", Exe: "/usr/sbin/sshd"}, {PID: pid, PPID: 4100, Name: a.Doc.Str("process.name"), Exe: a.Doc.Str("process.executable")}},
	}, nil
}

func (b *memBackend) Kill(a detect.Alert, p respond.KillPlan, session bool) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if session {
		for _, id := range p.Session {
			b.killed = append(b.killed, id.PID)
		}
		b.responses = append(b.responses, respond.Entry{Time: base, Action: respond.ActionKillSession, Alert: a.ID(), Target: "session 12", OK: true, Result: "killed"})
		return "killed session 12", nil
	}
	b.killed = append(b.killed, p.Process.PID)
	b.responses = append(b.responses, respond.Entry{Time: base, Action: respond.ActionKillProcess, Alert: a.ID(), Target: fmt.Sprintf("pid %d", p.Process.PID), OK: true, Result: "killed"})
	return fmt.Sprintf("killed pid %d", p.Process.PID), nil
}

func (b *memBackend) Evidence(a detect.Alert) (respond.Bundle, error) {
	return respond.Bundle{Dir: "/var/lib/xferhunt/evidence/" + a.ID(), Manifest: respond.Manifest{FileSHA: "9f86d081"}}, nil
}

func (b *memBackend) Quarantine(a detect.Alert) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.quarantined = append(b.quarantined, a.Doc.Str("file.path"))
	return "quarantined " + a.Doc.Str("file.path"), nil
}

func (b *memBackend) Responses() ([]respond.Entry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.responses), nil
}

func (b *memBackend) Export(path string, alerts []detect.Alert) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.exported[path] = len(alerts)
	return nil
}

func (b *memBackend) RuleGuide() string { return b.guide }

// Story answers from a real event store when the test gave one.
func (b *memBackend) Story(sc story.Scope) []story.Event {
	if b.stories == nil {
		return nil
	}
	return b.stories.Story(sc)
}

const testGuide = "## Triage and analysis\n\n### Investigating Unusual Remote File Creation\n\nThis rule detects a user creating a file through a **remote** service.\n\n- Check the `process.name` and the [session](https://example.org/x).\n  - Nested point\n1. Identify the source IP.\n\n```\nausearch -i -p 4242\n```\n"

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
