package rules

import "time"

// SetHistoryWindow replaces the rule's history window (the --history-window
// flag), keeping the date-math spelling in step so listings and alerts show
// what actually runs. Call Validate afterwards.
func (r *Rule) SetHistoryWindow(d time.Duration) {
	r.HistoryWindow = d
	r.HistoryStart = nil
	r.HistoryWindowStart = "now-" + FormatDuration(d)
}

// SetNewTermsFields replaces the rule's new-terms fields (the
// --new-terms-fields flag). Call Validate afterwards.
func (r *Rule) SetNewTermsFields(fields []string) {
	r.NewTermsFields = append([]string(nil), fields...)
}
