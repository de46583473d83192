package exceptions

import (
	"strings"
	"sync"

	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/ecs"
)

// Entries on mapped fields behave as Elasticsearch behaves on the Elastic
// Defend / ECS mapping (kql.DefendFieldTypes): match_phrase on an ip field
// is a term query, so "10.0.0.0/8" is a CIDR block; on a long it compares
// numbers ("100" equals 100.0); on a keyword with a lowercase normalizer
// (the .caseless multi-fields) the value is normalised too, so
// file.path.caseless "is" /TMP/A holds for /tmp/a. The comparison is KQL's
// typed one, compiled once per entry.

var (
	mappedTypes = kql.DefendFieldTypes()
	typedCache  sync.Map // cache key → *kql.Query (nil when keyword)
)

// fieldType is the mapped type of field: the Defend table's, and any
// .caseless multi-field (they all carry the lowercase normaliser).
func fieldType(field string) kql.FieldType {
	if t, ok := mappedTypes[field]; ok {
		return t
	}
	if strings.HasSuffix(field, ".caseless") {
		return kql.CaselessKeyword
	}
	return kql.Keyword
}

// typedQuery returns the compiled typed comparison of a match or match_any
// entry (its included sense), or nil when the field is a plain keyword (or
// the value cannot be one of the field's: then, as a failing term query,
// nothing matches — reported by ok=false).
func typedQuery(e *Entry) (q *kql.Query, typed bool) {
	typ := fieldType(e.Field)
	if typ == kql.Keyword {
		return nil, false
	}
	var one [1]string
	vals := e.Values(&one)
	key := e.Field + "\x00" + strings.Join(vals, "\x00")
	if c, ok := typedCache.Load(key); ok {
		return c.(*kql.Query), true
	}
	var b strings.Builder
	b.WriteString(kqlQuote(e.Field))
	b.WriteString(":(")
	for i, v := range vals {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString(kqlQuote(v))
	}
	b.WriteString(")")
	opt := kql.MappedOptions()
	opt.FieldTypes[e.Field] = typ
	compiled, err := kql.ParseWith(b.String(), opt)
	if err != nil || len(vals) == 0 {
		compiled = nil // not a value of the field's type: matches nothing
	}
	typedCache.Store(key, compiled)
	return compiled, true
}

// kqlQuote writes s as a quoted KQL literal.
func kqlQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// typedHolds reports the included sense of a match/match_any entry on a
// mapped field; handled is false for plain keyword fields.
func typedHolds(e *Entry, d ecs.Doc) (holds, handled bool) {
	q, typed := typedQuery(e)
	if !typed {
		return false, false
	}
	return q != nil && q.Match(d), true
}

// caselessWildcard matches an ES wildcard on a .caseless field: the
// normaliser lowercases the pattern and the parent field's values.
func caselessWildcard(d ecs.Doc, field, pat string) bool {
	lp := strings.ToLower(pat)
	parent := field[:strings.LastIndexByte(field, '.')]
	return anyKeyword(d, parent, func(v string) bool { return WildcardMatch(lp, strings.ToLower(v)) })
}

// objectHasValue says an object field holds some indexed leaf value, which
// is what exists means on an object: any of its sub-fields exists.
func objectHasValue(d ecs.Doc, field string) bool {
	for _, o := range d.Objects(field) {
		for _, leaf := range o.Leaves() {
			if len(o.Keywords(leaf)) > 0 {
				return true
			}
		}
	}
	return false
}
