// Package triage holds the two domain values an analyst triages alerts by,
// as Kibana names them: an alert's severity (kibana.alert.severity) and
// its workflow status (kibana.alert.workflow_status). Detection writes
// them, the state store persists the status, the alert database orders
// and counts by both, and the TUI shows them; each reads them here.
package triage

import "strings"

// Severity orders alerts by kibana.alert.severity.
type Severity int

// Severities from least to most urgent.
const (
	SevUnknown Severity = iota
	SevLow
	SevMedium
	SevHigh
	SevCritical
)

var severityNames = [...]string{"?", "low", "medium", "high", "critical"}

// ParseSeverity reads a rule's or an alert's severity, in any case;
// anything else is SevUnknown.
func ParseSeverity(s string) Severity {
	switch strings.ToLower(s) {
	case "low":
		return SevLow
	case "medium":
		return SevMedium
	case "high":
		return SevHigh
	case "critical":
		return SevCritical
	}
	return SevUnknown
}

// String is the severity as Kibana spells it, "?" when unknown.
func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return severityNames[SevUnknown]
	}
	return severityNames[s]
}

// Status is an alert's workflow status.
type Status int

// Workflow statuses as Kibana names them.
const (
	StatusOpen Status = iota
	StatusAcknowledged
	StatusClosed
)

var statusNames = [...]string{"open", "acknowledged", "closed"}

// String is the status as Kibana (and the state store) spells it.
func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return statusNames[StatusOpen]
	}
	return statusNames[s]
}

// ParseStatus reads a status as Kibana (and the state store) spells it;
// anything unknown is open, so an alert is never hidden by a typo.
func ParseStatus(s string) Status {
	switch s {
	case "acknowledged":
		return StatusAcknowledged
	case "closed":
		return StatusClosed
	}
	return StatusOpen
}

// MarshalText spells the status, so that JSON holds "open", not 0.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a spelled status (ParseStatus).
func (s *Status) UnmarshalText(b []byte) error {
	*s = ParseStatus(string(b))
	return nil
}
