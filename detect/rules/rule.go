// Package rules loads detection-rules TOML files (the format of
// elastic/detection-rules) into Rule values, and embeds the rule this product
// implements in its seed and latest versions.
package rules

import (
	"time"

	"github.com/xferhunt/xferhunt/internal/esdate"
)

// Rule is one detection rule as xferhunt runs it. Fields mirror the
// detection-rules TOML `[rule]` table; durations are already parsed.
type Rule struct {
	// Source says where the rule came from: "seed", "latest" or a file path.
	Source string

	Name        string
	RuleID      string
	Version     int
	Type        string // "new_terms" or "query"
	Language    string // "kuery"
	Query       string
	Index       []string
	Description string
	Note        string // investigation guide, markdown
	Severity    string
	RiskScore   int
	Tags        []string
	References  []string
	Author      []string
	License     string
	Setup       string // setup guide, markdown

	// Maturity and UpdatedDate come from [metadata]; they tell a responder
	// how current a rule file is.
	Maturity     string
	UpdatedDate  string
	CreationDate string
	// FalsePositives are the rule's documented false positives.
	FalsePositives []string
	// InvestigationFields are the fields a rule's author lists first in an
	// alert ([rule.investigation_fields] field_names); nil when the rule
	// has none, which Kibana leaves out of the alert.
	InvestigationFields []string

	// From, Interval and MaxSignals keep Kibana's defaults when the TOML
	// omits them: "now-6m", 5m and 100.
	From              string
	Interval          time.Duration
	MaxSignals        int
	TimestampOverride string

	// NewTermsFields and HistoryWindow come from [rule.new_terms]
	// (HistoryWindowStart is the raw date math, e.g. "now-10d").
	NewTermsFields     []string
	HistoryWindowStart string
	HistoryWindow      time.Duration
	// HistoryStart is set when HistoryWindowStart is date math that no
	// fixed length spells (rounding, months, years): the window of an
	// event at t is [HistoryStart.At(t), t), and HistoryWindow is the
	// longest such window, the history the tracker keeps.
	HistoryStart *esdate.Math

	Threat []Threat

	// ExceptionsList are the exception lists attached to the rule
	// (exceptions_list, as in Kibana's rule API and exports): with any,
	// only items of these lists (and lists given to xferhunt as its own)
	// except the rule's events.
	ExceptionsList []ExceptionListRef

	// Companion, when set, names the built-in evaluator of a companion
	// rule (UploadExec, ShellPipe): its query documents the logic in EQL,
	// and xferhunt runs it in Go over story events instead of as KQL.
	Companion string

	// Directories says the rule looks at directory creations, which the
	// kernel records only when asked: live narrow coverage then adds mkdir
	// rules (built-in coverage-dirs; a rule file cannot say so).
	Directories bool
}

// Threat is one MITRE ATT&CK mapping of a rule.
type Threat struct {
	Framework string      `json:"framework"`
	Tactic    Reference   `json:"tactic"`
	Technique []Technique `json:"technique,omitempty"`
}

// Reference names a MITRE tactic, technique or subtechnique.
type Reference struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Reference string `json:"reference"`
}

// Technique is a MITRE technique with its subtechniques.
type Technique struct {
	Reference
	Subtechnique []Reference `json:"subtechnique,omitempty"`
}

// ExceptionListRef is one entry of a rule's exceptions_list.
type ExceptionListRef struct {
	ID            string // the list's saved-object id
	ListID        string // list_id, what exception items name
	NamespaceType string // "single" or "agnostic"
	Type          string // "detection", "endpoint", "rule_default" …
}
