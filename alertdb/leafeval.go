package alertdb

import (
	"errors"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/internal/jsonstr"
)

// A filter given as a compiled KQL query is evaluated on the row index
// without building documents: most queries (field tests, free text,
// field-name wildcards, negations of them) are Boolean combinations of
// atoms that each ask "does some leaf (path, value) pass this test"
// (kql.Leafwise). A row's leaves are its rule template's, less the ones
// the row overrides, plus the row's own entries. So per pass and
// template, each atom's passing template fields are found once (a free
// text over the ~300 template values is decided once per rule, not per
// row); per row, only the ~30 own entries are tested, and the row's JSON
// is read only for values the index does not hold (long or cold ones)
// that the atom could match — and only as far as those fields: the
// JSON's top-level keys are sorted (json.Marshal, codec.go), so the read
// stops at the first key past the last wanted field, which for
// event.original is the first 1.5 KB of ~11.
//
// Before, every pass handed each row to the predicate as a document:
// free text patched ~30 entries into a 300-value template document and
// walked all 300 per row (~0.5 s over 100k real alerts), and a wildcard
// in free text inflated and scanned every row's whole JSON (8.4 s).

// leafPlan is a query's leafwise form resolved against the field table.
type leafPlan struct {
	lw    *kql.Leafwise
	names []string
	// one[a] is atom a's only field id; -1 when the atom reads fields by
	// pattern (tests[a] then has a test per id), noField when its field
	// is in no row.
	one []int32
	// tests[a][id] is atom a's test of field id, nil when it reads none.
	tests [][]*kql.LeafTest
	// oneTest[a] is the test of one[a].
	oneTest []*kql.LeafTest
}

const noField = -2

// newLeafPlan returns the plan of q, nil when q has no leafwise form or
// an exists atom names an object (its fields have leaves below the
// path): exists on an object asks for the object, which the leaves of
// dotted keys do not show.
func newLeafPlan(q *kql.Query) *leafPlan {
	lw, ok := q.Leafwise()
	if !ok {
		return nil
	}
	names := leafFields.snapshot()
	n := lw.Atoms()
	lp := &leafPlan{lw: lw, names: names, one: make([]int32, n), tests: make([][]*kql.LeafTest, n), oneTest: make([]*kql.LeafTest, n)}
	for a := range n {
		p := lw.Path(a)
		if p == "" {
			lp.one[a] = -1
			ts := make([]*kql.LeafTest, len(names))
			for id, name := range names {
				ts[id] = lw.Test(a, name)
			}
			lp.tests[a] = ts
			continue
		}
		if lw.Exists(a) {
			for _, name := range names {
				if len(name) > len(p) && name[len(p)] == '.' && strings.HasPrefix(name, p) {
					return nil
				}
			}
		}
		leafFields.mu.RLock()
		id, known := leafFields.ids[p]
		leafFields.mu.RUnlock()
		if !known || int(id) >= len(names) {
			lp.one[a] = noField
			continue
		}
		lp.one[a] = int32(id)
		lp.oneTest[a] = lw.Test(a, p)
	}
	return lp
}

// leafMatch sets keep[i] for the rows that q, planned as lp, keeps, on
// every core. Rows the index cannot answer are decoded.
func leafMatch(rows []*Row, lp *leafPlan, q *kql.Query, keep []bool) {
	// Workers take blocks of rows as they go rather than a fixed half
	// each: on a shared machine one core may be lent elsewhere for a
	// while, and the pass is as slow as its slowest worker.
	const block = 1024
	var next atomic.Int64
	workers := max(1, min(runtime.GOMAXPROCS(0), (len(rows)+block-1)/block))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := newLeafEval(lp)
			defer e.release()
			for {
				start := int(next.Add(block)) - block
				if start >= len(rows) {
					return
				}
				for i := start; i < min(len(rows), start+block); i++ {
					if m, ok := e.match(rows[i]); ok {
						keep[i] = m
					} else {
						keep[i] = q.Match(rows[i].doc())
					}
				}
			}
		}()
	}
	wg.Wait()
}

// tmplHits is what a template decides for each atom of a pass.
type tmplHits struct {
	// hits[a]: the template's fields with a value atom a passes; the
	// atom holds on a row that does not override one of them.
	hits [][]uint32
	// cold[a]: the template's fields atom a reads whose values only the
	// JSON has.
	cold [][]uint32
}

// leafEval evaluates a plan row by row on one goroutine.
type leafEval struct {
	lp     *leafPlan
	byTmpl map[*template]*tmplHits
	// The current row: its entries, mark[id] == gen for the fields it
	// has its own entry for, its template's decisions.
	row  *Row
	own  []ownEntry
	mark []uint32
	gen  uint32
	th   *tmplHits
	// want lists the fields the current atom must read from the JSON.
	want   []wantField
	js     rowJSON
	jsErr  bool
	atomFn func(int) bool
}

type ownEntry struct {
	id uint32
	pl string
}

type wantField struct {
	name string
	t    *kql.LeafTest
}

func newLeafEval(lp *leafPlan) *leafEval {
	e := &leafEval{lp: lp, byTmpl: map[*template]*tmplHits{}, mark: make([]uint32, len(lp.names))}
	e.atomFn = e.atom
	return e
}

func (e *leafEval) release() { e.js.release() }

// match evaluates the plan on r; ok is false when r must be decoded (no
// index, unreadable JSON).
func (e *leafEval) match(r *Row) (matched, ok bool) {
	if r.tmpl == nil {
		return false, false
	}
	e.row, e.own, e.jsErr = r, e.own[:0], false
	e.gen++
	e.js.reset()
	for s := r.flat; len(s) > 0; {
		var id uint64
		var pl string
		id, pl, s = nextEntry(s)
		if id < uint64(len(e.mark)) {
			e.mark[id] = e.gen
			e.own = append(e.own, ownEntry{uint32(id), pl})
		}
	}
	e.th = e.template(r.tmpl)
	m := e.lp.lw.Eval(e.atomFn)
	return m, !e.jsErr
}

// template decides, once per pass and worker, which of t's fields each
// atom passes.
func (e *leafEval) template(t *template) *tmplHits {
	if th, ok := e.byTmpl[t]; ok {
		return th
	}
	n := e.lp.lw.Atoms()
	th := &tmplHits{hits: make([][]uint32, n), cold: make([][]uint32, n)}
	for a := range n {
		for _, id := range t.ids {
			lt := e.lp.test(a, id)
			if lt == nil {
				continue
			}
			v, ok := t.vals[id]
			switch {
			case !ok || t.partial[id] && (lt.MaxLen() < 0 || lt.MaxLen() > maxInline):
				th.cold[a] = append(th.cold[a], id)
			case anyPasses(lt, v):
				th.hits[a] = append(th.hits[a], id)
			}
		}
	}
	e.byTmpl[t] = th
	return th
}

// test is atom a's test of field id, nil when it reads none.
func (lp *leafPlan) test(a int, id uint32) *kql.LeafTest {
	switch one := lp.one[a]; {
	case one == -1:
		if int(id) < len(lp.tests[a]) {
			return lp.tests[a][id]
		}
	case one >= 0 && uint32(one) == id:
		return lp.oneTest[a]
	}
	return nil
}

// anyPasses tests a template value: a scalar or a []any of them (as
// decodeAny gives, long values appended).
func anyPasses(lt *kql.LeafTest, v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return lt.Str(x)
	case []any:
		for _, y := range x {
			if anyPasses(lt, y) {
				return true
			}
		}
		return false
	}
	return lt.Other(v)
}

// atom answers atom a on the current row.
func (e *leafEval) atom(a int) bool {
	lp := e.lp
	e.want = e.want[:0]
	if one := lp.one[a]; one != -1 {
		if one == noField {
			return false
		}
		id := uint32(one)
		if e.mark[id] == e.gen {
			for _, o := range e.own {
				if o.id == id && e.ownPasses(lp.oneTest[a], o) {
					return true
				}
			}
		} else {
			for _, h := range e.th.hits[a] {
				if h == id {
					return true
				}
			}
			for _, c := range e.th.cold[a] {
				if c == id {
					e.want = append(e.want, wantField{lp.names[id], lp.oneTest[a]})
				}
			}
		}
	} else {
		ts := lp.tests[a]
		for _, o := range e.own {
			if t := ts[o.id]; t != nil && e.ownPasses(t, o) {
				return true
			}
		}
		for _, id := range e.th.hits[a] {
			if e.mark[id] != e.gen {
				return true
			}
		}
		for _, id := range e.th.cold[a] {
			if e.mark[id] != e.gen {
				e.want = append(e.want, wantField{lp.names[id], ts[id]})
			}
		}
	}
	if len(e.want) == 0 {
		return false
	}
	found, err := e.js.scan(e.row, e.want)
	if err != nil {
		e.jsErr = true
	}
	return found
}

// ownPasses tests one of the row's own entries; a value the entry does
// not hold (cold, or long and lt unbounded) joins e.want instead.
func (e *leafEval) ownPasses(lt *kql.LeafTest, o ownEntry) bool {
	pl := o.pl
	switch pl[0] {
	case entryAbsent:
		return false
	case entryCold:
		e.want = append(e.want, wantField{e.lp.names[o.id], lt})
		return false
	case entryPart:
		if lt.MaxLen() < 0 || lt.MaxLen() > maxInline {
			// The long values are in the JSON only; the short ones are
			// read from there too, with them.
			e.want = append(e.want, wantField{e.lp.names[o.id], lt})
			return false
		}
	case entryVals:
	default:
		e.jsErr = true // not an index entry: decode
		return false
	}
	base := e.row.flat
	for i := 1; i < len(pl); {
		tag := pl[i]
		i++
		switch tag {
		case valStr:
			n, w := uvarint(pl[i:])
			i += w
			if lt.Str(pl[i : i+int(n)]) {
				return true
			}
			i += int(n)
		case valRef:
			off, w := uvarint(pl[i:])
			i += w
			n, w := uvarint(pl[i:])
			i += w
			if lt.Str(base[off : off+n]) {
				return true
			}
		case valNum:
			if lt.Other(math.Float64frombits(le64(pl[i : i+8]))) {
				return true
			}
			i += 8
		case valTrue, valFalse:
			if lt.Other(tag == valTrue) {
				return true
			}
		default:
			e.jsErr = true
			return false
		}
	}
	return false
}

// rowJSON is the current row's JSON, inflated only as far as a scan
// needed it.
type rowJSON struct {
	inf     *inflater
	cur     deltaCursor
	buf     []byte
	started bool
	done    bool // buf holds the whole JSON
	// s scans buf; its path and string buffers are reused.
	s leafScanner
}

func (j *rowJSON) reset() { j.started, j.done, j.buf = false, false, j.buf[:0] }

func (j *rowJSON) release() {
	if j.inf != nil {
		readers.Put(j.inf)
		j.inf = nil
	}
}

// more adds to buf about as much again of the JSON as it holds (2 KiB
// at first: a real alert's event.original ends near 1.3 KB). The delta
// (delta.go, a few KB) is inflated whole at the first call; the JSON is
// then copied from it and the template only as far as the scan reads.
func (j *rowJSON) more(r *Row) error {
	if !j.started {
		if j.inf == nil {
			j.inf = readers.Get().(*inflater)
		}
		d, err := j.inf.deltaOf(r)
		if err != nil {
			return err
		}
		tj, _ := r.tmpl.json()
		j.cur.reset(d, tj)
		j.started = true
	}
	target := max(2048, 2*len(j.buf))
	if cap(j.buf) < target {
		nb := make([]byte, len(j.buf), target)
		copy(nb, j.buf)
		j.buf = nb
	}
	var err error
	j.buf, j.done, err = j.cur.appendTo(j.buf, target-len(j.buf))
	return err
}

// scan reports whether a value of one of the wanted fields passes its
// test, inflating the row's JSON as far as needed.
func (j *rowJSON) scan(r *Row, want []wantField) (bool, error) {
	last := ""
	for _, w := range want {
		last = max(last, w.name)
	}
	for {
		if len(j.buf) > 0 {
			j.s.reset(j.buf, want, last)
			err := j.s.top()
			switch {
			case err == nil:
				return false, nil
			case err == errFound:
				return true, nil
			case err != errEOF || j.done:
				return false, err
			}
		}
		if j.done {
			return false, errEOF
		}
		if err := j.more(r); err != nil {
			return false, err
		}
	}
}

// errFound ends a scan at the first value that passes.
var errFound = errors.New("found")

// leafScanner walks a JSON object the way ecs.AnyLeaf walks a document
// (dotted paths, arrays flattened, null dropped) and tests the values of
// the wanted paths, decoding nothing else. Reaching the end of its input
// inside the object is errEOF: the caller inflates more and scans again.
type leafScanner struct {
	jdec // the input and position; its ws and sep
	path []byte
	want []wantField
	last string // the greatest wanted path
	str  []byte // decoded strings
}

func (s *leafScanner) reset(b []byte, want []wantField, last string) {
	s.b, s.i, s.path, s.want, s.last = b, 0, s.path[:0], want, last
}

// top scans the document. Its top-level keys come sorted (json.Marshal):
// a key can hold a path only if it is the path or a prefix of it, so
// every key after the greatest wanted path holds none, and the scan
// stops there.
func (s *leafScanner) top() error {
	s.ws()
	if s.i >= len(s.b) {
		return errEOF
	}
	if s.b[s.i] != '{' {
		return errors.New("scanning alert: not a JSON object")
	}
	return s.object(true)
}

// relevant says whether the wanted paths include s.path (exact) or paths
// below it (below).
func (s *leafScanner) relevant() (exact, below bool) {
	p := s.pathString()
	for _, w := range s.want {
		if len(w.name) == len(p) {
			exact = exact || w.name == p
		} else if len(w.name) > len(p) && w.name[len(p)] == '.' && strings.HasPrefix(w.name, p) {
			below = true
		}
	}
	return exact, below
}

func (s *leafScanner) object(top bool) error {
	s.i++ // {
	s.ws()
	if s.i >= len(s.b) {
		return errEOF
	}
	if s.b[s.i] == '}' {
		s.i++
		return nil
	}
	base := len(s.path)
	for {
		s.ws()
		if s.i >= len(s.b) {
			return errEOF
		}
		if s.b[s.i] != '"' {
			return errors.New("object key expected")
		}
		k, err := s.strBytes()
		if err != nil {
			return err
		}
		if top && string(k) > s.last {
			return nil // sorted keys: nothing wanted remains
		}
		if base > 0 {
			s.path = append(s.path, '.')
		}
		s.path = append(s.path, k...)
		s.ws()
		if s.i >= len(s.b) {
			return errEOF
		}
		if s.b[s.i] != ':' {
			return errors.New("colon expected")
		}
		s.i++
		exact, below := s.relevant()
		if exact || below {
			err = s.value(exact, below)
		} else {
			err = s.skip()
		}
		s.path = s.path[:base]
		if err != nil {
			return err
		}
		if end, err := s.sep('}'); err != nil || end {
			return err
		}
	}
}

// value reads a value at a relevant path: exact when the path is wanted,
// below when paths under it are.
func (s *leafScanner) value(exact, below bool) error {
	s.ws()
	if s.i >= len(s.b) {
		return errEOF
	}
	switch c := s.b[s.i]; {
	case c == '{':
		if !below {
			return s.skip()
		}
		return s.object(false)
	case c == '[':
		s.i++
		for first := true; ; first = false {
			s.ws()
			if s.i >= len(s.b) {
				return errEOF
			}
			if s.b[s.i] == ']' && first {
				s.i++
				return nil
			}
			if err := s.value(exact, below); err != nil {
				return err
			}
			if end, err := s.sep(']'); err != nil || end {
				return err
			}
		}
	case !exact:
		return s.skip()
	case c == '"':
		b, err := s.strBytes()
		if err != nil {
			return err
		}
		// The tests keep nothing they are given: the bytes are reused.
		v := unsafe.String(unsafe.SliceData(b), len(b))
		for _, w := range s.want {
			if w.name == s.pathString() && w.t.Str(v) {
				return errFound
			}
		}
		return nil
	case c == 't', c == 'f', c == 'n':
		lit := "null"
		switch c {
		case 't':
			lit = "true"
		case 'f':
			lit = "false"
		}
		if len(s.b)-s.i < len(lit) {
			return errEOF
		}
		if string(s.b[s.i:s.i+len(lit)]) != lit {
			return errors.New("bad literal")
		}
		s.i += len(lit)
		if c == 'n' {
			return nil
		}
		return s.testOther(c == 't')
	default:
		start := s.i
		s.number()
		if s.i >= len(s.b) {
			return errEOF // the number may go on
		}
		f, err := strconv.ParseFloat(string(s.b[start:s.i]), 64)
		if err != nil {
			return err
		}
		return s.testOther(f)
	}
}

func (s *leafScanner) pathString() string {
	return unsafe.String(unsafe.SliceData(s.path), len(s.path))
}

// testOther tests a number or boolean at the current path; errFound when
// it passes.
func (s *leafScanner) testOther(v any) error {
	for _, w := range s.want {
		if w.name == s.pathString() && w.t.Other(v) {
			return errFound
		}
	}
	return nil
}

func (s *leafScanner) number() {
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			s.i++
		default:
			return
		}
	}
}

// strBytes reads the string at s.i: a slice of the input when it needs no
// rewriting, else decoded into s.str.
func (s *leafScanner) strBytes() ([]byte, error) {
	start := s.i + 1
	for i := start; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '"':
			s.i = i + 1
			return s.b[start:i], nil
		case c >= utf8.RuneSelf && validRuneAt(s.b, &i):
			continue // the loop's i++ passes its last byte
		case c == '\\' || c >= utf8.RuneSelf:
			out, next, err := jsonstr.AppendUnquoted(s.str[:0], s.b, start, i)
			if err != nil {
				if closing(s.b[i:]) < 0 {
					return nil, errEOF // cut inside the string
				}
				return nil, err
			}
			s.str, s.i = out, next
			return out, nil
		case c < 0x20:
			return nil, errors.New("control character in string")
		}
	}
	return nil, errEOF
}

// validRuneAt reports a valid multi-byte rune at b[*i], moving i to its last
// byte.
func validRuneAt(b []byte, i *int) bool {
	r, size := utf8.DecodeRune(b[*i:])
	if r == utf8.RuneError && size == 1 {
		return false
	}
	*i += size - 1
	return true
}

// closing is the index of the quote that ends a string whose text is b,
// -1 when b is cut before it.
func closing(b []byte) int {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// skip passes over a value without decoding it.
func (s *leafScanner) skip() error {
	s.ws()
	if s.i >= len(s.b) {
		return errEOF
	}
	switch c := s.b[s.i]; c {
	case '"':
		n := closing(s.b[s.i+1:])
		if n < 0 {
			return errEOF
		}
		s.i += n + 2
		return nil
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				n := closing(s.b[s.i+1:])
				if n < 0 {
					return errEOF
				}
				s.i += n + 2
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return nil
				}
			}
			s.i++
		}
		return errEOF
	case 't', 'f', 'n':
		for s.i < len(s.b) && s.b[s.i] >= 'a' && s.b[s.i] <= 'z' {
			s.i++
		}
	default:
		s.number()
	}
	if s.i >= len(s.b) {
		return errEOF // a literal or number may go on
	}
	return nil
}
