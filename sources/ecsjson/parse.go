package ecsjson

import (
	"encoding/binary"
	"errors"
	"hash/maphash"
	"strconv"
	"unicode/utf8"

	"github.com/xferhunt/xferhunt/internal/jsonstr"
)

// parser decodes one JSON object into exactly what encoding/json's
// Unmarshal into a map[string]any gives — the same maps, []any, strings,
// float64, bools and nils, the same inputs refused — at several times its
// speed: one pass (Unmarshal scans every byte twice, once to validate), no
// reflection, maps made at their final size, and repeated short strings
// (keys, and values like "file" or "linux") taken from a small cache
// instead of allocated again. The fuzz test FuzzParseLikeUnmarshal and
// TestParseLikeUnmarshal hold it to Unmarshal's output byte for byte.
//
// What Unmarshal does and this copies: a later duplicate key replaces the
// earlier; invalid UTF-8 (in keys and values) becomes U+FFFD per bad
// byte; \u escapes decode with UTF-16 surrogate pairs, a lone surrogate
// becoming U+FFFD; control characters below 0x20 in a string are an
// error; numbers follow JSON's grammar and become float64 (out of range:
// an error); nesting deeper than 10,000 is an error; only JSON's four
// white-space bytes may surround tokens.
//
// A parser is not safe for concurrent use; each worker has its own. The
// zero parser works without the cache (for a one-off document).
type parser struct {
	s     []byte
	i     int
	depth int
	// members and elems are the scratch stacks of the objects and arrays
	// being read (nested ones above their parents'), so each container is
	// allocated once, at its size, when it ends.
	members []member
	elems   []any
	buf     []byte // unescaped string text
	cache   *[cacheSize]cacheEntry
}

type member struct {
	k string
	v any
}

// errSyntax is every refusal: callers count the line malformed and need
// no more detail.
var errSyntax = errors.New("invalid JSON")

// maxNesting is encoding/json's limit on nested arrays and objects.
const maxNesting = 10000

// The string cache: direct-mapped, so its memory is fixed and a miss
// costs one hash and the allocation that would have happened anyway. Only
// short strings go in: long ones (paths, command lines, raw records) are
// rarely repeated and would push the short ones out.
const (
	cacheSize = 4096
	cacheMax  = 48
)

type cacheEntry struct {
	s string
	v any // s boxed once, so a hit as a value allocates nothing
}

var cacheSeed = maphash.MakeSeed()

// smallInts are the boxed float64 values of 0–255, which documents hold
// often (counts, flags, small ids) and which would otherwise cost an
// allocation each.
var smallInts = func() (t [256]any) {
	for i := range t {
		t[i] = float64(i)
	}
	return t
}()

func newParser() *parser {
	return &parser{cache: new([cacheSize]cacheEntry)}
}

// object parses s, which must hold one JSON object and nothing else but
// white space.
func (p *parser) object(s []byte) (map[string]any, error) {
	m, _, err := p.top(s, nil)
	return m, err
}

// top parses s, which must hold one JSON object and nothing else but
// white space, building what t wants of it (all of it for a nil t; see
// sparse.go for plain).
func (p *parser) top(s []byte, t *fieldTree) (m map[string]any, plain bool, err error) {
	p.s, p.i, p.depth = s, 0, 0
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		// A top-level null leaves Unmarshal's map nil; anything else is
		// an error there: neither is a document.
		err = errSyntax
	} else if m, plain, err = p.obj(t); err == nil && plain {
		p.ws()
		if p.i != len(p.s) {
			err = errSyntax
		}
	}
	// The scratch stacks must not keep a document alive.
	clear(p.members[:cap(p.members)])
	clear(p.elems[:cap(p.elems)])
	p.members, p.elems, p.s = p.members[:0], p.elems[:0], nil
	if err != nil || !plain {
		return nil, false, err
	}
	return m, true, nil
}

func (p *parser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// open enters the object or array whose opening byte is at p.i; empty
// reports that closer follows at once (and was read).
func (p *parser) open(closer byte) (empty bool, err error) {
	p.depth++
	if p.depth > maxNesting {
		return false, errSyntax
	}
	p.i++
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == closer {
		p.i++
		p.depth--
		return true, nil
	}
	return false, nil
}

// next reads what follows a member or element: a comma (more follows)
// or closer (the container ends, and is left).
func (p *parser) next(closer byte) (more bool, err error) {
	p.ws()
	if p.i >= len(p.s) {
		return false, errSyntax
	}
	c := p.s[p.i]
	p.i++
	switch c {
	case ',':
		p.ws()
		return true, nil
	case closer:
		p.depth--
		return false, nil
	}
	return false, errSyntax
}

// obj reads an object whose '{' is at p.i: every member for a nil t,
// else the members t wants, the others validated and skipped. A key t
// marks stop ends it early with plain false (sparse.go).
func (p *parser) obj(t *fieldTree) (m map[string]any, plain bool, err error) {
	empty, err := p.open('}')
	if err != nil {
		return nil, false, err
	}
	if empty {
		return map[string]any{}, true, nil
	}
	base := len(p.members)
	for more := true; more; {
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, false, errSyntax
		}
		var k string
		var sub *fieldTree
		if t == nil {
			k, err = p.str()
		} else {
			// No string is made of a key that is not kept.
			var kb []byte
			if kb, err = p.strBytes(); err == nil {
				if sub = t.lookup(kb); sub != nil {
					k = sub.name
				}
			}
		}
		if err != nil {
			return nil, false, err
		}
		if sub != nil && sub.stop {
			return nil, false, nil
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, false, errSyntax
		}
		p.i++
		p.ws()
		var v any
		switch {
		case t != nil && sub == nil:
			err = p.skip()
		case t == nil || sub.whole:
			v, err = p.value()
		default:
			v, err = p.valueFor(sub)
		}
		if err != nil {
			return nil, false, err
		}
		if t == nil || sub != nil {
			p.members = append(p.members, member{k, v})
		}
		if more, err = p.next('}'); err != nil {
			return nil, false, err
		}
	}
	m = make(map[string]any, len(p.members)-base)
	for _, e := range p.members[base:] {
		m[e.k] = e.v // a later duplicate replaces the earlier, as in Unmarshal
	}
	p.members = p.members[:base]
	return m, true, nil
}

// arr reads an array whose '[' is at p.i: every element whole for a nil
// t, else as far as t wants.
func (p *parser) arr(t *fieldTree) ([]any, error) {
	empty, err := p.open(']')
	if err != nil {
		return nil, err
	}
	if empty {
		return make([]any, 0), nil // Unmarshal's [] is empty, not nil
	}
	base := len(p.elems)
	for more := true; more; {
		var v any
		if v, err = p.valueFor(t); err != nil {
			return nil, err
		}
		p.elems = append(p.elems, v)
		if more, err = p.next(']'); err != nil {
			return nil, err
		}
	}
	a := make([]any, len(p.elems)-base)
	copy(a, p.elems[base:])
	p.elems = p.elems[:base]
	return a, nil
}

// value reads any value starting at p.i (white space already skipped).
func (p *parser) value() (any, error) { return p.valueFor(nil) }

// valueFor reads a value, building of it what t wants (all of it for a
// nil t): objects keep the members t wants, arrays all their elements so
// read, scalars are kept.
func (p *parser) valueFor(t *fieldTree) (any, error) {
	if p.i >= len(p.s) {
		return nil, errSyntax
	}
	switch c := p.s[p.i]; c {
	case '"':
		return p.strValue()
	case '{':
		m, _, err := p.obj(t)
		if err != nil {
			return nil, err
		}
		return m, nil
	case '[':
		a, err := p.arr(t)
		if err != nil {
			return nil, err
		}
		return a, nil
	case 't':
		return true, p.literal("true")
	case 'f':
		return false, p.literal("false")
	case 'n':
		return nil, p.literal("null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return p.number()
		}
		return nil, errSyntax
	}
}

func (p *parser) literal(lit string) error {
	if len(p.s)-p.i < len(lit) || string(p.s[p.i:p.i+len(lit)]) != lit {
		return errSyntax
	}
	p.i += len(lit)
	return nil
}

// number reads a number by JSON's grammar and converts it as Unmarshal
// does (strconv.ParseFloat; out of float64's range is an error).
func (p *parser) number() (any, error) {
	text, err := p.scanNumber()
	if err != nil {
		return nil, err
	}
	if len(text) <= 3 && text[0] != '-' {
		n := 0
		for _, c := range text {
			if c < '0' || c > '9' {
				n = -1
				break
			}
			n = n*10 + int(c-'0')
		}
		if n >= 0 && n < len(smallInts) {
			return smallInts[n], nil
		}
	}
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		return nil, errSyntax
	}
	return f, nil
}

// scanNumber reads the text of a number at p.i by JSON's grammar.
func (p *parser) scanNumber() ([]byte, error) {
	s := p.s
	start, i := p.i, p.i
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = digits(s, i)
	default:
		return nil, errSyntax
	}
	if i < len(s) && s[i] == '.' {
		d := i + 1
		if i = digits(s, d); i == d {
			return nil, errSyntax
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		if i = digits(s, d); i == d {
			return nil, errSyntax
		}
	}
	p.i = i
	return s[start:i], nil
}

// digits returns the index after the run of digits at s[i:].
func digits(s []byte, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// strValue reads a string value, boxed (from the cache when short).
func (p *parser) strValue() (any, error) {
	b, err := p.strBytes()
	if err != nil {
		return nil, err
	}
	if len(b) <= cacheMax && p.cache != nil {
		return p.cached(b).v, nil
	}
	return string(b), nil
}

// str reads a string (a key), from the cache when short.
func (p *parser) str() (string, error) {
	b, err := p.strBytes()
	if err != nil {
		return "", err
	}
	if len(b) <= cacheMax && p.cache != nil {
		return p.cached(b).s, nil
	}
	return string(b), nil
}

func (p *parser) cached(b []byte) *cacheEntry {
	e := &p.cache[maphash.Bytes(cacheSeed, b)&(cacheSize-1)]
	if e.v == nil || e.s != string(b) {
		s := string(b)
		e.s, e.v = s, s
	}
	return e
}

// strBytes reads the string whose '"' is at p.i and returns its decoded
// text: a slice of the input when it holds no escape and only valid UTF-8,
// else of p.buf; valid until the next string either way.
func (p *parser) strBytes() ([]byte, error) {
	s := p.s
	start := p.i + 1
	i := start
	for i < len(s) {
		if i+8 <= len(s) && plainASCII8(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
			continue
		}
		c := s[i]
		switch {
		case c == '"':
			p.i = i + 1
			return s[start:i], nil
		case c == '\\':
			return p.unquote(start, i)
		case c < 0x20:
			return nil, errSyntax
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				return p.unquote(start, i)
			}
			i += size
		}
	}
	return nil, errSyntax
}

// unquote finishes a string that needs rewriting, from i (an escape or an
// invalid byte), the way encoding/json's unquoteBytes does.
func (p *parser) unquote(start, i int) ([]byte, error) {
	b, next, err := jsonstr.AppendUnquoted(p.buf[:0], p.s, start, i)
	if err != nil {
		return nil, errSyntax
	}
	p.i = next
	p.buf = b
	return b, nil
}

// Eight bytes at a time (SWAR): ones8 has a one in every byte, high8 the
// top bit of every byte.
const (
	ones8 = 0x0101010101010101
	high8 = 0x8080808080808080
)

// quiet8 reports that none of the eight bytes of w is a quote, a
// backslash or a control character below 0x20: a string's bytes that
// need no look. (x - ones8) &^ x & high8 is nonzero exactly when some
// byte of x is zero; the subtraction of 0x20 per byte likewise finds a
// byte below 0x20 among bytes below 0x80.
func quiet8(w uint64) bool {
	q := w ^ ('"' * ones8)
	b := w ^ ('\\' * ones8)
	return ((q-ones8)&^q|(b-ones8)&^b|(w-0x20*ones8)&^w)&high8 == 0
}

// plainASCII8 is quiet8 for ASCII bytes only (no UTF-8 to check).
func plainASCII8(w uint64) bool { return w&high8 == 0 && quiet8(w) }
