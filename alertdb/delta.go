package alertdb

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// An alert's JSON is ~24 KB, of which ~23 KB is its rule's: the rule
// metadata, the investigation guide, threat, the parameters block. Deflate
// finds those bytes in its dictionary, but a match is at most 258 bytes,
// so a 24 KB alert never compressed below ~300 bytes however much it
// shared. Instead a row stores its JSON as a delta against its rule
// template's JSON (template.js, the first alert of the rule, kept once):
// runs of bytes copied from the template, and literal bytes between them.
// The runs are found by walking both documents' structure (json.Marshal's
// compact output, object keys in the same order): a member equal to the
// template's is one run however long, a member of another value is a run
// for its key and a literal for its value, objects and arrays present in
// both are walked member by member. Only then is the delta deflated
// (codec.go), against the template's JSON and the row's index, which hold
// most of what the literals say.
//
// The delta is a sequence of tokens: a literal (uvarint length, bytes),
// then, unless the delta ends there, a copy (zigzag uvarint offset from
// the end of the previous copy, uvarint length). Applying it gives back
// exactly the bytes it was made from: makeDelta checks that before it
// returns, and falls back to one literal of the whole JSON otherwise.

// jnode is the structure of one JSON value of a template: its span and,
// for an object or array, its members (by key for an object).
type jnode struct {
	start, end int
	kind       byte // first byte of the value
	// An object's members: keys (the raw quoted key) indexes mems; a
	// member's start is its key's opening quote. An array's elements:
	// mems in order, start is the value's.
	keys map[string]int
	mems []jmember
}

type jmember struct {
	start int
	val   *jnode
}

// A template lives as long as the process, and a hostile alert can be
// the first of its rule and program: its structure is kept to
// maxTemplateNodes values (~80 bytes each; a real alert has ~600), the
// objects and arrays past that held as single values a delta copies
// whole or not at all.
const maxTemplateNodes = 4096

// parseTemplate returns the structure of js, nil when it is not the
// compact JSON json.Marshal writes (the delta then copies nothing).
func parseTemplate(js []byte) *jnode {
	budget := maxTemplateNodes
	n, end := parseNode(js, 0, &budget)
	if n == nil || end != len(js) {
		return nil
	}
	return n
}

// countNodes is the number of values in the structure n.
func countNodes(n *jnode) int {
	if n == nil {
		return 0
	}
	c := 1
	for _, m := range n.mems {
		c += countNodes(m.val)
	}
	return c
}

func parseNode(b []byte, i int, budget *int) (*jnode, int) {
	if i >= len(b) {
		return nil, -1
	}
	n := &jnode{start: i, kind: b[i]}
	*budget--
	if *budget <= 0 && (n.kind == '{' || n.kind == '[') {
		n.kind = 0 // a leaf: value copies it whole or not at all
	}
	switch n.kind {
	case '{', '[':
		obj := n.kind == '{'
		if obj {
			n.keys = map[string]int{}
		}
		closer := n.kind + 2 // '}' or ']'
		i++
		for i < len(b) && b[i] != closer {
			if *budget <= 0 {
				return n.rest(b)
			}
			if len(n.mems) > 0 {
				if b[i] != ',' {
					return nil, -1
				}
				i++
			}
			ms, vs := i, i
			if obj {
				ke := skipValue(b, i)
				if ke < 0 || b[i] != '"' || ke >= len(b) || b[ke] != ':' {
					return nil, -1
				}
				n.keys[string(b[i:ke])] = len(n.mems)
				vs = ke + 1
			}
			v, end := parseNode(b, vs, budget)
			if v == nil {
				return nil, -1
			}
			n.mems = append(n.mems, jmember{start: ms, val: v})
			i = end
		}
	default:
		end := skipValue(b, i)
		if end < 0 {
			return nil, -1
		}
		n.end = end
		return n, end
	}
	if i >= len(b) {
		return nil, -1
	}
	n.end = i + 1
	return n, n.end
}

// rest ends n at the end of its value, keeping the members parsed so far:
// the others are not in the structure, so a delta holds them as literals.
func (n *jnode) rest(b []byte) (*jnode, int) {
	n.end = skipValue(b, n.start)
	if n.end < 0 {
		return nil, -1
	}
	return n, n.end
}

// skipValue returns where the compact JSON value at b[i:] ends, -1 when
// it does not end inside b.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		for i++; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return -1
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				end := skipValue(b, i)
				if end < 0 {
					return -1
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ':':
			return i
		}
	}
	return i
}

// deltaEnc builds a delta of js against the template tj. The pending
// token is js[litStart:litEnd] followed, when hasCopy, by tj[cs:ce].
type deltaEnc struct {
	js, tj           []byte
	out              []byte
	cur              int // bytes of js covered so far
	litStart, litEnd int
	hasCopy          bool
	cs, ce           int
	prevEnd          int // end of the last written copy
	bad              bool
	// like are the template's values that literals replaced: what those
	// literals most resemble (an audit record of the same process), the
	// deflate dictionary of the delta (codec.go).
	like []span
}

// span is a byte range [start, end) of a template's JSON.
type span struct{ start, end int }

// minLike is the shortest replaced template value worth naming in the
// dictionary: naming one costs ~3 bytes.
const minLike = 32

// makeDelta appends to out the delta of js against the template (tj, its
// structure root), and returns the template values its literals replaced.
func makeDelta(out, js, tj []byte, root *jnode) ([]byte, []span) {
	e := deltaEnc{js: js, tj: tj, out: out}
	if root != nil {
		e.value(root)
	}
	if e.bad || e.cur != len(js) {
		e = deltaEnc{js: js, tj: tj, out: out}
	}
	e.literal(len(js) - e.cur)
	e.flush()
	if !deltaGives(e.out[len(out):], tj, js) {
		// A walk that went wrong (it cannot on json.Marshal's output)
		// costs size, never a changed alert.
		e = deltaEnc{js: js, tj: tj, out: out}
		e.literal(len(js))
		e.flush()
	}
	return e.out, e.like
}

func (e *deltaEnc) flush() {
	e.out = binary.AppendUvarint(e.out, uint64(e.litEnd-e.litStart))
	e.out = append(e.out, e.js[e.litStart:e.litEnd]...)
	if e.hasCopy {
		off := int64(e.cs - e.prevEnd)
		e.out = binary.AppendUvarint(e.out, uint64(off<<1^off>>63))
		e.out = binary.AppendUvarint(e.out, uint64(e.ce-e.cs))
		e.prevEnd = e.ce
	}
	e.litStart, e.litEnd, e.hasCopy = e.cur, e.cur, false
}

// literal covers the next n bytes of js as they are.
func (e *deltaEnc) literal(n int) {
	if n == 0 {
		return
	}
	if e.hasCopy {
		e.flush()
	}
	e.cur += n
	e.litEnd = e.cur
}

// copyFrom covers the next n bytes of js with tj[ts:ts+n], equal to them.
func (e *deltaEnc) copyFrom(n, ts int) {
	switch {
	case e.hasCopy && e.ce == ts:
		e.ce += n
	case e.hasCopy:
		e.flush()
		fallthrough
	default:
		e.hasCopy, e.cs, e.ce = true, ts, ts+n
	}
	e.cur += n
}

// sep covers one structural byte of js, from the template when the copy
// in progress continues with it.
func (e *deltaEnc) sep() {
	if e.hasCopy && e.ce < len(e.tj) && e.tj[e.ce] == e.js[e.cur] {
		e.copyFrom(1, e.ce)
		return
	}
	e.literal(1)
}

// value covers the JSON value at js[cur:], tn being the template's value
// at the same place (nil when it has none).
func (e *deltaEnc) value(tn *jnode) {
	if e.bad || e.cur >= len(e.js) {
		e.bad = true
		return
	}
	c := e.js[e.cur]
	if tn != nil {
		n := tn.end - tn.start
		if e.cur+n <= len(e.js) && bytes.Equal(e.js[e.cur:e.cur+n], e.tj[tn.start:tn.end]) &&
			(e.cur+n == len(e.js) || !isNumberByte(e.js[e.cur+n])) {
			e.copyFrom(n, tn.start)
			return
		}
		if c == tn.kind && c == '{' {
			e.object(tn)
			return
		}
		if c == tn.kind && c == '[' {
			e.array(tn)
			return
		}
	}
	end := skipValue(e.js, e.cur)
	if end < 0 {
		e.bad = true
		return
	}
	if tn != nil && tn.end-tn.start >= minLike {
		e.like = append(e.like, span{tn.start, tn.end})
	}
	e.literal(end - e.cur)
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

func (e *deltaEnc) object(tn *jnode) {
	e.sep() // {
	for first := true; !e.bad && e.cur < len(e.js) && e.js[e.cur] != '}'; first = false {
		if !first {
			if e.js[e.cur] != ',' {
				e.bad = true
				return
			}
			e.sep()
		}
		ks := e.cur
		ke := skipValue(e.js, ks)
		if ke < 0 || e.js[ks] != '"' || ke >= len(e.js) || e.js[ke] != ':' {
			e.bad = true
			return
		}
		mi, ok := tn.keys[string(e.js[ks:ke])]
		if !ok {
			e.literal(ke + 1 - ks)
			e.value(nil)
			continue
		}
		m := tn.mems[mi]
		e.copyFrom(ke+1-ks, m.start)
		e.value(m.val)
	}
	if e.bad || e.cur >= len(e.js) {
		e.bad = true
		return
	}
	e.sep() // }
}

func (e *deltaEnc) array(tn *jnode) {
	e.sep() // [
	for i := 0; !e.bad && e.cur < len(e.js) && e.js[e.cur] != ']'; i++ {
		if i > 0 {
			if e.js[e.cur] != ',' {
				e.bad = true
				return
			}
			e.sep()
		}
		var t *jnode
		if i < len(tn.mems) {
			t = tn.mems[i].val
		}
		e.value(t)
	}
	if e.bad || e.cur >= len(e.js) {
		e.bad = true
		return
	}
	e.sep() // ]
}

// appendSpans appends the spans to b: a count, then each as the zigzag
// distance from the previous one's end and a length.
func appendSpans(b []byte, ss []span) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	prev := 0
	for _, s := range ss {
		off := int64(s.start - prev)
		b = binary.AppendUvarint(b, uint64(off<<1^off>>63))
		b = binary.AppendUvarint(b, uint64(s.end-s.start))
		prev = s.end
	}
	return b
}

// appendLike appends to dst the template bytes of the spans appendSpans
// wrote at the start of b, and returns what follows them in b.
func appendLike(dst []byte, b string, tj []byte) ([]byte, string, error) {
	n, w := uvarintStrict(b)
	if w <= 0 || n > uint64(len(b)) {
		return dst, "", errDelta
	}
	b = b[w:]
	prev := int64(0)
	for range n {
		z, w := uvarintStrict(b)
		if w <= 0 {
			return dst, "", errDelta
		}
		b = b[w:]
		l, w := uvarintStrict(b)
		if w <= 0 {
			return dst, "", errDelta
		}
		b = b[w:]
		start := prev + (int64(z>>1) ^ -int64(z&1))
		if start < 0 || l > uint64(len(tj)) || start > int64(len(tj))-int64(l) {
			return dst, "", errDelta
		}
		dst = append(dst, tj[start:start+int64(l)]...)
		prev = start + int64(l)
	}
	return dst, b, nil
}

// uvarintStrict is binary.Uvarint over a string: w <= 0 when s holds no
// whole uvarint of at most 64 bits.
func uvarintStrict(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -1
			}
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

var errDelta = errors.New("corrupt alert delta")

// deltaGives reports whether delta d of template tj gives js, without
// building it.
func deltaGives(d, tj, js []byte) bool {
	var c deltaCursor
	c.reset(d, tj)
	for {
		b, done, err := c.next()
		if err != nil || !bytes.HasPrefix(js, b) {
			return false
		}
		if done {
			return len(js) == 0
		}
		js = js[len(b):]
	}
}

// applyDelta appends to dst the JSON that delta d of template tj gives.
func applyDelta(dst, d, tj []byte) ([]byte, error) {
	var c deltaCursor
	c.reset(d, tj)
	for {
		b, done, err := c.next()
		if err != nil || done {
			return dst, err
		}
		dst = append(dst, b...)
	}
}

// deltaCursor gives the JSON of a delta a piece at a time, so a scan that
// stops early (leafeval.go: the wanted keys come first) copies no more of
// the template than it reads.
type deltaCursor struct {
	d, tj    []byte
	i        int
	prevEnd  int
	copyNext bool   // the next token is a copy
	piece    []byte // what appendTo left of the current token's bytes
}

func (c *deltaCursor) reset(d, tj []byte) { *c = deltaCursor{d: d, tj: tj} }

// next returns the bytes of the next token (a literal, or a copy from the
// template); done when the delta has none left.
func (c *deltaCursor) next() (_ []byte, done bool, err error) {
	if c.i == len(c.d) {
		return nil, true, nil
	}
	if !c.copyNext {
		l, w := binary.Uvarint(c.d[c.i:])
		if w <= 0 || l > uint64(len(c.d)-c.i-w) {
			return nil, false, errDelta
		}
		c.i += w + int(l)
		c.copyNext = true
		return c.d[c.i-int(l) : c.i], false, nil
	}
	z, w := binary.Uvarint(c.d[c.i:])
	if w <= 0 {
		return nil, false, errDelta
	}
	c.i += w
	l, w := binary.Uvarint(c.d[c.i:])
	if w <= 0 {
		return nil, false, errDelta
	}
	c.i += w
	start := int64(c.prevEnd) + (int64(z>>1) ^ -int64(z&1))
	if start < 0 || l > uint64(len(c.tj)) || start > int64(len(c.tj))-int64(l) {
		return nil, false, errDelta
	}
	c.prevEnd = int(start) + int(l)
	c.copyNext = false
	return c.tj[start:c.prevEnd], false, nil
}

// appendTo appends at most n bytes of the JSON to dst; done reports that
// the JSON ended.
func (c *deltaCursor) appendTo(dst []byte, n int) (_ []byte, done bool, err error) {
	for n > 0 {
		if len(c.piece) == 0 {
			if c.piece, done, err = c.next(); err != nil || done {
				return dst, done, err
			}
			continue
		}
		k := min(n, len(c.piece))
		dst = append(dst, c.piece[:k]...)
		c.piece, n = c.piece[k:], n-k
	}
	return dst, len(c.piece) == 0 && c.i == len(c.d), nil
}
