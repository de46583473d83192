package tui

import (
	"time"

	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/respond"
	"github.com/xferhunt/xferhunt/sources"
)

// AlertsMsg delivers a batch of new alerts. Dropped is the running count of
// alerts the Feeder discarded because its buffer was full.
type AlertsMsg struct {
	Alerts  []detect.Alert
	Dropped uint64
	// rows are alerts the Feeder already turned into rows (compressed,
	// columns extracted) outside the UI loop; Alerts is then empty.
	rows []*alertdb.Row
}

// buildRows turns alerts into list rows (extracting columns, compressing).
func buildRows(alerts []detect.Alert) []*alertdb.Row {
	out := make([]*alertdb.Row, len(alerts))
	for i, a := range alerts {
		out[i] = alertdb.NewRow(a)
	}
	return out
}

// Stats are the detection engine's counters shown in the status bar.
type Stats struct {
	Events   uint64
	Matches  uint64
	Alerts   uint64
	HeldBack uint64 // alerts withheld by max_signals
	Terms    uint64 // distinct new_terms tuples known
	// TuplesCapped counts events over detect.MaxTuplesPerEvent.
	TuplesCapped uint64
	// TermsEvicted counts new_terms tuples forgotten at the per-rule cap.
	TermsEvicted uint64
	// Untimed counts events without a usable time (judged at the
	// engine's current time, which they do not move).
	Untimed uint64
	// IgnoredAbove counts matching events with a new-terms value over
	// 1024 bytes (not indexed, so no tuple from it).
	IgnoredAbove uint64
	// StateErrors counts failed term-history writes (full state disk);
	// StateErr is the first one's message.
	StateErrors   uint64
	StateErr      string
	HistoryWindow time.Duration
	// Coverage is the oldest event time the baseline actually holds; the
	// difference to At shows whether the configured window is really covered.
	Coverage time.Time
	// Newest is the newest event time processed: coverage is measured
	// from it, so a replayed or backfilled past reads right. Zero means
	// the health snapshot's own time.
	Newest       time.Time
	EventsPerSec float64
	// StoryEvicted counts events the story store let go to stay within
	// its budget: the oldest stories are incomplete.
	StoryEvicted uint64
}

// HealthMsg is a periodic snapshot of sources and engine. At is the
// sender's clock, so View never has to read the time itself.
type HealthMsg struct {
	Sources []sources.Health
	Stats   Stats
	At      time.Time
}

// Result messages of the Cmds the model issues. Each carries what it was
// about so a late answer can be matched (or ignored) on arrival.
type (
	filterResultMsg struct {
		gen  int
		text string
		pred alertdb.Matcher
		vis  []int32
		upto int // rows [0, upto) were considered; later ones are merged in Update
		err  error
	}
	statusSavedMsg struct {
		uuid, status string
		err          error
	}
	killPlanMsg struct {
		alert detect.Alert
		plan  respond.KillPlan
		err   error
	}
	// actionMsg is the one-line result of a host action (kill,
	// quarantine) for the flash.
	actionMsg struct {
		what, text string
		err        error
	}
	evidenceMsg struct {
		bundle respond.Bundle
		err    error
	}
	responsesMsg struct {
		entries []respond.Entry
		err     error
	}
	exportedMsg struct {
		path string
		n    int
		err  error
	}
)
