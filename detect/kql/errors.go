package kql

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SyntaxError is a query Kibana would refuse: a parse error, or a value
// Elasticsearch rejects when the query is built (an unquoted null, a value
// that is not a number or date for a typed field).
type SyntaxError struct {
	Pos int    // byte offset in the query (0-based)
	Msg string // what was wrong and what was expected

	Line int    // 1-based line of Pos
	Col  int    // 1-based column of Pos, in characters
	Src  string // the query text, for Caret
}

// Error renders "kql: at position N (line L, col C): msg".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("kql: at position %d (line %d, col %d): %s", e.Pos, e.Line, e.Col, e.Msg)
}

// Caret returns the offending line of the query and a second line with a
// caret under the error column, for display under an input box.
func (e *SyntaxError) Caret() string {
	lines := strings.Split(e.Src, "\n")
	if e.Line < 1 || e.Line > len(lines) {
		return ""
	}
	line := lines[e.Line-1]
	pad := strings.Repeat(" ", max(e.Col-1, 0))
	return line + "\n" + pad + "^"
}

func newSyntaxError(src string, pos int, msg string) *SyntaxError {
	pos = min(max(pos, 0), len(src))
	line, col := 1, 1
	for _, r := range src[:pos] {
		if r == '\n' {
			line, col = line+1, 1
			continue
		}
		col++
	}
	return &SyntaxError{Pos: pos, Msg: msg, Line: line, Col: col, Src: src}
}

// expectOrder lists expectations in the order a reader wants them.
var expectOrder = map[string]int{
	"field name": 0, "value": 1, `"("`: 2, `"not"`: 3, `":"`: 4, "range operator": 5,
	`"{"`: 6, `")"`: 7, `"}"`: 8, `"or"`: 9, `"and"`: 10, "whitespace": 11,
	"escape sequence": 12, `closing '"'`: 13, "end of input": 14,
}

// syntaxError builds the error for the farthest failure, peggy style:
// what would have been accepted there, and what was found instead.
func (p *parser) syntaxError() *SyntaxError {
	pos := max(p.failPos, 0)
	exp := append([]string(nil), p.expected...)
	sort.SliceStable(exp, func(a, b int) bool { return expectOrder[exp[a]] < expectOrder[exp[b]] })
	found := "end of input"
	if pos < len(p.src) {
		r, _ := utf8.DecodeRuneInString(p.src[pos:])
		found = strconv.QuoteRune(r)
	}
	var b strings.Builder
	b.WriteString("expected ")
	for i, e := range exp {
		switch {
		case i == 0:
		case i == len(exp)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(e)
	}
	b.WriteString(" but found ")
	b.WriteString(found)
	if h := p.hint(pos); h != "" {
		b.WriteString(" (")
		b.WriteString(h)
		b.WriteString(")")
	}
	return newSyntaxError(p.src, pos, b.String())
}

// hint explains the usual causes of an error at pos.
func (p *parser) hint(pos int) string {
	rest := p.src[pos:]
	before := p.src[:pos]
	switch {
	case strings.HasPrefix(rest, `\`):
		return `outside quotes a backslash only escapes \ ( ) : < > " * { }, \t \r \n \uXXXX and \or \and \not; quote the value to keep a backslash`
	case strings.HasPrefix(rest, ":"):
		return `a ':' inside a value must be escaped as '\:' or the value quoted`
	case len(rest) >= 4 && strings.EqualFold(rest[:3], "not") && p.isSpaceAt(pos+3) > 0:
		if trimmed := strings.TrimRight(before, " \t\r\n"); strings.HasSuffix(trimmed, ":") {
			return "NOT inside a value needs parentheses: f:(not x)"
		}
		if trimmed := strings.TrimRight(before, " \t\r\n"); len(trimmed) >= 3 && strings.EqualFold(trimmed[len(trimmed)-3:], "not") {
			return "a second NOT needs parentheses: not (not x)"
		}
		return `"not " ends an unquoted value even inside a word; quote the value`
	case len(rest) >= 4 && strings.EqualFold(rest[:3], "not") && rest[3] == '(':
		return "NOT must be followed by whitespace: not (...)"
	case strings.HasPrefix(rest, "(") && len(before) >= 3 && strings.EqualFold(before[len(before)-3:], "not"):
		return "NOT must be followed by whitespace: not (...)"
	case pos == len(p.src) && strings.Count(p.src, "(") > strings.Count(p.src, ")"):
		return "unbalanced parentheses"
	}
	return ""
}
