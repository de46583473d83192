package tui

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/exceptions"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/liveness"
	"github.com/xferhunt/xferhunt/internal/procid"
	"github.com/xferhunt/xferhunt/internal/sharedtest/alerts"
	"github.com/xferhunt/xferhunt/respond"
	"github.com/xferhunt/xferhunt/story"
	"github.com/xferhunt/xferhunt/triage"
)

// The alerts of the tests are internal/sharedtest/alerts', the same as
// the alert store's; these short names keep the tests readable.
type spec = alerts.Spec

var (
	base  = alerts.Base
	table = alerts.Table
)

// testHere is the host the test alerts are live on.
var testHere = liveness.Host{ID: "test-host", Boot: "test-boot"}

// mkAlert is the shared fixture's alert, stamped live on testHere so the
// host actions (K, P, Q) are offered on it.
func mkAlert(s spec) detect.Alert { return liveOnTestHost(alerts.Make(s)) }

func tableAlerts() []detect.Alert {
	as := alerts.TableAlerts()
	for _, a := range as {
		liveOnTestHost(a)
	}
	return as
}

func liveOnTestHost(a detect.Alert) detect.Alert {
	a.Doc.Set("host.id", testHere.ID)
	liveness.Set(a.Doc, liveness.Live, testHere)
	return a
}

// memBackend is an in-memory Backend that records calls.
type memBackend struct {
	mu        sync.Mutex
	statuses  map[string]triage.Status
	excs      exceptions.List // saved through the editor
	ephemeral bool
	rechecked []string
	killed    []int
	// quarantined and responses record host actions.
	quarantined []string
	responses   []respond.Entry
	exported    map[string]int
	guide       string
	compile     func(string) (alertdb.Matcher, error)
	stories     *story.Store
}

func newMemBackend() *memBackend {
	return &memBackend{statuses: map[string]triage.Status{}, exported: map[string]int{}, guide: testGuide}
}

func (b *memBackend) SetStatus(uuid string, status triage.Status) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.statuses[uuid] = status
	return nil
}

func (b *memBackend) Statuses() map[string]triage.Status {
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
func (b *memBackend) Compile(q string) (alertdb.Matcher, error) {
	if b.compile != nil {
		return b.compile(q)
	}
	f, v, ok := strings.Cut(q, ":")
	if !ok {
		return nil, fmt.Errorf("expected field : value in %q", q)
	}
	f, v = strings.TrimSpace(f), strings.Trim(strings.TrimSpace(v), `"`)
	return alertdb.MatchFunc(func(d ecs.Doc) bool {
		for _, k := range d.Keywords(f) {
			if v == "*" || k == v {
				return true
			}
		}
		return false
	}), nil
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
