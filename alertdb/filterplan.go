package alertdb

import (
	"strings"

	"github.com/xferhunt/xferhunt/detect/kql"
)

// planQuery learns from the KQL text which fields a filter reads, so the
// pass can hand the predicate documents built from the row index
// (flat.go, reader.go). It serves the filters leafeval.go cannot evaluate
// itself (nested queries, exists on an object, a predicate that is not a
// *kql.Query); this parse only lists fields. nil means "decode every
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
	fields := sh.Fields
	for _, f := range sh.Fields {
		// The predicate may have been compiled with the Defend types
		// (kql.ParseMapped), where f.caseless is f lowercased: read f
		// too. Lowercasing can shorten a string, so long values count.
		if parent, ok := strings.CutSuffix(f, ".caseless"); ok {
			fields = append(fields, parent)
			short = false
		}
	}
	return planFields(fields, sh.FreeText, short, sh.Nested)
}
