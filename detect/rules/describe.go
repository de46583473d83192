package rules

import (
	"fmt"
	"strconv"
	"strings"
)

// Describe renders the multi-line listing `xferhunt rules` prints for one
// rule: a title line, then aligned "label: value" lines, the query indented
// as written. It ends with a newline. Callers append their own lines (such
// as whether the query parses) in the same "  label: value" shape.
func Describe(r *Rule) string {
	var b strings.Builder
	b.WriteString(r.Name)
	b.WriteByte('\n')
	line := func(label, value string) {
		fmt.Fprintf(&b, "  %-15s %s\n", label+":", value)
	}
	line("rule_id", r.RuleID)
	version := "unknown (not in the rule file)"
	if r.Version > 0 {
		version = strconv.Itoa(r.Version)
	}
	line("version", version)
	typ := r.Type
	if r.Language != "" {
		typ += " (" + r.Language + ")"
	}
	line("type", typ)
	line("severity/risk", r.Severity+" / "+strconv.Itoa(r.RiskScore))
	for i, q := range strings.Split(strings.TrimSpace(r.Query), "\n") {
		if i == 0 {
			line("query", q)
			continue
		}
		fmt.Fprintf(&b, "  %-15s %s\n", "", q)
	}
	if r.Type == "new_terms" {
		line("new terms", strings.Join(r.NewTermsFields, ", "))
		window := FormatDuration(r.HistoryWindow)
		if r.HistoryStart != nil {
			// Resolved at each event's time: say how long it can be.
			lo, hi := r.HistoryStart.Span()
			window = FormatDuration(lo) + " to " + FormatDuration(hi) + " by event time"
		}
		if r.HistoryWindowStart != "" {
			window += " (" + r.HistoryWindowStart + ")"
		}
		line("history window", window)
	}
	line("interval", FormatDuration(r.Interval)+", from "+r.From)
	line("max_signals", strconv.Itoa(r.MaxSignals))
	line("source", displaySource(r.Source))
	return b.String()
}
