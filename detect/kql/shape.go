package kql

// Shape is what a query reads and how it compares, for callers that plan
// an evaluation (an index of short values, a field subset) without
// evaluating: the TUI's filter pass asks it instead of reading Debug text.
type Shape struct {
	// Fields are the field names referenced, as Fields returns them.
	Fields []string
	// FreeText is set when a value has no field: any field may match.
	FreeText bool
	// Nested is set when a nested query (f:{…}) needs the document's
	// objects, not a flat list of values.
	Nested bool
	// Ranges is set when a field is compared with <, <=, > or >=.
	Ranges bool
	// Wildcards is set when a value holds a wildcard (f:* included).
	Wildcards bool
	// LongestLiteral is the byte length of the longest plain string value
	// compared for equality (booleans and null count as their text).
	LongestLiteral int
}

// Shape describes the parsed query.
func (q *Query) Shape() Shape {
	s := Shape{Fields: q.Fields()}
	var walk func(n *node)
	walk = func(n *node) {
		switch n.kind {
		case kindIs:
			if n.field == nil {
				s.FreeText = true
			}
			if n.value.kind == litWild {
				s.Wildcards = true
			} else if n.value.kind == litString {
				s.LongestLiteral = max(s.LongestLiteral, len(n.value.text))
			}
		case kindRange:
			s.Ranges = true
			if n.field == nil {
				s.FreeText = true
			}
		case kindNested:
			s.Nested = true
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(q.root)
	return s
}
