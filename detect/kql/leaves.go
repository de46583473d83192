package kql

// Leafwise is a query cut into atoms, each true when some leaf of the
// document — a dotted path and one scalar value there, as ecs.AnyLeaf
// visits them — passes a test of that leaf alone, combined by AND, OR and
// NOT. An evaluator that holds documents as leaves (the TUI's alert
// index: a rule template's ~300 values shared by its alerts plus ~30 of
// each alert's own) decides an atom once for values many documents share
// and tests only the rest, instead of handing each document whole to
// Match. Its answers are Match's exactly: field queries, free text,
// field-name wildcards and the .caseless multi-fields are all "some
// value at some path passes"; nested queries are not, and have no
// leafwise form.
type Leafwise struct {
	root  lexpr
	atoms []matcher // *fieldM, *existsM or *wildFieldM
}

// lexpr is a node of the Boolean combination: an atom, a constant, or an
// operator over kids.
type lexpr struct {
	op   lop
	atom int
	kids []lexpr
}

type lop uint8

const (
	lopAtom lop = iota
	lopTrue
	lopAnd
	lopOr
	lopNot
)

// Leafwise returns the query's leafwise form; ok is false when some part
// needs objects whole (a nested query).
func (q *Query) Leafwise() (_ *Leafwise, ok bool) {
	l := &Leafwise{}
	root, ok := l.build(q.m)
	if !ok {
		return nil, false
	}
	l.root = root
	return l, true
}

func (l *Leafwise) build(m matcher) (lexpr, bool) {
	switch t := m.(type) {
	case allM:
		return lexpr{op: lopTrue}, true
	case andM, orM:
		var ms []matcher
		op := lopAnd
		if o, isOr := t.(orM); isOr {
			ms, op = o, lopOr
		} else {
			ms = t.(andM)
		}
		e := lexpr{op: op, kids: make([]lexpr, 0, len(ms))}
		for _, k := range ms {
			ke, ok := l.build(k)
			if !ok {
				return lexpr{}, false
			}
			e.kids = append(e.kids, ke)
		}
		return e, true
	case notM:
		k, ok := l.build(t.m)
		return lexpr{op: lopNot, kids: []lexpr{k}}, ok
	case *fieldM, *existsM, *wildFieldM:
		l.atoms = append(l.atoms, m)
		return lexpr{op: lopAtom, atom: len(l.atoms) - 1}, true
	}
	return lexpr{}, false // nestedM
}

// Atoms is the number of atoms.
func (l *Leafwise) Atoms() int { return len(l.atoms) }

// Eval combines the atoms' answers as the query does, asking atom(i) only
// for the atoms the answer still depends on (AND and OR stop early).
func (l *Leafwise) Eval(atom func(i int) bool) bool { return l.root.eval(atom) }

func (e *lexpr) eval(atom func(int) bool) bool {
	switch e.op {
	case lopAtom:
		return atom(e.atom)
	case lopTrue:
		return true
	case lopAnd:
		for i := range e.kids {
			if !e.kids[i].eval(atom) {
				return false
			}
		}
		return true
	case lopOr:
		for i := range e.kids {
			if e.kids[i].eval(atom) {
				return true
			}
		}
		return false
	}
	return !e.kids[0].eval(atom)
}

// Path is the one field atom i reads, "" when it reads fields by a
// pattern or every field (free text, process.*:x): then any path may
// have a Test.
func (l *Leafwise) Path(i int) string {
	switch t := l.atoms[i].(type) {
	case *fieldM:
		return t.path
	case *existsM:
		return t.path
	}
	return ""
}

// Exists reports whether atom i is f:* on Path(i), which also holds when
// f is an object with some indexed scalar below it: the atom is leafwise
// only where no leaf lies below Path(i) (the caller knows its fields).
func (l *Leafwise) Exists(i int) bool {
	_, ok := l.atoms[i].(*existsM)
	return ok
}

// Test is how atom i tests the values at path, nil when no value there
// can pass (the atom does not read the path, or the value cannot apply
// to its type).
func (l *Leafwise) Test(i int, path string) *LeafTest {
	var ts []tester
	switch t := l.atoms[i].(type) {
	case *fieldM:
		if path == t.path {
			ts = append(ts, t.t)
		}
	case *existsM:
		if path == t.path {
			ts = append(ts, t.t)
		}
	case *wildFieldM:
		if t.pat == nil || t.pat.match(path) {
			tt := t.def
			if typed, ok := t.typed[path]; ok {
				tt = typed
			}
			if tt != nil {
				ts = append(ts, tt)
			}
		}
		for _, v := range t.virtual {
			if f := v.(*fieldM); f.path == path {
				ts = append(ts, f.t)
			}
		}
	}
	if len(ts) == 0 {
		return nil
	}
	lt := &LeafTest{ts: ts}
	for _, t := range ts {
		n := maxLen(t)
		if n < 0 {
			lt.maxLen = -1
			break
		}
		lt.maxLen = max(lt.maxLen, n)
	}
	return lt
}

// LeafTest tests one value of one path for an atom.
type LeafTest struct {
	ts     []tester
	maxLen int
}

// Str reports whether the string value s passes.
func (t *LeafTest) Str(s string) bool {
	for _, x := range t.ts {
		if x.Str(s, nil) {
			return true
		}
	}
	return false
}

// Other reports whether a number or boolean value passes (numbers as the
// float64 JSON decoding gives).
func (t *LeafTest) Other(v any) bool {
	for _, x := range t.ts {
		if x.Other(v) {
			return true
		}
	}
	return false
}

// MaxLen is the byte length of the longest string Str can pass, -1 when
// there is no such bound: an index that left long strings out can answer
// a test with a bound below their length without them.
func (t *LeafTest) MaxLen() int { return t.maxLen }

// maxLen bounds the strings a tester can pass, -1 for none: only exact,
// case-sensitive equality has one (lowercasing can shorten a string, a
// number's text is trimmed, a wildcard or range passes any length).
func maxLen(t tester) int {
	switch x := t.(type) {
	case *kwEq:
		if !x.caseless {
			return len(x.s)
		}
	case *boolTest:
		return len("false")
	case *anyOf:
		n := 0
		for s := range x.set {
			n = max(n, len(s))
		}
		for _, o := range x.others {
			m := maxLen(o)
			if m < 0 {
				return -1
			}
			n = max(n, m)
		}
		return n
	}
	return -1
}
