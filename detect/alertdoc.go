package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/ecs"
)

// kibanaTime is the ISO-8601 form Kibana writes alert times in.
const kibanaTime = "2006-01-02T15:04:05.000Z"

// ruleFields builds the kibana.alert.rule.* keys of a rule once; every
// alert gets a deep copy.
func ruleFields(r *rules.Rule, intervalMS int64, maxSignals int) map[string]any {
	typ, category, typeID := "query", "Custom Query Rule", "siem.queryRule"
	switch r.Type {
	case "new_terms":
		typ, category, typeID = "new_terms", "New Terms Rule", "siem.newTermsRule"
	case "eql":
		typ, category, typeID = "eql", "Event Correlation Rule", "siem.eqlRule"
	}
	interval := rules.FormatDuration(time.Duration(intervalMS) * time.Millisecond)
	threat := jsonValue(nonNil(r.Threat))
	immutable := r.Source == "seed" || r.Source == "latest"
	// Kibana's rule_source: prebuilt rules are "external" (from the
	// detection-rules package), others "internal".
	source := map[string]any{"type": "internal"}
	if immutable {
		source = map[string]any{"type": "external", "is_customized": false}
	}
	excList := []any{}
	for _, x := range r.ExceptionsList {
		excList = append(excList, map[string]any{"id": x.ID, "list_id": x.ListID, "namespace_type": x.NamespaceType, "type": x.Type})
	}
	created := kibanaDate(r.CreationDate)
	updated := kibanaDate(r.UpdatedDate)
	if updated == "" {
		updated = created
	}
	// The rule parameters Kibana writes (build_alert's
	// commonRuleParamsToAlertParams plus the type's own); interval is a
	// schedule property, not a parameter.
	params := map[string]any{
		"type":                 typ,
		"query":                r.Query,
		"language":             r.Language,
		"index":                strs(r.Index),
		"filters":              []any{},
		"from":                 r.From,
		"to":                   "now",
		"max_signals":          maxSignals,
		"severity":             r.Severity,
		"severity_mapping":     []any{},
		"risk_score":           r.RiskScore,
		"risk_score_mapping":   []any{},
		"threat":               threat,
		"rule_id":              r.RuleID,
		"version":              r.Version,
		"description":          r.Description,
		"author":               strs(r.Author),
		"license":              r.License,
		"note":                 r.Note,
		"setup":                r.Setup,
		"references":           strs(r.References),
		"false_positives":      strs(r.FalsePositives),
		"exceptions_list":      excList,
		"immutable":            immutable,
		"rule_source":          source,
		"related_integrations": []any{},
		"required_fields":      []any{},
	}
	if r.TimestampOverride != "" {
		params["timestamp_override"] = r.TimestampOverride
	}
	if r.InvestigationFields != nil {
		// Kibana's rule schema nests the list ({field_names: […]}) and
		// build_alert copies it only when the rule has it.
		params["investigation_fields"] = map[string]any{"field_names": strs(r.InvestigationFields)}
	}
	if r.Type == "new_terms" {
		params["new_terms_fields"] = strs(r.NewTermsFields)
		params["history_window_start"] = r.HistoryWindowStart
	}
	m := map[string]any{
		"kibana.alert.rule.name":                 r.Name,
		"kibana.alert.rule.rule_id":              r.RuleID,
		"kibana.alert.rule.uuid":                 ruleUUID(r),
		"kibana.alert.rule.type":                 typ,
		"kibana.alert.rule.version":              r.Version,
		"kibana.alert.rule.category":             category,
		"kibana.alert.rule.rule_type_id":         typeID,
		"kibana.alert.rule.consumer":             "siem",
		"kibana.alert.rule.producer":             "siem",
		"kibana.alert.rule.from":                 r.From,
		"kibana.alert.rule.to":                   "now",
		"kibana.alert.rule.interval":             interval,
		"kibana.alert.rule.max_signals":          maxSignals,
		"kibana.alert.rule.parameters":           params,
		"kibana.alert.rule.threat":               threat,
		"kibana.alert.rule.tags":                 strs(r.Tags),
		"kibana.alert.rule.description":          r.Description,
		"kibana.alert.rule.references":           strs(r.References),
		"kibana.alert.rule.author":               strs(r.Author),
		"kibana.alert.rule.license":              r.License,
		"kibana.alert.rule.severity":             r.Severity,
		"kibana.alert.rule.risk_score":           r.RiskScore,
		"kibana.alert.rule.indices":              strs(r.Index),
		"kibana.alert.rule.immutable":            immutable,
		"kibana.alert.rule.rule_source":          source,
		"kibana.alert.rule.false_positives":      strs(r.FalsePositives),
		"kibana.alert.rule.exceptions_list":      excList,
		"kibana.alert.rule.related_integrations": []any{},
		"kibana.alert.rule.required_fields":      []any{},
		"kibana.alert.rule.risk_score_mapping":   []any{},
		"kibana.alert.rule.severity_mapping":     []any{},
		"kibana.alert.rule.setup":                r.Setup,
		"kibana.alert.rule.revision":             0,
		"kibana.alert.rule.enabled":              true,
		"kibana.alert.rule.actions":              []any{},
		"kibana.alert.rule.meta":                 map[string]any{},
		"kibana.alert.rule.created_by":           "elastic",
		"kibana.alert.rule.updated_by":           "elastic",
		"kibana.alert.rule.execution.type":       "scheduled",
		"kibana.version":                         KibanaVersion,
		"kibana.alert.severity":                  r.Severity,
		"kibana.alert.risk_score":                r.RiskScore,
	}
	if r.TimestampOverride != "" {
		m["kibana.alert.rule.timestamp_override"] = r.TimestampOverride
	}
	if r.Note != "" {
		m["kibana.alert.rule.note"] = r.Note
	}
	if created != "" {
		m["kibana.alert.rule.created_at"] = created
		m["kibana.alert.rule.updated_at"] = updated
	}
	return m
}

// KibanaVersion is the Kibana version whose alert documents xferhunt's
// follow (kibana.version).
const KibanaVersion = "9.2.0"

// ruleUUID stands in for the rule's saved-object id, which Kibana keeps
// apart from rule_id: a UUID derived from rule_id and version, stable
// across runs.
func ruleUUID(r *rules.Rule) string {
	return nameUUID("xferhunt rule\x00" + r.RuleID + "\x00" + strconv.Itoa(r.Version))
}

// nameUUID is a version-5-style UUID of name (SHA-256 based): stable ids
// for things Kibana names with saved-object UUIDs.
func nameUUID(name string) string {
	sum := sha256.Sum256([]byte(name))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// executionUUID names the scheduled run of interval bucket b, stable
// across re-scans.
func executionUUID(ruleUUID any, b int64) string {
	return nameUUID(fmt.Sprint("xferhunt execution\x00", ruleUUID, "\x00", b))
}

// kibanaDate turns a detection-rules date (2025/02/20) into Kibana's form.
func kibanaDate(s string) string {
	t, err := time.Parse("2006/01/02", s)
	if err != nil {
		return ""
	}
	return t.UTC().Format(kibanaTime)
}

// alert builds the alert document of SPEC §6 for ev. tuple is nil for
// query rules; last is the tuple's previous sighting (zero = never).
func (e *Engine) alert(rs *ruleState, ev ecs.Doc, f Flags, ms int64, tuple []string, last time.Time) Alert {
	now := e.now().UTC()
	doc := alertBase(ev, rs.static)
	evKey := eventKey(ev, f.Key)
	nowStr := now.Format(kibanaTime)
	doc["@timestamp"] = nowStr
	// Kibana writes the source's @timestamp as Elasticsearch returns a
	// date: ISO-8601 UTC with milliseconds, whatever format the source
	// used. Kibana omits the field when there is no @timestamp; SPEC §6
	// requires it, so xferhunt then writes the event time it judged by.
	if ts, ok := parseTime(ev.Get("@timestamp")); ok {
		doc["kibana.alert.original_time"] = time.UnixMilli(ts).UTC().Format(kibanaTime)
	} else {
		doc["kibana.alert.original_time"] = time.UnixMilli(ms).UTC().Format(kibanaTime)
	}
	doc["kibana.alert.uuid"] = alertUUID(rs.rule.RuleID, tuple, evKey)
	// One Kibana execution per interval: the run that would have raised it.
	doc["kibana.alert.rule.execution.uuid"] = executionUUID(rs.static["kibana.alert.rule.uuid"], floorDiv(ms, rs.cap.interval))
	doc["kibana.alert.reason"] = reason(ev, rs.rule.Severity, rs.rule.Name)
	doc["kibana.alert.workflow_status"] = "open"
	doc["kibana.alert.workflow_tags"] = []any{}
	doc["kibana.alert.workflow_assignee_ids"] = []any{}
	doc["kibana.alert.status"] = "active"
	doc["kibana.alert.depth"] = 1
	doc["kibana.alert.ancestors"] = []any{map[string]any{
		"id": evKey, "index": ancestorIndex(ev), "type": "event", "depth": 0,
	}}
	doc["kibana.alert.start"] = nowStr
	doc["kibana.alert.last_detected"] = nowStr
	doc["kibana.alert.intended_timestamp"] = nowStr
	doc["kibana.space_ids"] = []any{"default"}

	clauses := []any{}
	for _, c := range rs.query.Explain(ev) {
		clauses = append(clauses, map[string]any{"clause": c.Text, "matched": c.Matched})
	}
	explain := map[string]any{"clauses": clauses}
	if rs.newTerms {
		nt := make([]any, len(tuple))
		for i, v := range tuple {
			nt[i] = v
		}
		doc["kibana.alert.new_terms"] = nt
		explain["new_terms_fields"] = strs(rs.fields)
		explain["history_window"] = rs.window.String()
		if rs.tracker != nil && rs.tracker.Start != nil {
			// Date math (now-30d/d, now-1M): the window this event was
			// judged over, not the longest one the history keeps.
			from := rs.tracker.WindowStart(ms)
			explain["history_window"] = (time.Duration(ms-from) * time.Millisecond).String()
			explain["history_from"] = time.UnixMilli(from).UTC().Format(kibanaTime)
		}
		if last.IsZero() {
			explain["last_seen"] = "never"
		} else {
			explain["last_seen"] = last.UTC().Format(time.RFC3339Nano)
		}
	}
	// The event's own xferhunt fields (session, ancestry, audit details)
	// stay: they are what the responder drills into.
	doc.Set("xferhunt.explain", explain)
	doc.Set("xferhunt.historical", f.Historical)
	doc.Set("xferhunt.loss", f.Loss)
	doc.Set("xferhunt.event_time", time.UnixMilli(ms).UTC().Format(kibanaTime))
	return Alert{Doc: doc}
}

// alertUUID is stable across runs: the same event raising the same tuple
// for the same rule always gets the same id, so a re-scan or a duplicate
// delivery can be recognised (Kibana hashes index, _id, version, rule and
// terms; the event key stands in for index and _id).
func alertUUID(ruleID string, tuple []string, evKey string) string {
	h := sha256.New()
	h.Write([]byte(ruleID))
	h.Write([]byte{0})
	for _, v := range tuple {
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
	h.Write([]byte{1})
	h.Write([]byte(evKey))
	return hex.EncodeToString(h.Sum(nil))
}

// eventKey identifies the source event: the source's own key when it has
// one, else host.id plus event.id, else host.id plus @timestamp plus a hash
// of the whole event (encoding/json sorts keys, so the hash is stable).
func eventKey(ev ecs.Doc, sourceKey string) string {
	if sourceKey != "" {
		return sourceKey
	}
	host := ev.Str("host.id")
	if id := ev.Str("event.id"); id != "" {
		return host + "/" + id
	}
	b, _ := json.Marshal(ev)
	sum := sha256.Sum256(b)
	return host + "/" + ev.Str("@timestamp") + "/" + hex.EncodeToString(sum[:8])
}

// ancestorIndex names the data stream the event would live in, when the
// event says so (Defend and Fleet documents carry data_stream.*).
func ancestorIndex(ev ecs.Doc) string {
	t, d, n := ev.Str("data_stream.type"), ev.Str("data_stream.dataset"), ev.Str("data_stream.namespace")
	if t == "" || d == "" || n == "" {
		return ""
	}
	return t + "-" + d + "-" + n
}

// reason renders Kibana's alert reason sentence. Kibana reads the fields
// from _source and keeps only strings and arrays (anything with a length):
// a numeric source.port is therefore left out, as it is in Kibana.
func reason(ev ecs.Doc, severity, name string) string {
	get := func(path string) (string, bool) { return ecs.Text(ev.Get(path)) }
	var b strings.Builder
	if c, ok := get("event.category"); ok {
		b.WriteString(c + " ")
	}
	b.WriteString("event")
	var parts strings.Builder
	interesting := false
	add := func(format, path string) {
		if v, ok := get(path); ok {
			parts.WriteString(strings.Replace(format, "%", v, 1))
			interesting = true
		}
	}
	add(" process %,", "process.name")
	add(" parent process %,", "process.parent.name")
	add(" file %,", "file.name")
	add(" source %", "source.ip")
	add(":%,", "source.port")
	add(" destination %", "destination.ip")
	add(":%,", "destination.port")
	if interesting {
		b.WriteString(" with")
	}
	b.WriteString(parts.String())
	if u, ok := get("user.name"); ok {
		b.WriteString(" by " + u)
	}
	if h, ok := get("host.name"); ok {
		b.WriteString(" on " + h)
	}
	b.WriteString(" created " + severity + " alert " + name + ".")
	return b.String()
}

// alertKeys is about how many top-level keys an alert adds to its event's
// besides the rule's fields: the document is sized for them at once.
const alertKeys = 24

// alertBase starts an alert document: the event's fields (addNested),
// event.kind replaced as Kibana does (event.original stays), and the
// rule's fields with the top-level threat Kibana copies from the rule.
//
// The rule's fields are shared, not copied: every alert of a rule holds
// the same maps and slices under kibana.alert.rule.* and threat (about 90
// allocations and 10 KB an alert when each got a deep copy). They are
// read-only from here on: nothing downstream writes into a rule field (the
// enricher, liveness and the responder set keys of their own; the TUI's
// triage sets top-level kibana.alert.workflow_* keys), and an alert that
// is changed after it went out is a Clone (live.settle), which copies them.
// TestAlertsShareReadOnlyRuleFields holds every live stage to that.
func alertBase(ev ecs.Doc, static map[string]any) ecs.Doc {
	doc := ecs.Doc(make(map[string]any, len(ev)+len(static)+alertKeys))
	addNested(doc, ev)
	doc.Set("event.kind", "signal")
	for k, v := range static {
		doc[k] = v
	}
	// Kibana copies the rule's MITRE mapping to the top-level threat field.
	doc["threat"] = static["kibana.alert.rule.threat"]
	return doc
}

// addNested deep-copies src into dst as nested objects, expanding dotted
// keys, so the alert shows the event's fields the way _source nests them
// and a dotted spelling and a nested one of the same object merge.
func addNested(dst, src map[string]any) {
	for k, v := range src {
		if m := ecs.AsObject(v); m != nil {
			addNested(object(dst, k), m)
			continue
		}
		ecs.Doc(dst).Set(k, ecs.Clone(v))
	}
}

// object returns the object at the dotted path in dst, creating it (and
// replacing a scalar in the way) when needed.
func object(dst map[string]any, path string) map[string]any {
	for _, part := range strings.Split(path, ".") {
		next, ok := dst[part].(map[string]any)
		if !ok {
			next = map[string]any{}
			dst[part] = next
		}
		dst = next
	}
	return dst
}

func strs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func nonNil(t []rules.Threat) []rules.Threat {
	if t == nil {
		return []rules.Threat{}
	}
	return t
}

// jsonValue turns a typed value into the plain maps and slices alert
// documents are made of.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil
	}
	return out
}

// RuleID returns the alert's kibana.alert.rule.rule_id.
func (a *Alert) RuleID() string { return a.Doc.Str("kibana.alert.rule.rule_id") }

// RuleName returns the alert's kibana.alert.rule.name.
func (a *Alert) RuleName() string { return a.Doc.Str("kibana.alert.rule.name") }

// Severity returns the alert's kibana.alert.severity.
func (a *Alert) Severity() string { return a.Doc.Str("kibana.alert.severity") }

// Reason returns the alert's kibana.alert.reason sentence.
func (a *Alert) Reason() string { return a.Doc.Str("kibana.alert.reason") }

// WorkflowStatus returns the alert's kibana.alert.workflow_status.
func (a *Alert) WorkflowStatus() string { return a.Doc.Str("kibana.alert.workflow_status") }

// NewTerms returns the alert's kibana.alert.new_terms values, in field order.
func (a *Alert) NewTerms() []string {
	var out []string
	for _, v := range a.Doc.Values("kibana.alert.new_terms") {
		s, _ := ecs.Keyword(v)
		out = append(out, s)
	}
	return out
}

// Historical reports whether the alert came from backfill.
func (a *Alert) Historical() bool { b, _ := a.Doc.Get("xferhunt.historical").(bool); return b }

// Loss reports whether events were lost around the alert's event.
func (a *Alert) Loss() bool { b, _ := a.Doc.Get("xferhunt.loss").(bool); return b }

// EventTime returns the detection time of the alert's event (event.ingested
// or @timestamp), zero when unknown.
func (a *Alert) EventTime() time.Time {
	t, err := time.Parse(time.RFC3339Nano, a.Doc.Str("xferhunt.event_time"))
	if err != nil {
		return time.Time{}
	}
	return t
}
