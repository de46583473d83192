package alertdb

import (
	"github.com/xferhunt/xferhunt/detect/kql"
)

// planQuery learns from the KQL text which fields a filter reads, so the
// pass can use the row index (flat.go). The predicate itself still comes
// from the Backend; this parse only lists fields. nil means "decode every
// row": the text did not parse here, or it holds a nested query over
// objects inside arrays, whose per-object semantics need the document.
func planQuery(text string) *plan {
	q, err := kql.Parse(text)
	if err != nil {
		return nil
	}
	sh := q.Shape()
	// A value longer than maxInline is not in the index: a query that only
	// compares for equality with shorter plain literals can never match it.
	short := !sh.Ranges && !sh.Wildcards && sh.LongestLiteral <= maxInline
	return planFields(sh.Fields, sh.FreeText, short, sh.Nested)
}
