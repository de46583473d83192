package kql

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
)

// matcher is a compiled query node.
type matcher interface {
	match(m map[string]any) bool
}

type allM struct{}

func (allM) match(map[string]any) bool { return true }

type andM []matcher

func (a andM) match(m map[string]any) bool {
	for _, k := range a {
		if !k.match(m) {
			return false
		}
	}
	return true
}

type orM []matcher

func (o orM) match(m map[string]any) bool {
	for _, k := range o {
		if k.match(m) {
			return true
		}
	}
	return false
}

type notM struct{ m matcher }

func (n notM) match(m map[string]any) bool { return !n.m.match(m) }

// fieldM tests the values of one field.
type fieldM struct {
	path string
	t    tester
}

func (f *fieldM) match(m map[string]any) bool { return ecs.AnyValue(m, f.path, f.t) }

// existsM is f:*: some indexed value, or, when the name is an object,
// some indexed value below it (Elasticsearch's exists query expands an
// object field to field.*).
type existsM struct {
	path string
	t    tester
}

func (e *existsM) match(m map[string]any) bool {
	return ecs.AnyValue(m, e.path, e.t) || ecs.AnyObject(m, e.path, e)
}

func (e *existsM) Object(m map[string]any) bool { return ecs.AnyScalar(m, e.t) }

// nestedM is path:{ q }: one object at path must satisfy q on its own.
type nestedM struct {
	path  string
	inner matcher
}

func (n *nestedM) match(m map[string]any) bool  { return ecs.AnyObject(m, n.path, n) }
func (n *nestedM) Object(m map[string]any) bool { return n.inner.match(m) }

// wildFieldM tests every scalar whose path matches a field pattern
// (process.*:scp, *:x) or, with no pattern, every scalar (free text). Field
// types come from Options: typed maps relative path -> tester for fields
// whose type is not keyword; virtual lists multi-fields (.caseless) that
// are not in the document but match the pattern.
type wildFieldM struct {
	pat   *glob
	def   tester // keyword semantics; nil when the value does not apply to keywords
	typed map[string]tester
	// typedLens has bit n set when a key of typed is n bytes long (n <
	// 256), longTyped when one is longer: free text visits every leaf of
	// an alert (~300), and most paths are of a length no typed field has,
	// so the map lookup (half the cost of a visit) is skipped for them.
	typedLens [4]uint64
	longTyped bool
	virtual   []matcher
}

// mayBeTyped reports whether a path of n bytes can be a key of typed.
func (w *wildFieldM) mayBeTyped(n int) bool {
	if n >= 256 {
		return w.longTyped
	}
	return w.typedLens[n>>6]&(1<<(n&63)) != 0
}

func (w *wildFieldM) addTyped(rel string, t tester) {
	if w.typed == nil {
		w.typed = map[string]tester{}
	}
	w.typed[rel] = t
	if n := len(rel); n >= 256 {
		w.longTyped = true
	} else {
		w.typedLens[n>>6] |= 1 << (n & 63)
	}
}

func (w *wildFieldM) match(m map[string]any) bool {
	if ecs.AnyLeaf(m, w) {
		return true
	}
	for _, v := range w.virtual {
		if v.match(m) {
			return true
		}
	}
	return false
}

func (w *wildFieldM) Leaf(path []byte, v any, s string, isStr bool) bool {
	if w.pat != nil && !w.pat.matchBytes(path) {
		return false
	}
	t := w.def
	if len(w.typed) > 0 && w.mayBeTyped(len(path)) {
		if tt, ok := w.typed[string(path)]; ok {
			t = tt
		}
	}
	if t == nil {
		return false
	}
	if isStr {
		return t.Str(s, nil)
	}
	return t.Other(v)
}

// mergeOr folds the alternatives of an OR that test the same field into
// one walk of that field: (some value passes t1) or (some value passes t2)
// is (some value passes t1 or t2). A value list such as
// file.path:(/run/* or /var/run/* or ...) then resolves the field once.
// (AND cannot be folded: f:(a and b) holds on ["a","b"].)
func mergeOr(ms []matcher) matcher {
	var out []matcher
	byPath := map[string]*fieldM{}
	for _, m := range ms {
		f, ok := m.(*fieldM)
		if !ok {
			out = append(out, m)
			continue
		}
		prev, seen := byPath[f.path]
		if !seen {
			nf := &fieldM{path: f.path, t: f.t}
			byPath[f.path] = nf
			out = append(out, nf)
			continue
		}
		prev.t = joinTesters(prev.t, f.t)
	}
	if len(out) == 1 {
		return out[0]
	}
	return orM(out)
}

// anyOf passes a value that equals one of set or passes one of others.
type anyOf struct {
	set    map[string]struct{}
	others []tester
}

func joinTesters(a, b tester) tester {
	j, ok := a.(*anyOf)
	if !ok {
		j = &anyOf{}
		j.add(a)
	}
	j.add(b)
	return j
}

func (j *anyOf) add(t tester) {
	if e, ok := t.(*kwEq); ok && !e.caseless {
		if j.set == nil {
			j.set = map[string]struct{}{}
		}
		j.set[e.s] = struct{}{}
		return
	}
	if o, ok := t.(*anyOf); ok {
		for s := range o.set {
			if j.set == nil {
				j.set = map[string]struct{}{}
			}
			j.set[s] = struct{}{}
		}
		j.others = append(j.others, o.others...)
		return
	}
	j.others = append(j.others, t)
}

func (j *anyOf) Str(v string, _ any) bool {
	if len(j.set) > 0 && len(v) <= ecs.IgnoreAbove {
		if _, ok := j.set[v]; ok {
			return true
		}
	}
	for _, t := range j.others {
		if t.Str(v, nil) {
			return true
		}
	}
	return false
}

func (j *anyOf) Other(v any) bool {
	if len(j.set) > 0 {
		if s, ok := keywordOf(v); ok {
			if _, ok := j.set[s]; ok {
				return true
			}
		}
	}
	for _, t := range j.others {
		if t.Other(v) {
			return true
		}
	}
	return false
}

// ---- testers -------------------------------------------------------------

// keywordOf renders a non-string scalar as its indexed keyword text.
func keywordOf(v any) (string, bool) {
	s, ok := ecs.Keyword(v)
	return s, ok && len(s) <= ecs.IgnoreAbove
}

// kwEq: any value equals s byte for byte (lower-cased first if caseless).
type kwEq struct {
	s        string
	caseless bool
}

func (k *kwEq) Str(v string, _ any) bool {
	if len(v) > ecs.IgnoreAbove {
		return false
	}
	if k.caseless {
		return strings.ToLower(v) == k.s
	}
	return v == k.s
}

func (k *kwEq) Other(v any) bool {
	var buf [24]byte
	if b, ok := intKeyword(buf[:0], v); ok {
		return unsafeString(b) == k.s // digits and '-': case does not matter
	}
	s, ok := keywordOf(v)
	return ok && k.Str(s, nil)
}

// intKeyword appends the keyword text of an integral number (what
// ecs.Keyword gives it) without allocating: free text compares every
// number of an alert (pids, ports, counts — ~25) with its value, and
// formatting each one into a new string was half of that test's cost.
func intKeyword(b []byte, v any) ([]byte, bool) {
	switch t := v.(type) {
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e15 {
			return strconv.AppendInt(b, int64(t), 10), true
		}
	case int:
		return strconv.AppendInt(b, int64(t), 10), true
	case int64:
		return strconv.AppendInt(b, t, 10), true
	}
	return nil, false
}

type kwWild struct {
	g        glob
	caseless bool
}

func (k *kwWild) Str(v string, _ any) bool {
	if len(v) > ecs.IgnoreAbove {
		return false
	}
	if k.caseless {
		v = strings.ToLower(v)
	}
	return k.g.match(v)
}

func (k *kwWild) Other(v any) bool {
	var buf [24]byte
	if b, ok := intKeyword(buf[:0], v); ok {
		return k.g.match(unsafeString(b)) // digits and '-': case does not matter
	}
	s, ok := keywordOf(v)
	return ok && k.Str(s, nil)
}

// kwExists: an indexed keyword value (ignore_above applies).
type kwExists struct{}

func (kwExists) Str(v string, _ any) bool { return len(v) <= ecs.IgnoreAbove }
func (kwExists) Other(v any) bool         { _, ok := keywordOf(v); return ok }

// anyExists: any scalar (numeric, date, ip, boolean fields).
type anyExists struct{}

func (anyExists) Str(string, any) bool { return true }
func (anyExists) Other(any) bool       { return true }

type kwRange struct {
	op       rangeOp
	s        string
	caseless bool
}

func (k *kwRange) Str(v string, _ any) bool {
	if len(v) > ecs.IgnoreAbove {
		return false
	}
	if k.caseless {
		v = strings.ToLower(v)
	}
	return cmpOp(k.op, strings.Compare(v, k.s))
}

func (k *kwRange) Other(v any) bool {
	s, ok := keywordOf(v)
	return ok && k.Str(s, nil)
}

func cmpOp(op rangeOp, c int) bool {
	switch op {
	case opLT:
		return c < 0
	case opLTE:
		return c <= 0
	case opGT:
		return c > 0
	}
	return c >= 0
}

// numeric fields
type numTest struct {
	eq bool
	op rangeOp
	f  float64
}

func (n *numTest) Str(v string, _ any) bool {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	return err == nil && n.cmp(f)
}

func (n *numTest) Other(v any) bool {
	f, ok := ecs.Float(v)
	return ok && n.cmp(f)
}

func (n *numTest) cmp(f float64) bool {
	if n.eq {
		return f == n.f
	}
	switch {
	case f < n.f:
		return cmpOp(n.op, -1)
	case f > n.f:
		return cmpOp(n.op, 1)
	case f == n.f:
		return cmpOp(n.op, 0)
	}
	return false // NaN
}

// date fields: is(f, v) is the range [v rounded down, v rounded up]; a
// range compares against the bound rounded as Elasticsearch does.
type dateTest struct {
	eq  bool
	op  rangeOp
	e   *dateExpr
	now func() time.Time
}

func (d *dateTest) Str(v string, _ any) bool {
	ms, ok := docMillis(nil, v, true)
	return ok && d.cmp(ms)
}

func (d *dateTest) Other(v any) bool {
	ms, ok := docMillis(v, "", false)
	return ok && d.cmp(ms)
}

func (d *dateTest) cmp(ms int64) bool {
	if d.eq {
		return ms >= d.e.Eval(d.now, false) && ms <= d.e.Eval(d.now, true)
	}
	// gt and lte round up; gte and lt round down.
	bound := d.e.Eval(d.now, d.op == opGT || d.op == opLTE)
	switch {
	case ms < bound:
		return cmpOp(d.op, -1)
	case ms > bound:
		return cmpOp(d.op, 1)
	}
	return cmpOp(d.op, 0)
}

// ip fields: equality is CIDR containment (an address is a /32 or /128).
type ipTest struct {
	eq     bool
	op     rangeOp
	prefix netip.Prefix
	addr   [16]byte
}

func docAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return a, false
	}
	return a.WithZone("").Unmap(), true
}

func (t *ipTest) Str(v string, _ any) bool {
	a, ok := docAddr(v)
	if !ok {
		return false
	}
	if t.eq {
		return t.prefix.Contains(a)
	}
	b := a.As16()
	return cmpOp(t.op, bytesCompare(b[:], t.addr[:]))
}

func (t *ipTest) Other(any) bool { return false }

func bytesCompare(a, b []byte) int { return strings.Compare(unsafeString(a), unsafeString(b)) }

type boolTest struct{ b bool }

func (t *boolTest) Str(v string, _ any) bool { return v == strconv.FormatBool(t.b) }
func (t *boolTest) Other(v any) bool         { b, ok := v.(bool); return ok && b == t.b }

// ---- compiler ------------------------------------------------------------

type compiler struct {
	src   string
	opt   *Options
	types map[string]FieldType // Options.FieldTypes over the default date fields
	now   func() time.Time
}

func (c *compiler) errAt(l *lit, format string, args ...any) error {
	pos := 0
	if l != nil {
		pos = l.pos
	}
	return newSyntaxError(c.src, pos, fmt.Sprintf(format, args...))
}

// fieldName is the name a field literal stands for; free reports a null
// field (free text).
func fieldName(l *lit) (name string, free bool) {
	if l == nil || l.kind == litNull {
		return "", true
	}
	return l.text, false
}

// compile turns a node into a matcher. prefix is the nested path ("f.")
// inside nested queries: field names are walked relative to the nested
// object and typed by their full name.
func (c *compiler) compile(n *node, prefix string) (matcher, error) {
	switch n.kind {
	case kindMatchAll:
		return allM{}, nil
	case kindAnd, kindOr:
		ms := make([]matcher, 0, len(n.kids))
		for _, k := range n.kids {
			m, err := c.compile(k, prefix)
			if err != nil {
				return nil, err
			}
			ms = append(ms, m)
		}
		if n.kind == kindAnd {
			return andM(ms), nil
		}
		return mergeOr(ms), nil
	case kindNot:
		m, err := c.compile(n.kids[0], prefix)
		if err != nil {
			return nil, err
		}
		return notM{m}, nil
	case kindNested:
		name, free := fieldName(n.field)
		if free || n.field.kind == litWild {
			return nil, c.errAt(n.field, "a nested query needs a plain field name as its path, not %s", describeLit(n.field))
		}
		inner, err := c.compile(n.kids[0], prefix+name+".")
		if err != nil {
			return nil, err
		}
		return &nestedM{path: name, inner: inner}, nil
	case kindIs, kindRange:
		return c.compileLeaf(n, prefix)
	}
	return nil, errors.New("kql: unknown node")
}

func describeLit(l *lit) string {
	switch {
	case l == nil || l.kind == litNull:
		return "null"
	case l.kind == litWild:
		return "a wildcard (" + l.text + ")"
	}
	return strconv.Quote(l.text)
}

func (c *compiler) compileLeaf(n *node, prefix string) (matcher, error) {
	v := n.value
	if v.kind == litNull {
		return nil, c.errAt(v, `unquoted null is not a value: Elasticsearch rejects a null query value; write "null" (quoted) to match the text null, or use "not %s:*" to find documents without the field`, fieldLabel(n.field))
	}
	isRange := n.kind == kindRange
	name, free := fieldName(n.field)
	if isRange && free {
		return nil, c.errAt(n.field, "a range needs a field name, not null")
	}
	wildField := !free && n.field.kind == litWild
	if !isRange && v.isLoneWildcard() && (free || wildField && n.field.isLoneWildcard()) {
		return allM{}, nil // *:* and a bare * match every document
	}
	if free || wildField {
		w := &wildFieldM{}
		if wildField {
			g := newGlob(n.field.segs)
			w.pat = &g
		}
		w.def, _ = c.tester(n, Keyword)
		for full, typ := range c.types {
			if typ == Keyword || !strings.HasPrefix(full, prefix) {
				continue
			}
			rel := full[len(prefix):]
			if w.pat != nil && !w.pat.match(rel) {
				continue
			}
			// Lenient, as multi_match and query_string over many fields: a
			// value the field's type cannot hold matches nothing there.
			t, err := c.tester(n, typ)
			if typ == CaselessKeyword {
				if err == nil {
					w.virtual = append(w.virtual, &fieldM{path: parentOf(rel), t: t})
				}
				continue
			}
			if err != nil {
				t = nil
			}
			w.addTyped(rel, t)
		}
		return w, nil
	}
	typ := c.typeOf(prefix + name)
	t, err := c.tester(n, typ)
	if err != nil {
		return nil, err
	}
	path := name
	if typ == CaselessKeyword {
		path = parentOf(name)
	}
	if !isRange && v.isLoneWildcard() {
		return &existsM{path: path, t: t}, nil
	}
	return &fieldM{path: path, t: t}, nil
}

func (c *compiler) typeOf(field string) FieldType {
	if t, ok := c.types[field]; ok {
		return t
	}
	return Keyword
}

func fieldLabel(l *lit) string {
	if l == nil || l.kind == litNull {
		return "field"
	}
	return l.text
}

// tester builds the value test of an is/range node for a field type.
func (c *compiler) tester(n *node, typ FieldType) (tester, error) {
	v := n.value
	isRange := n.kind == kindRange
	text := v.text
	if !isRange && v.isLoneWildcard() {
		if typ == Keyword || typ == CaselessKeyword {
			return kwExists{}, nil
		}
		return anyExists{}, nil
	}
	wild := v.kind == litWild && !isRange
	switch typ {
	case Keyword, CaselessKeyword:
		caseless := typ == CaselessKeyword
		if wild {
			segs := v.segs
			if caseless {
				segs = make([]string, len(v.segs))
				for i, s := range v.segs {
					segs[i] = strings.ToLower(s)
				}
			}
			return &kwWild{g: newGlob(segs), caseless: caseless}, nil
		}
		if caseless {
			text = strings.ToLower(text)
		}
		if isRange {
			return &kwRange{op: n.op, s: text, caseless: caseless}, nil
		}
		return &kwEq{s: text, caseless: caseless}, nil
	}
	if wild {
		return nil, c.errAt(v, "wildcard value %s on a %s field: Elasticsearch supports wildcards only on keyword and text fields", text, typ)
	}
	switch typ {
	case Long, Double:
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil {
			return nil, c.errAt(v, "%s is not a number, and the field is %s", strconv.Quote(text), typ)
		}
		return &numTest{eq: !isRange, op: n.op, f: f}, nil
	case Date:
		e, err := parseDateMath(text)
		if err != nil {
			return nil, c.errAt(v, "%s for a date field: %v", strconv.Quote(text), err)
		}
		return &dateTest{eq: !isRange, op: n.op, e: e, now: c.now}, nil
	case IP:
		t := &ipTest{eq: !isRange, op: n.op}
		if isRange {
			a, err := netip.ParseAddr(text)
			if err != nil {
				return nil, c.errAt(v, "%s is not an IP address", strconv.Quote(text))
			}
			t.addr = a.Unmap().As16()
			return t, nil
		}
		if strings.Contains(text, "/") {
			p, err := netip.ParsePrefix(text)
			if err != nil {
				return nil, c.errAt(v, "%s is not an IP address or CIDR block", strconv.Quote(text))
			}
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			t.prefix = p.Masked()
			return t, nil
		}
		a, err := netip.ParseAddr(text)
		if err != nil {
			return nil, c.errAt(v, "%s is not an IP address or CIDR block", strconv.Quote(text))
		}
		a = a.Unmap()
		t.prefix = netip.PrefixFrom(a, a.BitLen())
		return t, nil
	case Boolean:
		if isRange {
			return nil, c.errAt(v, "a range on a boolean field is not supported")
		}
		switch text {
		case "true":
			return &boolTest{b: true}, nil
		case "false":
			return &boolTest{b: false}, nil
		}
		return nil, c.errAt(v, "%s is not a boolean (true or false)", strconv.Quote(text))
	}
	return nil, c.errAt(v, "unknown field type %d", int(typ))
}
