// Package detect applies rules to normalized events: the KQL query, the
// exceptions and new_terms tracking, and builds alert documents (SPEC §5, §6).
package detect

import "github.com/xferhunt/xferhunt/ecs"

// Alert is one alert raised by a rule. Doc is the alert document of SPEC §6
// exactly as it is printed: kibana.alert.* as dotted top-level keys, the
// event's ECS fields as nested objects, xferhunt's own under "xferhunt"
// (xferhunt.explain, xferhunt.historical, xferhunt.loss, ...).
type Alert struct {
	Doc ecs.Doc
}

// ID returns the alert's kibana.alert.uuid.
func (a *Alert) ID() string { return a.Doc.Str("kibana.alert.uuid") }
