package main

import (
	"reflect"
	"strings"
	"testing"
)

// TestScanInvestigationFields: a rule TOML's [rule.investigation_fields]
// reaches the alert as Kibana's build_alert writes it,
// kibana.alert.rule.parameters.investigation_fields = {field_names: […]}
// in the TOML's order; a rule without the table has no such key (Kibana
// copies the parameter only when the rule has it). Before, the table was
// ignored.
func TestScanInvestigationFields(t *testing.T) {
	doc := defendDoc("2026-01-01T00:00:00Z", "/usr/bin/scp", "h1")
	doc["event"].(map[string]any)["ingested"] = "2026-01-01T00:00:00Z"
	with := strings.Replace(ruleTOML("event.category:file", ""), "[rule.new_terms]",
		"[rule.investigation_fields]\nfield_names = [\"user.name\", \"process.executable\", \"file.path\"]\n\n[rule.new_terms]", 1)
	for name, c := range map[string]struct {
		toml string
		want any
	}{
		"with":    {with, map[string]any{"field_names": []any{"user.name", "process.executable", "file.path"}}},
		"without": {ruleTOML("event.category:file", ""), nil},
	} {
		as, stderr := scanDocs(t, []map[string]any{doc}, "--rule", writeFile(t, "rule.toml", c.toml))
		if len(as) != 1 {
			t.Fatalf("%s: %d alerts, want 1; stderr: %s", name, len(as), stderr)
		}
		params, _ := as[0]["kibana.alert.rule.parameters"].(map[string]any)
		got, ok := params["investigation_fields"]
		if c.want == nil && ok || c.want != nil && !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: parameters.investigation_fields = %#v (present %v), want %#v", name, got, ok, c.want)
		}
	}
	bad := strings.Replace(with, `"user.name"`, `" "`, 1)
	r := xferhunt(t, nil, "scan", "--ephemeral", "--rule", writeFile(t, "bad.toml", bad), "-")
	if r.code == 0 || !strings.Contains(r.stderr, "investigation_fields.field_names[0]: empty field name") {
		t.Errorf("empty field name: exit %d, stderr %s", r.code, r.stderr)
	}
}
