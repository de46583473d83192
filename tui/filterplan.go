package tui

import (
	"strconv"
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
	return planFields(q.Fields(), outsideQuotes(dbg, "(null,"), onlyShortEquality(dbg))
}

// onlyShortEquality reports whether the query (as Query.Debug renders it)
// compares fields only for equality with plain literals of at most
// maxInline bytes: no ranges, no wildcard values. A value longer than that
// can then never match, and the row index may leave it out.
func onlyShortEquality(dbg string) bool {
	if outsideQuotes(dbg, "range(") {
		return false
	}
	for i := 0; i < len(dbg); i++ {
		if dbg[i] != '"' {
			continue
		}
		start := i
		for i++; i < len(dbg) && dbg[i] != '"'; i++ {
			if dbg[i] == '\\' {
				i++
			}
		}
		tok := dbg[start:min(i+1, len(dbg))]
		prefix := start
		if prefix > 0 && (dbg[prefix-1] == 'q' || dbg[prefix-1] == 'w') {
			prefix--
		}
		if prefix > 0 && dbg[prefix-1] == '(' {
			continue // a field name: is("f", …), nested("f", …)
		}
		if dbg[prefix] == 'w' {
			return false // a wildcard value, * (exists) included
		}
		v, err := strconv.Unquote(tok)
		if err != nil || len(v) > maxInline {
			return false
		}
	}
	return true
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
