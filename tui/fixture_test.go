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
	"github.com/xferhunt/xferhunt/detect/exceptions"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/story"
)

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
		"host":   map[string]any{"name": "web-01", "ip": []any{"10.0.0.5"}},
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
		"file": map[string]any{"path": s.path, "name": name, "mode": "0600", "uid": "1001", "owner": s.user},
		"xferhunt": map[string]any{
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
			// The enricher's shape (enrich/fields.go).
			"file": map[string]any{"size": 18234.0, "hash": map[string]any{"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}, "mode": "0644", "owner": s.user, "uid": "1001", "group": s.user, "gid": "1001", "exists": true, "type": "elf", "facts": "final", "facts_at": "2026-11-26T02:10:03Z"},
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
	mu        sync.Mutex
	statuses  map[string]string
	excs      exceptions.List // saved through the editor
	ephemeral bool
	rechecked []string
	killed    []int
	exported  map[string]int
	guide     string
	compile   func(string) (func(ecs.Doc) bool, error)
	stories   *story.Store
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

func (b *memBackend) SaveException(it exceptions.Item) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.excs.Items {
		if b.excs.Items[i].ID == it.ID {
			b.excs.Items[i] = it
			return nil
		}
	}
	b.excs.Add(it)
	return nil
}

func (b *memBackend) DeleteException(id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(b.excs.Items)
	b.excs.Items = slices.DeleteFunc(b.excs.Items, func(it exceptions.Item) bool { return it.ID == id })
	if len(b.excs.Items) == n {
		return fmt.Errorf("no exception %q", id)
	}
	return nil
}

func (b *memBackend) Exceptions() (saved, loaded []exceptions.Item) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.excs.Items), nil
}

// ExportExceptions writes the real Kibana export (the path is a test's
// temporary directory).
func (b *memBackend) ExportExceptions(path string) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.excs.Items), b.excs.SaveFile(path)
}

func (b *memBackend) Ephemeral() bool { return b.ephemeral }

func (b *memBackend) RecheckFile(a detect.Alert) (detect.Alert, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rechecked = append(b.rechecked, a.ID())
	upd := detect.Alert{Doc: a.Doc.Clone()}
	upd.Doc.Set("xferhunt.file.facts", "final")
	return upd, nil
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

func (b *memBackend) Kill(pid int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.killed = append(b.killed, pid)
	return nil
}

func (b *memBackend) PreserveEvidence(a detect.Alert) (string, string, error) {
	return "/var/lib/xferhunt/evidence/" + a.ID(), "9f86d081", nil
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
