package kql

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The parser follows Kibana's current grammar
// (kbn-es-query/src/kuery/grammar/grammar.peggy) production by production,
// as a PEG: ordered choice, greedy repetition, no backtracking inside a
// repetition. Two rewrites keep it linear without changing what it accepts:
//   - "head (Op tail)+ / head" is parsed as "head (Op tail)*" (the second
//     alternative re-parses the same head to the same result);
//   - Nested / Range / FieldValue / Value expressions all start with a
//     literal; the literal at a position is parsed once and reused.
//
// Errors are reported like peggy: at the farthest position any alternative
// reached, with the set of things that would have been accepted there.

// maxDepth bounds the nesting of parentheses and nested queries, so that a
// hostile query cannot exhaust the stack of the parser or the evaluator.
const maxDepth = 200

type parser struct {
	src      string
	allowLW  bool // allowLeadingWildcards
	failPos  int
	expected []string
	hard     *SyntaxError // an error() from a grammar action: ends the parse
	depth    int
	memo     [4]litResult // the last literals parsed, by position
	memoNext int
}

type litResult struct {
	pos int
	l   *lit
	end int
	ok  bool
	set bool
}

// parse parses the whole query into a node tree.
func parse(src string, allowLeadingWildcards bool) (*node, error) {
	p := &parser{src: src, allowLW: allowLeadingWildcards, failPos: -1}
	i := p.spaces(0)
	root, j, ok := p.orQuery(i)
	if p.hard != nil {
		return nil, p.hard
	}
	if !ok {
		root, j = &node{kind: kindMatchAll, pos: i, end: i}, i
	}
	j = p.spaces(j)
	if j == len(src) {
		return root, nil
	}
	p.fail(j, "end of input")
	if ok {
		p.fail(j, `"or"`)
		p.fail(j, `"and"`)
	}
	return nil, p.syntaxError()
}

// fail records that what was expected at pos.
func (p *parser) fail(pos int, what string) {
	if pos < p.failPos {
		return
	}
	if pos > p.failPos {
		p.failPos = pos
		p.expected = p.expected[:0]
	}
	for _, e := range p.expected {
		if e == what {
			return
		}
	}
	p.expected = append(p.expected, what)
}

// isSpaceAt reports the width of the grammar's Space at i (space, TAB, CR,
// LF, U+00A0), or 0.
func (p *parser) isSpaceAt(i int) int {
	if i >= len(p.src) {
		return 0
	}
	switch p.src[i] {
	case ' ', '\t', '\r', '\n':
		return 1
	case 0xC2:
		if i+1 < len(p.src) && p.src[i+1] == 0xA0 {
			return 2
		}
	}
	return 0
}

func (p *parser) spaces(i int) int {
	for {
		w := p.isSpaceAt(i)
		if w == 0 {
			return i
		}
		i += w
	}
}

// wordAt reports whether the ASCII word (lower case) is at i, in any case.
func (p *parser) wordAt(i int, word string) bool {
	if i+len(word) > len(p.src) {
		return false
	}
	for k := 0; k < len(word); k++ {
		c := p.src[i+k]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != word[k] {
			return false
		}
	}
	return true
}

// binOp matches Or / And: Space+ word Space+, returning the end.
func (p *parser) binOp(i int, word string) (int, bool) {
	// Like peggy's named rules OR / AND, a failure is reported at the
	// start only (the caller adds "or"/"and" where a conjunction may go).
	j := p.spaces(i)
	if j == i || !p.wordAt(j, word) {
		return i, false
	}
	k := p.spaces(j + len(word))
	if k == j+len(word) {
		return i, false
	}
	return k, true
}

// not matches Not: 'not'i Space+.
func (p *parser) not(i int) (int, bool) {
	if !p.wordAt(i, "not") {
		return i, false
	}
	k := p.spaces(i + 3)
	if k == i+3 {
		return i, false
	}
	return k, true
}

// keywordAt is the lookahead that ends an unquoted literal:
// Space 'or'i Space / Space 'and'i Space / 'not'i Space.
func (p *parser) keywordAt(i int) bool {
	if w := p.isSpaceAt(i); w > 0 {
		j := i + w
		if p.wordAt(j, "or") && p.isSpaceAt(j+2) > 0 {
			return true
		}
		if p.wordAt(j, "and") && p.isSpaceAt(j+3) > 0 {
			return true
		}
		return false
	}
	return p.wordAt(i, "not") && p.isSpaceAt(i+3) > 0
}

func (p *parser) enter(i int) bool {
	p.depth++
	if p.depth > maxDepth && p.hard == nil {
		p.hard = newSyntaxError(p.src, i, "query nests more than 200 levels of parentheses or nested queries")
	}
	return p.hard == nil
}

func (p *parser) leave() { p.depth-- }

// OrQuery = AndQuery (Or AndQuery)*
func (p *parser) orQuery(i int) (*node, int, bool) {
	return p.chain(i, "or", kindOr, p.andQuery)
}

// AndQuery = NotQuery (And NotQuery)*
func (p *parser) andQuery(i int) (*node, int, bool) {
	return p.chain(i, "and", kindAnd, p.notQuery)
}

func (p *parser) chain(i int, word string, kind nodeKind, sub func(int) (*node, int, bool)) (*node, int, bool) {
	head, j, ok := sub(i)
	if !ok {
		return nil, i, false
	}
	kids := []*node{head}
	for p.hard == nil {
		k, ok := p.binOp(j, word)
		if !ok {
			break
		}
		n, k2, ok := sub(k)
		if !ok {
			break
		}
		kids = append(kids, n)
		j = k2
	}
	if len(kids) == 1 {
		return head, j, true
	}
	return &node{kind: kind, kids: kids, pos: i, end: j}, j, true
}

// NotQuery = Not SubQuery / SubQuery
func (p *parser) notQuery(i int) (*node, int, bool) {
	if p.hard != nil {
		return nil, i, false
	}
	if k, ok := p.not(i); ok {
		if n, j, ok := p.subQuery(k); ok {
			return &node{kind: kindNot, kids: []*node{n}, pos: i, end: j}, j, true
		}
	} else {
		p.fail(i, `"not"`)
	}
	return p.subQuery(i)
}

// SubQuery = '(' Space* OrQuery Space* ')' / NestedQuery
func (p *parser) subQuery(i int) (*node, int, bool) {
	if i < len(p.src) && p.src[i] == '(' {
		if !p.enter(i) {
			return nil, i, false
		}
		n, j, ok := p.orQuery(p.spaces(i + 1))
		p.leave()
		if ok {
			j = p.spaces(j)
			if j < len(p.src) && p.src[j] == ')' {
				return n, j + 1, true
			}
			p.fail(j, `")"`)
			p.fail(j, `"or"`)
			p.fail(j, `"and"`)
		}
	} else {
		p.fail(i, `"("`)
	}
	return p.nestedQuery(i)
}

// NestedQuery = Field Space* ':' Space* '{' Space* OrQuery Space* '}' / Expression
func (p *parser) nestedQuery(i int) (*node, int, bool) {
	if p.hard != nil {
		return nil, i, false
	}
	field, fe, ok := p.literal(i, "field name")
	if !ok {
		return nil, i, false
	}
	j := p.spaces(fe)
	if j < len(p.src) && p.src[j] == ':' {
		k := p.spaces(j + 1)
		if k < len(p.src) && p.src[k] == '{' {
			if !p.enter(k) {
				return nil, i, false
			}
			q, e, ok := p.orQuery(p.spaces(k + 1))
			p.leave()
			if ok {
				e = p.spaces(e)
				if e < len(p.src) && p.src[e] == '}' {
					return &node{kind: kindNested, field: field, kids: []*node{q}, pos: i, end: e + 1}, e + 1, true
				}
				p.fail(e, `"}"`)
				p.fail(e, `"or"`)
				p.fail(e, `"and"`)
			}
		} else {
			p.fail(k, `"{"`)
		}
	}
	return p.expression(i, field, fe)
}

// Expression = FieldRangeExpression / FieldValueExpression / ValueExpression.
// field is the literal already parsed at i (Field and Value share it).
func (p *parser) expression(i int, field *lit, fe int) (*node, int, bool) {
	// FieldRangeExpression = Field Space* RangeOperator Space* Literal
	j := p.spaces(fe)
	if op, k, ok := p.rangeOp(j); ok {
		k = p.spaces(k)
		if v, e, ok := p.literal(k, "value"); ok {
			return &node{kind: kindRange, field: field, value: v, op: op, pos: i, end: e}, e, true
		}
	} else {
		p.fail(j, "range operator")
	}
	// FieldValueExpression = Field Space* ':' Space* ListOfValues
	if j < len(p.src) && p.src[j] == ':' {
		if f, e, ok := p.listOfValues(p.spaces(j + 1)); ok {
			return f(field), e, true
		}
	} else {
		p.fail(j, `":"`)
	}
	// ValueExpression = Value (free text)
	if p.hard != nil {
		return nil, i, false
	}
	if !p.checkLeadingWildcard(field) {
		return nil, i, false
	}
	return &node{kind: kindIs, value: field, pos: i, end: fe}, fe, true
}

func (p *parser) rangeOp(i int) (rangeOp, int, bool) {
	if i >= len(p.src) {
		return 0, i, false
	}
	switch p.src[i] {
	case '<':
		if i+1 < len(p.src) && p.src[i+1] == '=' {
			return opLTE, i + 2, true
		}
		return opLT, i + 1, true
	case '>':
		if i+1 < len(p.src) && p.src[i+1] == '=' {
			return opGTE, i + 2, true
		}
		return opGT, i + 1, true
	}
	return 0, i, false
}

// partial is a value tree waiting for its field (the grammar's partials).
type partial func(field *lit) *node

// ListOfValues = '(' Space* OrListOfValues Space* ')' / Value
func (p *parser) listOfValues(i int) (partial, int, bool) {
	if i < len(p.src) && p.src[i] == '(' {
		if !p.enter(i) {
			return nil, i, false
		}
		f, j, ok := p.valueChain(p.spaces(i+1), "or", kindOr)
		p.leave()
		if ok {
			j = p.spaces(j)
			if j < len(p.src) && p.src[j] == ')' {
				return f, j + 1, true
			}
			p.fail(j, `")"`)
			p.fail(j, `"or"`)
			p.fail(j, `"and"`)
		}
	} else {
		p.fail(i, `"("`)
	}
	if p.hard != nil {
		return nil, i, false
	}
	v, j, ok := p.literal(i, "value")
	if !ok || !p.checkLeadingWildcard(v) {
		return nil, i, false
	}
	return func(field *lit) *node {
		return &node{kind: kindIs, field: field, value: v, pos: v.pos, end: v.end}
	}, j, true
}

// OrListOfValues / AndListOfValues, both as head (Op tail)*.
func (p *parser) valueChain(i int, word string, kind nodeKind) (partial, int, bool) {
	sub := p.notListOfValues
	if kind == kindOr {
		sub = func(i int) (partial, int, bool) { return p.valueChain(i, "and", kindAnd) }
	}
	head, j, ok := sub(i)
	if !ok {
		return nil, i, false
	}
	parts := []partial{head}
	for p.hard == nil {
		k, ok := p.binOp(j, word)
		if !ok {
			break
		}
		f, k2, ok := sub(k)
		if !ok {
			break
		}
		parts = append(parts, f)
		j = k2
	}
	if len(parts) == 1 {
		return head, j, true
	}
	start, end := i, j
	return func(field *lit) *node {
		n := &node{kind: kind, pos: start, end: end}
		for _, f := range parts {
			n.kids = append(n.kids, f(field))
		}
		return n
	}, j, true
}

// NotListOfValues = Not ListOfValues / ListOfValues
func (p *parser) notListOfValues(i int) (partial, int, bool) {
	if k, ok := p.not(i); ok {
		if f, j, ok := p.listOfValues(k); ok {
			return func(field *lit) *node {
				return &node{kind: kindNot, kids: []*node{f(field)}, pos: i, end: j}
			}, j, true
		}
	} else {
		p.fail(i, `"not"`)
	}
	return p.listOfValues(i)
}

// checkLeadingWildcard is the Value action's error(): with leading
// wildcards disabled, an unquoted value starting with * (other than a lone
// *) aborts the parse.
func (p *parser) checkLeadingWildcard(v *lit) bool {
	if p.allowLW || v.kind != litWild || v.segs[0] != "" || v.isLoneWildcard() {
		return true
	}
	p.hard = newSyntaxError(p.src, v.pos, "leading wildcards are disabled (the value starts with *); enable AllowLeadingWildcards or anchor the value")
	return false
}

// literal = QuotedString / UnquotedLiteral, memoised by position (the
// alternatives of NestedQuery / Expression re-read the same literal).
func (p *parser) literal(i int, what string) (*lit, int, bool) {
	for k := range p.memo {
		if r := &p.memo[k]; r.set && r.pos == i {
			if !r.ok {
				p.fail(i, what)
			}
			return r.l, r.end, r.ok
		}
	}
	r := litResult{pos: i, set: true}
	if i < len(p.src) && p.src[i] == '"' {
		r.l, r.end, r.ok = p.quoted(i)
	} else {
		r.l, r.end, r.ok = p.unquoted(i)
	}
	if !r.ok {
		p.fail(i, what)
	}
	p.memo[p.memoNext] = r
	p.memoNext = (p.memoNext + 1) % len(p.memo)
	return r.l, r.end, r.ok
}

func isSpecial(c byte) bool {
	switch c {
	case '\\', '(', ')', ':', '<', '>', '"', '*', '{', '}':
		return true
	}
	return false
}

func hexVal(c byte) (uint16, bool) {
	switch {
	case c >= '0' && c <= '9':
		return uint16(c - '0'), true
	case c >= 'a' && c <= 'f':
		return uint16(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return uint16(c-'A') + 10, true
	}
	return 0, false
}

// unicodeEscape decodes \uXXXX at i (i points at the backslash).
func (p *parser) unicodeEscape(i int) (uint16, bool) {
	if i+6 > len(p.src) || p.src[i+1] != 'u' {
		return 0, false
	}
	var u uint16
	for k := i + 2; k < i+6; k++ {
		h, ok := hexVal(p.src[k])
		if !ok {
			return 0, false
		}
		u = u<<4 | h
	}
	return u, true
}

// textBuf accumulates a literal's characters. \uXXXX escapes are UTF-16 code
// units in JavaScript; adjacent surrogate escapes form one character and a
// lone surrogate becomes U+FFFD.
type textBuf struct {
	b     []byte
	high  uint16 // pending high surrogate
	marks []int  // offsets in b of wildcard markers
}

func (t *textBuf) flush() {
	if t.high != 0 {
		t.b = utf8.AppendRune(t.b, utf8.RuneError)
		t.high = 0
	}
}

func (t *textBuf) unit(u uint16) {
	switch {
	case utf16.IsSurrogate(rune(u)) && u < 0xDC00:
		t.flush()
		t.high = u
	case utf16.IsSurrogate(rune(u)):
		if t.high != 0 {
			t.b = utf8.AppendRune(t.b, utf16.DecodeRune(rune(t.high), rune(u)))
			t.high = 0
		} else {
			t.b = utf8.AppendRune(t.b, utf8.RuneError)
		}
	default:
		t.flush()
		t.b = utf8.AppendRune(t.b, rune(u))
	}
}

func (t *textBuf) str(s string) {
	t.flush()
	t.b = append(t.b, s...)
}

func (t *textBuf) mark() {
	t.flush()
	t.marks = append(t.marks, len(t.b))
}

// QuotedString = '"' QuotedCharacter* '"'
func (p *parser) quoted(i int) (*lit, int, bool) {
	var t textBuf
	esc := false // t is filled only once an escape is seen
	j := i + 1
	for j < len(p.src) {
		c := p.src[j]
		if c == '\\' && !esc {
			esc = true
			t.str(p.src[i+1 : j])
		}
		if !esc && c != '"' {
			j++
			continue
		}
		if c == '"' {
			text := p.src[i+1 : j]
			if esc {
				t.flush()
				text = string(t.b)
			}
			return &lit{kind: litString, text: text, quoted: true, pos: i, end: j + 1}, j + 1, true
		}
		if c == '\\' && j+1 < len(p.src) {
			switch p.src[j+1] {
			case 't':
				t.str("\t")
				j += 2
				continue
			case 'r':
				t.str("\r")
				j += 2
				continue
			case 'n':
				t.str("\n")
				j += 2
				continue
			case '\\', '"':
				t.str(p.src[j+1 : j+2])
				j += 2
				continue
			}
			if u, ok := p.unicodeEscape(j); ok {
				t.unit(u)
				j += 6
				continue
			}
		}
		_, w := utf8.DecodeRuneInString(p.src[j:])
		t.str(p.src[j : j+w])
		j += w
	}
	// No other alternative can consume a '"', so the query cannot parse:
	// say so at the opening quote, as peggy does.
	if p.hard == nil {
		p.hard = newSyntaxError(p.src, i, `unterminated quoted string: no closing '"' before the end of the query`)
	}
	return nil, i, false
}

// UnquotedLiteral = UnquotedCharacter+, trimmed; null/true/false become
// literals; any unescaped * makes it a wildcard. Until the first escape the
// literal is a slice of the query (no copy); stars are remembered by offset.
func (p *parser) unquoted(i int) (*lit, int, bool) {
	var t textBuf
	var stars []int // offsets of '*' from i, while !esc
	esc := false
	j := i
	n := 0
	startEsc := func() {
		esc = true
		prev := 0
		for _, m := range stars {
			t.str(p.src[i+prev : i+m])
			t.mark()
			prev = m + 1
		}
		t.str(p.src[i+prev : j])
	}
loop:
	for j < len(p.src) {
		c := p.src[j]
		if c == '\\' {
			if j+1 >= len(p.src) {
				p.fail(j, "escape sequence")
				break
			}
			d := p.src[j+1]
			var out string
			width := 2
			switch {
			case d == 't':
				out = "\t"
			case d == 'r':
				out = "\r"
			case d == 'n': // before EscapedKeyword: "\not" is a newline then "ot"
				out = "\n"
			case isSpecial(d):
				out = p.src[j+1 : j+2]
			default:
				if u, ok := p.unicodeEscape(j); ok {
					if !esc {
						startEsc()
					}
					t.unit(u)
					j += 6
					n++
					continue loop
				}
				for _, w := range [...]string{"or", "and", "not"} {
					if p.wordAt(j+1, w) {
						out, width = p.src[j+1:j+1+len(w)], 1+len(w)
						break
					}
				}
				if out == "" {
					p.fail(j, "escape sequence")
					break loop
				}
			}
			if !esc {
				startEsc()
			}
			t.str(out)
			j += width
			n++
			continue
		}
		if c == '*' {
			if esc {
				t.mark()
			} else {
				stars = append(stars, j-i)
			}
			j++
			n++
			continue
		}
		if isSpecial(c) || p.keywordAt(j) {
			break
		}
		_, w := utf8.DecodeRuneInString(p.src[j:])
		if esc {
			t.str(p.src[j : j+w])
		}
		j += w
		n++
	}
	if n == 0 {
		return nil, i, false
	}
	if !esc {
		return makeUnquoted(p.src[i:j], stars, 1, i, j), j, true
	}
	t.flush()
	return makeUnquoted(string(t.b), t.marks, 0, i, j), j, true
}

// makeUnquoted trims (JavaScript String.prototype.trim; markers are not
// whitespace) and classifies an unquoted literal. b holds the characters
// with a marker of width mw at each offset in marks.
func makeUnquoted(b string, marks []int, mw int, pos, end int) *lit {
	lo, hi := 0, len(b)
	firstMark, lastMarkEnd := len(b), 0
	if len(marks) > 0 {
		firstMark, lastMarkEnd = marks[0], marks[len(marks)-1]+mw
	}
	for lo < hi && lo < firstMark {
		r, w := utf8.DecodeRuneInString(b[lo:])
		if !isJSSpace(r) {
			break
		}
		lo += w
	}
	for hi > lo && hi > lastMarkEnd {
		r, w := utf8.DecodeLastRuneInString(b[lo:hi])
		if !isJSSpace(r) {
			break
		}
		hi -= w
	}
	l := &lit{pos: pos, end: end}
	if len(marks) == 0 {
		l.text = b[lo:hi]
		switch l.text {
		case "null":
			l.kind = litNull
		case "true", "false":
			l.kind = litBool
		}
		return l
	}
	l.kind = litWild
	l.segs = make([]string, 0, len(marks)+1)
	prev := lo
	for _, m := range marks {
		l.segs = append(l.segs, b[prev:m])
		prev = m + mw
	}
	l.segs = append(l.segs, b[prev:hi])
	l.text = strings.Join(l.segs, "*")
	return l
}

// isJSSpace is the set JavaScript's trim removes: WhiteSpace and
// LineTerminator (Unicode Zs, TAB, VT, FF, BOM, LF, CR, LS, PS).
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}
