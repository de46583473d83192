package rules

import (
	"slices"
	"strings"
	"testing"
)

// The coverage group loads every rule of the transfers the seed query
// cannot match, each also by its own name, each a complete rule: MITRE
// mapping, severity, an investigation guide, a rule id of its own.
func TestCoverageGroup(t *testing.T) {
	rs, err := LoadAll(Coverage)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 6 {
		t.Fatalf("coverage loads %d rules, want 6", len(rs))
	}
	ids := map[string]bool{}
	for i, r := range rs {
		name := groups[Coverage][i]
		if r.Source != name {
			t.Errorf("rule %d source %q, want %q", i, r.Source, name)
		}
		one, err := LoadAll(name)
		if err != nil || len(one) != 1 || one[0].RuleID != r.RuleID {
			t.Errorf("%s alone: %v %v", name, one, err)
		}
		if ids[r.RuleID] || r.RuleID == "ed3fedc3-dd10-45a5-a485-34a8b48cea46" {
			t.Errorf("%s: rule_id %s not its own", name, r.RuleID)
		}
		ids[r.RuleID] = true
		if len(r.Threat) == 0 || r.Severity == "" || r.RiskScore == 0 || r.Version != 1 {
			t.Errorf("%s: threat %d severity %q risk %d version %d", name, len(r.Threat), r.Severity, r.RiskScore, r.Version)
		}
		if !strings.Contains(r.Note, "### Possible investigation steps") || !strings.Contains(r.Note, "### False positive analysis") {
			t.Errorf("%s: investigation guide lacks its sections", name)
		}
		switch {
		case name == ShellPipe:
			if r.Companion != ShellPipe || r.Type != "eql" {
				t.Errorf("%s: companion %q type %q", name, r.Companion, r.Type)
			}
		default:
			// KQL + new_terms in the seed's form, so Kibana could import it.
			if r.Companion != "" || r.Type != "new_terms" || r.Language != "kuery" ||
				!slices.Equal(r.NewTermsFields, []string{"process.executable", "host.id"}) || r.HistoryWindowStart != "now-10d" {
				t.Errorf("%s: companion %q type %q language %q new terms %v window %q", name, r.Companion, r.Type, r.Language, r.NewTermsFields, r.HistoryWindowStart)
			}
		}
		if r.Directories != (name == "coverage-dirs") {
			t.Errorf("%s: Directories = %v", name, r.Directories)
		}
	}
	if _, err := Load(Coverage); err == nil {
		t.Error("Load of a group name gave one rule")
	}
	if got := Expand("seed"); !slices.Equal(got, []string{"seed"}) {
		t.Errorf("Expand(seed) = %v", got)
	}
}
