package detect

import "github.com/xferhunt/xferhunt/ecs"

// FieldReader is a Matcher that knows every field its answer depends on.
// ok is false when some are not known by name (free text, field-name
// wildcards): any field of a document may then decide.
type FieldReader interface {
	ReadFields() (fields []string, ok bool)
}

// timeFields are what eventTime reads.
var timeFields = []string{"event.ingested", "@timestamp"}

// Sparse describes what Process reads of an event that no rule's query
// matches: the event time and the queries' fields, nothing else (it
// counts the event and moves the clock). fields lists them; whole reports,
// from a document holding only those fields, whether some query matches
// and Process needs the whole event. ok is false when a query cannot list
// its fields. whole is safe for concurrent use (queries are immutable).
// Companions and stories read more: callers that feed them must not use
// it.
func (e *Engine) Sparse() (fields []string, whole func(ecs.Doc) bool, ok bool) {
	fields = append(fields, timeFields...)
	queries := make([]Matcher, 0, len(e.rules))
	for _, rs := range e.rules {
		fr, isFR := rs.query.(FieldReader)
		if !isFR {
			return nil, nil, false
		}
		f, ok := fr.ReadFields()
		if !ok {
			return nil, nil, false
		}
		fields = append(fields, f...)
		queries = append(queries, rs.query)
	}
	return fields, func(d ecs.Doc) bool {
		for _, q := range queries {
			if q.Match(d) {
				return true
			}
		}
		return false
	}, true
}
