package rules

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxNewTermsFields is Kibana's limit on new_terms_fields.
const MaxNewTermsFields = 3

// ErrUnsupported marks a rule xferhunt cannot run (EQL, ES|QL, threshold,
// machine learning …), as opposed to one that is malformed.
var ErrUnsupported = errors.New("unsupported")

// Validate checks what Kibana checks when a rule is saved and run, for the
// subset xferhunt executes: KQL query and new_terms rules. Callers that
// override fields (history window, new-terms fields) call it again.
func (r *Rule) Validate() error {
	if r.Companion != "" {
		if r.Name == "" || r.RuleID == "" {
			return errors.New("companion rule without name or rule_id")
		}
		return nil
	}
	switch r.Language {
	case "kuery":
	case "":
		// Kibana defaults a query rule's language to kuery.
		if r.Type == "new_terms" {
			return errors.New("new_terms rule without language; want language = \"kuery\"")
		}
	default:
		return fmt.Errorf("%w language %q: xferhunt runs KQL (kuery) rules only", ErrUnsupported, r.Language)
	}
	switch r.Type {
	case "query", "new_terms":
	case "":
		return errors.New("missing type; want \"query\" or \"new_terms\"")
	default:
		return fmt.Errorf("%w rule type %q: xferhunt runs query and new_terms rules only", ErrUnsupported, r.Type)
	}
	if r.Name == "" {
		return errors.New("missing name")
	}
	if r.RuleID == "" {
		return errors.New("missing rule_id")
	}
	if strings.TrimSpace(r.Query) == "" {
		return errors.New("empty query")
	}
	switch r.Severity {
	case "low", "medium", "high", "critical":
	default:
		return fmt.Errorf("severity %q: want low, medium, high or critical", r.Severity)
	}
	if r.RiskScore < 0 || r.RiskScore > 100 {
		return fmt.Errorf("risk_score %d: want 0..100", r.RiskScore)
	}
	if r.Interval <= 0 {
		return fmt.Errorf("interval %v: must be positive", r.Interval)
	}
	if r.MaxSignals <= 0 {
		return fmt.Errorf("max_signals %d: must be positive", r.MaxSignals)
	}
	lookback, err := ParseDuration(r.From)
	if err != nil {
		// Rounded or calendar date math: the longest look-back it means.
		_, _, hi, merr := ParseWindowStart(r.From)
		if merr != nil {
			return fmt.Errorf("from: %w", merr)
		}
		lookback = hi
	}
	if lookback <= 0 {
		return fmt.Errorf("from %q: must reach back before now", r.From)
	}
	if r.Type == "new_terms" {
		return r.validateNewTerms(lookback)
	}
	return nil
}

func (r *Rule) validateNewTerms(lookback time.Duration) error {
	n := len(r.NewTermsFields)
	if n < 1 || n > MaxNewTermsFields {
		return fmt.Errorf("new_terms_fields: %d fields, want 1 to %d", n, MaxNewTermsFields)
	}
	seen := map[string]bool{}
	for _, f := range r.NewTermsFields {
		if strings.TrimSpace(f) == "" {
			return errors.New("new_terms_fields: empty field name")
		}
		if seen[f] {
			return fmt.Errorf("new_terms_fields: %q listed twice", f)
		}
		seen[f] = true
	}
	if r.HistoryWindowStart == "" && r.HistoryWindow == 0 {
		return errors.New("missing history_window_start")
	}
	if r.HistoryWindow <= 0 {
		return fmt.Errorf("history window %q: must be positive", r.HistoryWindowStart)
	}
	// Kibana refuses a history window that starts at or after `from`: the
	// window must reach further back than the rule's own look-back.
	shortest := r.HistoryWindow
	if r.HistoryStart != nil {
		shortest, _ = r.HistoryStart.Span()
	}
	if shortest <= lookback {
		return fmt.Errorf("history window %s must be longer than the from look-back %s (%s)",
			FormatDuration(shortest), FormatDuration(lookback), r.From)
	}
	return nil
}
