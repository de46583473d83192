package kql

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Rendering turns a node back into KQL that parses to the same tree: it is
// what Explain shows. Runs of one field (f:a or f:b) are written as a value
// list, f:(a or b); parentheses are added where precedence needs them;
// values are quoted only when they were.

const (
	precOr = iota + 1
	precAnd
	precNot
	precAtom
)

func prec(n *node) int {
	switch n.kind {
	case kindOr:
		return precOr
	case kindAnd:
		return precAnd
	case kindNot:
		return precNot
	}
	return precAtom
}

func renderKQL(n *node) string {
	var b strings.Builder
	renderNode(&b, n)
	return b.String()
}

func renderNode(b *strings.Builder, n *node) {
	switch n.kind {
	case kindMatchAll:
		b.WriteString("*:*")
	case kindIs:
		if n.field != nil && n.field.kind != litNull {
			renderLit(b, n.field)
			b.WriteByte(':')
		}
		renderLit(b, n.value)
	case kindRange:
		renderLit(b, n.field)
		b.WriteString(" " + n.op.String() + " ")
		renderLit(b, n.value)
	case kindNested:
		renderLit(b, n.field)
		b.WriteString(":{ ")
		renderNode(b, n.kids[0])
		b.WriteString(" }")
	case kindNot:
		b.WriteString("not ")
		renderChild(b, n.kids[0], precAtom)
	case kindAnd, kindOr:
		if f := groupField(n); f != nil {
			renderLit(b, f)
			b.WriteString(":(")
			renderValues(b, n)
			b.WriteByte(')')
			return
		}
		op := " and "
		if n.kind == kindOr {
			op = " or "
		}
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(op)
			}
			// a child of the same kind came from parentheses: keep them
			renderChild(b, k, prec(n)+1)
		}
	}
}

func renderChild(b *strings.Builder, n *node, need int) {
	if prec(n) >= need || (n.kind == kindAnd || n.kind == kindOr) && groupField(n) != nil {
		renderNode(b, n)
		return
	}
	b.WriteByte('(')
	renderNode(b, n)
	b.WriteByte(')')
}

// groupField returns the field shared by every leaf of an and/or/not tree
// of is() nodes, or nil.
func groupField(n *node) *lit {
	var f *lit
	var walk func(*node) bool
	walk = func(n *node) bool {
		switch n.kind {
		case kindIs:
			if n.field == nil || n.field.kind == litNull {
				return false
			}
			if f == nil {
				f = n.field
				return true
			}
			return sameLit(f, n.field)
		case kindAnd, kindOr, kindNot:
			for _, k := range n.kids {
				if !walk(k) {
					return false
				}
			}
			return true
		}
		return false
	}
	if !walk(n) {
		return nil
	}
	return f
}

func sameLit(a, b *lit) bool {
	return a.kind == b.kind && a.text == b.text && a.quoted == b.quoted && slices.Equal(a.segs, b.segs)
}

// renderValues writes the inside of a value list.
func renderValues(b *strings.Builder, n *node) {
	switch n.kind {
	case kindIs:
		renderLit(b, n.value)
	case kindNot:
		b.WriteString("not ")
		renderValueChild(b, n.kids[0], precAtom)
	case kindAnd, kindOr:
		op := " and "
		if n.kind == kindOr {
			op = " or "
		}
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(op)
			}
			renderValueChild(b, k, prec(n)+1)
		}
	}
}

func renderValueChild(b *strings.Builder, n *node, need int) {
	if prec(n) >= need {
		renderValues(b, n)
		return
	}
	b.WriteByte('(')
	renderValues(b, n)
	b.WriteByte(')')
}

// renderLit writes a literal as KQL: quoted when it was written quoted (or
// cannot be written unquoted), otherwise escaped so that it reads back the
// same.
func renderLit(b *strings.Builder, l *lit) {
	switch l.kind {
	case litNull:
		b.WriteString("null")
		return
	case litBool:
		b.WriteString(l.text)
		return
	case litString:
		if l.quoted || l.text == "" || l.text != strings.TrimFunc(l.text, isJSSpace) {
			renderQuoted(b, l.text)
			return
		}
	}
	segs := l.segs
	if l.kind == litString {
		segs = []string{l.text}
	}
	renderUnquoted(b, segs)
}

func renderQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			b.WriteByte(s[i]) // not UTF-8: copied as is, read back as is
			i++
			continue
		}
		i += w
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\n':
			b.WriteString(`\n`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(b, `\u%04x`, r)
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// renderUnquoted writes literal segments joined by wildcard markers. The
// keyword lookaheads (" or ", " and ", "not ") are broken with escapes;
// "\not" cannot be used (the grammar reads it as \n + "ot"), so a lower-case
// "not" is written "\u006eot". The end of the literal counts as whitespace,
// because what follows it may be.
func renderUnquoted(b *strings.Builder, segs []string) {
	if plainSegs(segs) {
		for i, s := range segs {
			if i > 0 {
				b.WriteByte('*')
			}
			b.WriteString(s)
		}
		return
	}
	// flatten into runes with markers (-1)
	var rs []rune
	var raw []bool // byte that is not valid UTF-8: copy as is
	for i, s := range segs {
		if i > 0 {
			rs = append(rs, -1)
			raw = append(raw, false)
		}
		for j := 0; j < len(s); {
			r, w := utf8.DecodeRuneInString(s[j:])
			if r == utf8.RuneError && w == 1 {
				rs = append(rs, rune(s[j]))
				raw = append(raw, true)
			} else {
				rs = append(rs, r)
				raw = append(raw, false)
			}
			j += w
		}
	}
	spaceAt := func(i int) bool { return i >= len(rs) || rs[i] == ' ' }
	wordAt := func(i int, w string) bool {
		if i+len(w) > len(rs) {
			return false
		}
		for k := 0; k < len(w); k++ {
			r := rs[i+k]
			if r >= 'A' && r <= 'Z' {
				r += 'a' - 'A'
			}
			if r != rune(w[k]) {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case raw[i]:
			b.WriteByte(byte(r))
			continue
		case r == -1:
			b.WriteByte('*')
			continue
		case r < utf8.RuneSelf && isSpecial(byte(r)):
			b.WriteByte('\\')
			b.WriteRune(r)
			continue
		case r == '\t':
			b.WriteString(`\t`)
			continue
		case r == '\r':
			b.WriteString(`\r`)
			continue
		case r == '\n':
			b.WriteString(`\n`)
			continue
		case r < 0x20 || r == 0x7f || r == 0xA0 || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(b, `\u%04x`, r)
			continue
		case r == ' ':
			b.WriteByte(' ')
			for _, w := range []string{"or", "and"} {
				if wordAt(i+1, w) && spaceAt(i+1+len(w)) {
					b.WriteByte('\\')
					b.WriteString(string(rs[i+1 : i+1+len(w)]))
					i += len(w)
					break
				}
			}
			continue
		case (r == 'n' || r == 'N') && wordAt(i, "not") && spaceAt(i+3):
			if r == 'n' {
				b.WriteString(`\u006e`)
				b.WriteString(string(rs[i+1 : i+3]))
			} else {
				b.WriteByte('\\')
				b.WriteString(string(rs[i : i+3]))
			}
			i += 2
			continue
		}
		b.WriteRune(r)
	}
}

// plainSegs reports whether segments need no escaping: printable ASCII
// without spaces or special characters (so no keyword can start inside),
// and no "not" at the very end.
func plainSegs(segs []string) bool {
	for _, s := range segs {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c <= ' ' || c >= 0x7f || isSpecial(c) {
				return false
			}
		}
	}
	last := segs[len(segs)-1]
	return len(last) < 3 || !strings.EqualFold(last[len(last)-3:], "not")
}
