package kql

import (
	"strings"
	"time"
)

// FieldType is how a field is mapped, which decides what is(), range() and
// exists mean on it. Every field not listed in Options.FieldTypes is
// Keyword, as ECS maps nearly everything.
type FieldType int

const (
	// Keyword: exact, case-sensitive byte equality; wildcards anchored;
	// lexicographic ranges; values over 1024 bytes (ignore_above) are absent.
	Keyword FieldType = iota
	// Long and Double: numeric equality and ranges; numeric strings in the
	// document are coerced, as Elasticsearch does.
	Long
	Double
	// Date: ISO-8601 (strict_date_optional_time) or epoch milliseconds in
	// the document; query values may use date math (now-1d/d, 2026-01-01||+1M).
	// Equality matches the whole precision written (f:2026-03-01 is that day).
	Date
	// IP: address equality or CIDR containment (10.0.0.0/8); address ranges.
	IP
	// Boolean: true/false (and the strings "true"/"false").
	Boolean
	// CaselessKeyword is a keyword multi-field with a lowercase normaliser,
	// like Defend's process.name.caseless: its values are those of the parent
	// field (the name minus its last segment), lowercased, and the query value
	// is lowercased too.
	CaselessKeyword
)

func (t FieldType) String() string {
	switch t {
	case Long:
		return "long"
	case Double:
		return "double"
	case Date:
		return "date"
	case IP:
		return "ip"
	case Boolean:
		return "boolean"
	case CaselessKeyword:
		return "keyword (lowercase normalizer)"
	}
	return "keyword"
}

// Options configure ParseWith.
type Options struct {
	// FieldTypes maps field names to their types. @timestamp and
	// event.ingested are Date unless listed here; everything else defaults
	// to Keyword.
	FieldTypes map[string]FieldType
	// AllowLeadingWildcards accepts values such as *ptmx. Kibana's
	// buildQueryFromKuery defaults it to false; the detection engine (and
	// Parse) set it to true.
	AllowLeadingWildcards bool
	// Now is the clock for date math ("now-1d"); nil means time.Now. The
	// detection engine resolves "now" at rule execution.
	Now func() time.Time
}

// DefaultOptions are the options Parse uses: the detection engine's
// (leading wildcards allowed) with the default date fields.
func DefaultOptions() Options {
	return Options{AllowLeadingWildcards: true}
}

// DefendFieldTypes returns the non-keyword types of the Elastic Defend and
// ECS mappings that KQL rules commonly touch: the .caseless multi-fields
// (lowercase normaliser), the date fields, and a few numeric and IP fields.
// Use it as Options.FieldTypes (it is a fresh map; add to it freely).
func DefendFieldTypes() map[string]FieldType {
	m := map[string]FieldType{
		"@timestamp":         Date,
		"event.ingested":     Date,
		"event.created":      Date,
		"event.start":        Date,
		"event.end":          Date,
		"process.start":      Date,
		"process.pid":        Long,
		"process.parent.pid": Long,
		"file.size":          Long,
		"source.port":        Long,
		"destination.port":   Long,
		"source.ip":          IP,
		"destination.ip":     IP,
		"host.ip":            IP,
		"file.Ext.entropy":   Double,
	}
	for _, f := range []string{
		"process.name", "process.executable", "process.parent.name", "process.parent.executable",
		"file.path", "file.name", "file.Ext.original.path", "file.Ext.original.name",
		"process.command_line", "process.parent.command_line", "user.name", "dll.path", "dll.name",
		"registry.path", "registry.key", "registry.value",
	} {
		m[f+".caseless"] = CaselessKeyword
	}
	return m
}

// MappedOptions are the detection engine's options with the Elastic
// Defend / ECS field types (DefendFieldTypes): what rules and the TUI filter
// use, so numbers and dates compare as ranges, ip fields by CIDR and the
// .caseless multi-fields case-insensitively, as Elasticsearch would on the
// mapped indices.
func MappedOptions() Options {
	o := DefaultOptions()
	o.FieldTypes = DefendFieldTypes()
	return o
}

// ParseMapped parses query with MappedOptions.
func ParseMapped(query string) (*Query, error) { return ParseWith(query, MappedOptions()) }

// types merges FieldTypes over the default date fields.
func (o *Options) types() map[string]FieldType {
	m := map[string]FieldType{"@timestamp": Date, "event.ingested": Date}
	for k, v := range o.FieldTypes {
		m[k] = v
	}
	return m
}

// parentOf is the source field of a multi-field (process.name.caseless ->
// process.name).
func parentOf(field string) string {
	if i := strings.LastIndexByte(field, '.'); i > 0 {
		return field[:i]
	}
	return field
}
