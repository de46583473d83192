package kql

import (
	"strconv"
	"strings"
)

// nodeKind names the KQL function a node stands for (Kibana's kuery AST:
// is, range, and, or, not, nested; match_all for the empty query).
type nodeKind uint8

const (
	kindMatchAll nodeKind = iota
	kindIs
	kindRange
	kindAnd
	kindOr
	kindNot
	kindNested
)

// litKind is the type of a literal node: Kibana's literal holds a string, a
// boolean or null; its wildcard node holds text with wildcard markers.
type litKind uint8

const (
	litString litKind = iota
	litBool
	litNull
	litWild
)

// lit is a literal or wildcard node, with the span it was parsed from.
type lit struct {
	kind   litKind
	text   string   // string value; "true"/"false" for booleans; for a wildcard the segments joined by "*"
	segs   []string // wildcard only: the literal runs between markers (len = markers+1)
	quoted bool     // written in double quotes (never a wildcard, never null/bool)
	pos    int      // byte offset of the literal in the query
	end    int
}

// isLoneWildcard reports whether l is a single wildcard marker (f:*, exists).
func (l *lit) isLoneWildcard() bool {
	return l != nil && l.kind == litWild && len(l.segs) == 2 && l.segs[0] == "" && l.segs[1] == ""
}

// rangeOp is a range operator.
type rangeOp uint8

const (
	opLT rangeOp = iota
	opLTE
	opGT
	opGTE
)

func (o rangeOp) String() string {
	switch o {
	case opLT:
		return "<"
	case opLTE:
		return "<="
	case opGT:
		return ">"
	}
	return ">="
}

func (o rangeOp) name() string {
	switch o {
	case opLT:
		return "lt"
	case opLTE:
		return "lte"
	case opGT:
		return "gt"
	}
	return "gte"
}

// node is one node of the parsed query. Field names inside a nested query
// are kept relative to the nested path, as written.
type node struct {
	kind  nodeKind
	kids  []*node // and, or: two or more; not: one; nested: one
	field *lit    // is, range, nested; nil for free text
	value *lit    // is, range
	op    rangeOp // range
	pos   int     // span in the query text
	end   int
}

// debug renders the node as a compact function-call tree, used by tests to
// pin the parse outcome: or(and(is("a", "b"), ...), ...).
func (n *node) debug(b *strings.Builder) {
	switch n.kind {
	case kindMatchAll:
		b.WriteString("match_all")
	case kindIs:
		b.WriteString("is(")
		n.field.debugField(b)
		b.WriteString(", ")
		n.value.debug(b)
		b.WriteString(")")
	case kindRange:
		b.WriteString("range(")
		n.field.debugField(b)
		b.WriteString(", ")
		b.WriteString(n.op.name())
		b.WriteString(", ")
		n.value.debug(b)
		b.WriteString(")")
	case kindNested:
		b.WriteString("nested(")
		n.field.debugField(b)
		b.WriteString(", ")
		n.kids[0].debug(b)
		b.WriteString(")")
	case kindAnd, kindOr, kindNot:
		b.WriteString(map[nodeKind]string{kindAnd: "and", kindOr: "or", kindNot: "not"}[n.kind])
		b.WriteString("(")
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(", ")
			}
			k.debug(b)
		}
		b.WriteString(")")
	}
}

func (l *lit) debugField(b *strings.Builder) {
	if l == nil {
		b.WriteString("null")
		return
	}
	l.debug(b)
}

// debug: strings as Go-quoted text (prefixed q when written quoted),
// booleans and null bare, wildcards as w"..." with markers as * and literal
// asterisks and backslashes escaped.
func (l *lit) debug(b *strings.Builder) {
	switch l.kind {
	case litNull:
		b.WriteString("null")
	case litBool:
		b.WriteString(l.text)
	case litString:
		if l.quoted {
			b.WriteByte('q')
		}
		b.WriteString(strconv.Quote(l.text))
	case litWild:
		var w strings.Builder
		for i, s := range l.segs {
			if i > 0 {
				w.WriteByte('*')
			}
			w.WriteString(strings.NewReplacer(`\`, `\\`, `*`, `\*`).Replace(s))
		}
		b.WriteByte('w')
		b.WriteString(strconv.Quote(w.String()))
	}
}
