// Package tui is xferhunt's terminal interface: a single Bubble Tea v2 root
// model that shows live alerts, drills into one, and triages it. It never
// performs I/O itself; everything outside the process goes through Backend
// inside tea.Cmds (see DESIGN.md).
package tui

import (
	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/exceptions"
	"github.com/xferhunt/xferhunt/respond"
	"github.com/xferhunt/xferhunt/story"
	"github.com/xferhunt/xferhunt/triage"
)

// Backend is everything the TUI needs from the rest of xferhunt. The model
// only calls it from tea.Cmds, never from Update or View, so a slow disk or
// a blocked kill(2) cannot freeze the screen.
type Backend interface {
	// SetStatus persists an alert's workflow status in the state store.
	SetStatus(uuid string, status triage.Status) error
	// Statuses returns the persisted statuses, read once at start.
	Statuses() map[string]triage.Status
	// SaveException persists an exception item (a new one, or a saved one
	// of the same id changed) and applies it to the engine at once.
	SaveException(it exceptions.Item) error
	// DeleteException removes a saved exception and applies that at once.
	DeleteException(id string) error
	// Exceptions returns the exceptions saved from the TUI and the ones
	// loaded with --exceptions (read-only).
	Exceptions() (saved, loaded []exceptions.Item)
	// ExportExceptions writes the saved exceptions as a Kibana
	// exception-list export to the new file path.
	ExportExceptions(path string) (int, error)
	// Ephemeral says nothing outlives this run (--ephemeral).
	Ephemeral() bool
	// RecheckFile takes the alert's file facts again, now; refused for
	// alerts whose file is not this host's now.
	RecheckFile(a detect.Alert) (detect.Alert, error)
	// Compile turns a KQL filter into a predicate over alert documents:
	// a *kql.Query lets alertdb evaluate it on its index per rule
	// template, any other Matcher is handed whole documents.
	Compile(kql string) (alertdb.Matcher, error)
	// PlanKill reads what a kill of the alert could end: its process,
	// proved to be still the event's, and its login session's processes;
	// an error refuses the alert outright (not live here, --readonly).
	PlanKill(a detect.Alert) (respond.KillPlan, error)
	// Kill ends the planned process, or with session the whole login
	// session, re-checking every pid just before the signal; logged.
	Kill(a detect.Alert, plan respond.KillPlan, session bool) (string, error)
	// Evidence makes the alert's evidence bundle, or reports the one an
	// earlier press made; logged.
	Evidence(a detect.Alert) (respond.Bundle, error)
	// Quarantine takes every permission off the alert's file; logged.
	Quarantine(a detect.Alert) (string, error)
	// Responses is the response log, oldest first.
	Responses() ([]respond.Entry, error)
	// Export writes the alerts as NDJSON to path.
	Export(path string, alerts []detect.Alert) error
	// RuleGuide returns the rule's investigation guide as markdown.
	RuleGuide() string
	// Story returns the events of a scope in time order, nil when the
	// event store holds none (see package story).
	Story(sc story.Scope) []story.Event
}
