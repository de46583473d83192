// Package fleet builds what ships xferhunt's alerts from many hosts into one
// Elasticsearch cluster: the index template whose mapping is generated from
// the fields real alert documents carry (index-template.json), and the
// Filebeat input that reads the headless NDJSON (filebeat.yml). Both are
// committed; `XFERHUNT_UPDATE_FLEET=1 go test ./fleet` writes the template
// again from the alerts of the repository's captures.
package fleet

import (
	"bytes"
	"encoding/json"
	"math"
	"net/netip"
	"sort"
	"strings"

	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/esdate"
)

// DataStream is where the alerts land: Elastic's data stream naming
// (type-dataset-namespace), so the cluster's logs lifecycle applies and
// Discover finds them under logs-*.
const (
	DataStream    = "logs-xferhunt.alerts-default"
	IndexPattern  = "logs-xferhunt.alerts-*"
	TemplateName  = "logs-xferhunt.alerts"
	ignoreAbove   = 1024
	templatePrio  = 250 // above the built-in logs-*-* template (100)
	documentIDKey = "kibana.alert.uuid"
)

// Elasticsearch field types the template uses.
const (
	Keyword = "keyword"
	Long    = "long"
	Double  = "double"
	Date    = "date"
	IP      = "ip"
	Boolean = "boolean"
)

// dateFields are the alert's times besides @timestamp and event.ingested:
// Kibana maps them as dates in .alerts-security.
var dateFields = map[string]bool{
	"kibana.alert.original_time":      true,
	"kibana.alert.start":              true,
	"kibana.alert.last_detected":      true,
	"kibana.alert.intended_timestamp": true,
	"kibana.alert.rule.created_at":    true,
	"kibana.alert.rule.updated_at":    true,
}

// Fields returns every leaf field of docs (dotted path) with the type the
// template maps it as: the Defend/ECS type when KQL knows one, a date for
// the alert's times, else from the JSON value (boolean, long or double for
// numbers, keyword for strings). A field seen with two kinds of value is a
// keyword, which takes both.
func Fields(docs []ecs.Doc) map[string]string {
	known := kql.DefendFieldTypes()
	out := map[string]string{}
	for _, d := range docs {
		walk(map[string]any(d), "", func(path string, v any) {
			t := typeOf(path, v, known)
			if old, ok := out[path]; ok && old != t {
				if (old == Long && t == Double) || (old == Double && t == Long) {
					t = Double
				} else {
					t = Keyword
				}
			}
			out[path] = t
		})
	}
	return out
}

func typeOf(path string, v any, known map[string]kql.FieldType) string {
	if t, ok := known[path]; ok {
		switch t {
		case kql.Date:
			return Date
		case kql.Long:
			return Long
		case kql.Double:
			return Double
		case kql.IP:
			return IP
		case kql.Boolean:
			return Boolean
		}
	}
	if dateFields[path] {
		return Date
	}
	if ecs.Kind(v) == ecs.KindBool {
		return Boolean
	}
	if integral, ok := ecs.Integral(v); ok {
		if integral {
			return Long
		}
		return Double
	}
	return Keyword
}

// walk calls fn with every scalar under m and its dotted path; arrays give
// their elements the array's path, as Elasticsearch indexes them.
func walk(m map[string]any, prefix string, fn func(string, any)) {
	for k, v := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		walkValue(p, v, fn)
	}
}

func walkValue(p string, v any, fn func(string, any)) {
	switch ecs.Kind(v) {
	case ecs.KindNull:
	case ecs.KindObject:
		walk(ecs.AsObject(v), p, fn)
	case ecs.KindArray:
		for i, n := 0, ecs.Len(v); i < n; i++ {
			walkValue(p, ecs.Elem(v, i), fn)
		}
	default:
		fn(p, v)
	}
}

// Accepts reports whether Elasticsearch indexes v into a field of type t
// without a mapping error: what the template test checks for every value
// of real alerts.
func Accepts(t string, v any) bool {
	switch t {
	case Keyword:
		return true // numbers and booleans are indexed as their text
	case Boolean:
		_, ok := v.(bool)
		if s, isStr := v.(string); isStr {
			return s == "true" || s == "false"
		}
		return ok
	case Long, Double:
		if _, ok := ecs.NumberLiteral(v); ok {
			return true
		}
		if !ecs.IsDecoded(v) {
			return false
		}
		x, _ := ecs.Float(v)
		return t == Double || x == math.Trunc(x)
	case Date:
		if x, ok := v.(string); ok {
			_, _, err := esdate.Parse(x)
			return err == nil
		}
		return ecs.IsDecoded(v)
	case IP:
		s, ok := v.(string)
		if !ok {
			return false
		}
		_, err := netip.ParseAddr(s)
		return err == nil
	}
	return false
}

// Template returns the composable index template (PUT
// _index_template/logs-xferhunt.alerts) mapping fields as nested
// properties; keywords carry ignore_above 1024 as ECS does, so a long
// value (event.original, the rule's guide) is kept in _source but not
// indexed, the limit KQL on alerts observes too.
func Template(fields map[string]string) []byte {
	props := map[string]any{}
	paths := make([]string, 0, len(fields))
	for p := range fields {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		m := props
		parts := strings.Split(p, ".")
		for i, part := range parts {
			if i == len(parts)-1 {
				leaf := map[string]any{"type": fields[p]}
				if fields[p] == Keyword {
					leaf["ignore_above"] = ignoreAbove
				}
				if old, ok := m[part].(map[string]any); ok && old["properties"] != nil {
					// An object and a leaf at one path: the object wins
					// (real alerts have none; the test says so).
					continue
				}
				m[part] = leaf
				continue
			}
			next, ok := m[part].(map[string]any)
			if !ok || next["properties"] == nil {
				next = map[string]any{"properties": map[string]any{}}
				m[part] = next
			}
			m = next["properties"].(map[string]any)
		}
	}
	t := map[string]any{
		"index_patterns": []string{IndexPattern},
		"data_stream":    map[string]any{},
		"priority":       templatePrio,
		"_meta": map[string]any{
			"description": "xferhunt alerts (headless NDJSON shipped by Filebeat); generated by go test ./fleet from real alert documents",
		},
		"template": map[string]any{
			"settings": map[string]any{"index.mapping.total_fields.limit": 2000},
			"mappings": map[string]any{
				"dynamic":    true,
				"properties": props,
			},
		},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(t)
	return buf.Bytes()
}
