package tui

import (
	"strings"

	"github.com/xferhunt/xferhunt/detect/kql"
)

// planQuery learns from the KQL text which fields a filter reads, so the
// pass can use the row index (flat.go). The predicate itself still comes
// from the Backend; this parse only lists fields. nil means "decode every
// row": the text did not parse here, or it holds a nested query, whose
// per-object semantics need the document's structure.
func planQuery(text string) *plan {
	q, err := kql.Parse(text)
	if err != nil {
		return nil
	}
	dbg := q.Debug()
	if outsideQuotes(dbg, "nested(") {
		return nil
	}
	// Free text is rendered with a null field and matches any field.
	return planFields(q.Fields(), outsideQuotes(dbg, "(null,"))
}

// outsideQuotes reports whether s holds sub outside Go-quoted strings
// (Query.Debug quotes every value and field name).
func outsideQuotes(s, sub string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
			continue
		}
		if strings.HasPrefix(s[i:], sub) {
			return true
		}
	}
	return false
}
