package alertdb

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/xferhunt/xferhunt/ecs"
)

// A filter must not inflate and decode every held alert: that is tens of
// microseconds an alert, seconds over 100k. So each row also keeps a flat
// index of its leaf values, the way Elasticsearch resolves them
// (ecs.Doc.Values), with field names interned in one table and every entry
// identical to its template's (the first alert of its rule and program:
// the rule metadata, threat, explain, process and session shape, constant
// ECS fields) left out. A filter pass then builds, per row, a
// tiny ecs.Doc holding only the fields the query references and hands it
// to the unchanged predicate. Long strings (event.original, the reason),
// invalid UTF-8 and types the JSON round trip would change are not indexed
// ("cold"): a query touching one decodes that row as before, so results
// are always those of the full document.

// maxInline is the longest string value the index holds. Longer ones are
// rare per field but cost memory on every row. An entry that dropped one
// is partial: a query that only compares fields for equality with shorter
// literals can still use it, as a long value can never be equal to them.
const maxInline = 160

// Entry kinds, the first byte of an entry's payload.
const (
	entryVals   byte = 'v' // values follow
	entryPart   byte = 'p' // values follow; longer ones were left out
	entryCold   byte = 'c' // present but not indexed: decode the document
	entryAbsent byte = 'a' // in the template but not in this row
)

// Value tags inside an entryVals payload.
const (
	valStr   byte = 's'
	valNum   byte = 'n'
	valTrue  byte = 't'
	valFalse byte = 'f'
	valRef   byte = 'r' // a string already in the row's index: offset, length
)

// fieldTable interns leaf paths: rows store small ids, queries look names
// up once per pass. Ids only grow, so an id read once stays valid.
type fieldTable struct {
	mu    sync.RWMutex
	ids   map[string]uint32
	names []string
	// arrayed[id] says the path was once reached through an array of
	// objects (kibana.alert.ancestors, threat): a nested query over it
	// needs each object apart, which the flat index does not keep.
	arrayed []bool
}

var leafFields = fieldTable{ids: map[string]uint32{}}

// A row's index is built from its leaf paths and interns them for the
// process, which a hostile document turns against it: one 9,000 objects
// deep built 374 MB of path strings (each level's path is the one above
// plus a key: quadratic) and would intern an 81 KB name; a view file of
// lines with distinct keys would intern every one of them. A row with a
// path longer than maxIndexedPath or more than maxIndexedLeaves leaf
// paths, or that would add a name to a table of maxFieldNames, keeps no
// index: filters decode it, which costs time on that row only, never a
// different answer (TestHostileShapesKeepNoIndex). Real alerts have ~300
// leaf paths of at most ~70 bytes.
const (
	maxIndexedPath   = 512
	maxIndexedLeaves = 4096
	maxFieldNames    = 1 << 16
)

// room reports whether the paths of acc and cold are in the table, or
// the table may grow by those that are not.
func (t *fieldTable) room(acc map[string][]any, cold map[string]bool) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if len(t.names)+len(acc)+len(cold) <= t.limit() {
		return true
	}
	for p := range acc {
		if _, ok := t.ids[p]; !ok {
			return false
		}
	}
	for p := range cold {
		if _, ok := t.ids[p]; !ok {
			return false
		}
	}
	return true
}

// fieldLimit, when set (tests), replaces maxFieldNames.
var fieldLimit int

func (t *fieldTable) limit() int {
	if fieldLimit > 0 {
		return fieldLimit
	}
	return maxFieldNames
}

func (t *fieldTable) id(name string) uint32 {
	t.mu.RLock()
	id, ok := t.ids[name]
	t.mu.RUnlock()
	if ok {
		return id
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.ids[name]; ok {
		return id
	}
	id = uint32(len(t.names))
	name = strings.Clone(name)
	t.ids[name] = id
	t.names = append(t.names, name)
	t.arrayed = append(t.arrayed, false)
	return id
}

// markArrayed records that id was reached through an array of objects.
func (t *fieldTable) markArrayed(id uint32) {
	t.mu.RLock()
	done := t.arrayed[id]
	t.mu.RUnlock()
	if !done {
		t.mu.Lock()
		t.arrayed[id] = true
		t.mu.Unlock()
	}
}

// anyArrayed reports whether one of ids was ever reached through an
// array of objects.
func (t *fieldTable) anyArrayed(ids []uint32) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, id := range ids {
		if int(id) < len(t.arrayed) && t.arrayed[id] {
			return true
		}
	}
	return false
}

// snapshot returns the names known now, indexed by id.
func (t *fieldTable) snapshot() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.names[:len(t.names):len(t.names)]
}

// template is the index entries and the JSON the first alert of a rule
// and program (templates, below) had; later rows of the same key store
// only what differs. Immutable once built, shared by every row of its key:
// a filter's answer over fields no row entry overrides is the template's.
//
// A partial entry (values over maxInline left out) equals the template's
// only when the long values are equal too (long), so the template's values
// are complete for every row that leaves the entry out: a filter reads the
// rule's long texts (description, note, setup) from the template instead
// of from every row's JSON, and only a row's own long values (its
// event.original) from its JSON.
type template struct {
	payload map[uint32]string
	vals    map[uint32]any // decoded payloads (see decodeAny) with the long values, shared read-only
	partial map[uint32]bool
	long    map[uint32][]string // the values a partial payload left out, sorted
	ids     []uint32            // sorted
	// js is the first alert as JSON, root its structure: rows hold their
	// JSON as a delta against it (delta.go).
	js   []byte
	root *jnode
}

// templates are keyed by rule and process.executable: alerts of one rule
// and one transfer program (the rule's own new-terms field) share their
// process, parent, session and audit record shapes, so each row's index
// and delta against its template hold little more than ids, times and
// names. Templates are never dropped (rows refer to them), so at most
// maxExeTemplates keys name an executable; past that, alerts of a new
// one share their rule's template, as every alert did before.
//
// Rules are bounded too: a template holds a whole alert's JSON and its
// long values (the rule's investigation guide) uncompressed, ~100 KB for
// the seed rule and as much as the document for a hostile one. One per
// rule is nothing for the rules a host runs, but a view file is anyone's:
// 2,000 alerts naming 2,000 rules with 64 KB guides held a template each,
// ~100x the rows' compressed size (TestTemplatesBounded). Past
// maxTemplates keys, or once templates hold maxTemplateBytes of JSON and
// long values, a new key's rows share noTemplate, which holds nothing:
// their delta is their whole JSON, they keep every index entry themselves
// and read their long values from their own JSON, as a row whose long text
// differs from its template's does.
var templates = struct {
	sync.Mutex
	byKey map[templateKey]*template
	exes  int
	size  int // bytes of JSON and long values the templates hold
	limit int // maxTemplates; tests lower it
}{byKey: map[templateKey]*template{}, limit: maxTemplates}

type templateKey struct{ rule, exe string }

// maxExeTemplates bounds the templates of distinct executables (~100 KB
// each: the JSON of an alert, its structure and its index entries).
const maxExeTemplates = 64

// maxTemplateJSON is the largest alert JSON a template keeps.
const maxTemplateJSON = 256 << 10

const (
	maxTemplates     = 1024
	maxTemplateBytes = 32 << 20
)

// What a template holds per value of its structure (a jnode, its member
// slot and key) and per index entry (payload, decoded value, id), in
// heap bytes as TestTemplateStructureBounded measures them (~300 for
// the pair): counted with the JSON against maxTemplateBytes.
const (
	templateNodeBytes  = 160
	templateEntryBytes = 150
)

// noTemplate is the empty template of keys past the bounds: never
// written after it is made, so rows share it read-only.
var noTemplate = &template{payload: map[uint32]string{}, vals: map[uint32]any{}, partial: map[uint32]bool{}, long: map[uint32][]string{}}

type flatEntry struct {
	id      uint32
	payload string   // without references, as templates hold it
	vals    []any    // what the payload holds
	long    []string // what it left out (over maxInline), sorted
	partial bool
}

// flatten builds the row index of d and the template it is relative to;
// js is d's JSON, which a new template keeps.
func flatten(d ecs.Doc, js []byte) (string, *template) {
	acc := make(map[string][]any, 64)
	cold := map[string]bool{}
	arrayed := map[string]bool{}
	if !walkFlat(map[string]any(d), "", acc, cold, arrayed, false) || !leafFields.room(acc, cold) {
		return "", nil // no index: filters decode the row
	}
	for p := range arrayed {
		leafFields.markArrayed(leafFields.id(p))
	}
	entries := make([]flatEntry, 0, len(acc)+len(cold))
	var buf []byte
	for p, vs := range acc {
		if cold[p] {
			continue
		}
		var ok, partial bool
		all := vs
		buf, vs, partial, ok = encodeVals(buf[:0], vs)
		if !ok {
			cold[p] = true
			continue
		}
		e := flatEntry{id: leafFields.id(p), payload: string(buf), vals: vs, partial: partial}
		if partial {
			e.long = longValues(all)
		}
		entries = append(entries, e)
	}
	for p := range cold {
		entries = append(entries, flatEntry{id: leafFields.id(p), payload: string(entryCold)})
	}
	slices.SortFunc(entries, func(a, b flatEntry) int { return int(a.id) - int(b.id) })

	t := ruleTemplate(d.Str("kibana.alert.rule.rule_id"), d.Str("process.executable"), entries, js)
	var out []byte
	put := func(e flatEntry) {
		out = binary.AppendUvarint(out, uint64(e.id))
		if e.vals == nil {
			out = binary.AppendUvarint(out, uint64(len(e.payload)))
			out = append(out, e.payload...)
			return
		}
		// The same strings recur within an alert (the user in four
		// fields, the file name inside the path, both inside the
		// reason): a later copy refers to the earlier bytes.
		buf = appendRefs(buf[:0], out, e)
		out = binary.AppendUvarint(out, uint64(len(buf)))
		out = append(out, buf...)
	}
	// Merge the row's entries with the template's ids, both sorted,
	// keeping what differs.
	var keep []flatEntry
	i := 0
	for _, tid := range t.ids {
		for i < len(entries) && entries[i].id < tid {
			keep = append(keep, entries[i])
			i++
		}
		if i < len(entries) && entries[i].id == tid {
			if entries[i].payload != t.payload[tid] || !slices.Equal(entries[i].long, t.long[tid]) {
				keep = append(keep, entries[i])
			}
			i++
			continue
		}
		keep = append(keep, flatEntry{id: tid, payload: string(entryAbsent)})
	}
	keep = append(keep, entries[i:]...)
	// Longest values first: the reason holds the user, process and path,
	// and the path holds the file name, so those become references.
	slices.SortStableFunc(keep, func(a, b flatEntry) int { return longest(b.vals) - longest(a.vals) })
	for _, e := range keep {
		put(e)
	}
	return string(out), t
}

// longValues are the strings encodeVals leaves out of a payload, sorted
// (a field reached by several routes gathers them in map order).
func longValues(vs []any) []string {
	var out []string
	for _, v := range vs {
		if t, ok := v.(string); ok && len(t) > maxInline {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

func longest(vs []any) int {
	n := 0
	for _, v := range vs {
		if s, ok := v.(string); ok {
			n = max(n, len(s))
		}
	}
	return n
}

// appendRefs encodes vs (already checked by encodeVals) as an entryVals
// payload whose strings refer into base when base holds them.
func appendRefs(b, base []byte, e flatEntry) []byte {
	b = append(b, e.payload[0])
	for _, v := range e.vals {
		if t, ok := v.(string); ok && len(t) > 4 {
			if off := bytes.Index(base, []byte(t)); off >= 0 {
				b = append(b, valRef)
				b = binary.AppendUvarint(b, uint64(off))
				b = binary.AppendUvarint(b, uint64(len(t)))
				continue
			}
		}
		b = appendScalar(b, v)
	}
	return b
}

// ruleTemplate returns the template of rule and exe (process.executable),
// made from entries and js when it is the first such alert.
func ruleTemplate(rule, exe string, entries []flatEntry, js []byte) *template {
	templates.Lock()
	defer templates.Unlock()
	k := templateKey{rule, exe}
	if t, ok := templates.byKey[k]; ok {
		return t
	}
	if exe != "" && templates.exes >= maxExeTemplates {
		k.exe = ""
		if t, ok := templates.byKey[k]; ok {
			return t
		}
	}
	// The delta needs the template's JSON; one over maxTemplateJSON (an
	// alert is ~24 KB, a document may be 4 MiB) is not kept, and rows
	// of its key hold their whole JSON, deflated.
	if len(js) > maxTemplateJSON {
		js = nil
	}
	size := len(js)
	for _, e := range entries {
		for _, l := range e.long {
			size += len(l)
		}
	}
	past := func() *template {
		if t, ok := templates.byKey[templateKey{rule, ""}]; ok {
			return t // the rule's own is nearer than none
		}
		return noTemplate
	}
	if len(templates.byKey) >= templates.limit || templates.size+size > maxTemplateBytes {
		return past()
	}
	// The structure and the index maps cost more than the JSON for a
	// document of many tiny values (~300 bytes per value against ~10 of
	// JSON): counting only the JSON, 840 templates of 4,000 values held
	// 1 GB while the bound saw 31 MB (TestTemplateStructureBounded).
	root := parseTemplate(js)
	size += countNodes(root)*templateNodeBytes + len(entries)*templateEntryBytes
	if templates.size+size > maxTemplateBytes {
		return past()
	}
	templates.size += size
	if k.exe != "" {
		templates.exes++
	}
	js = bytes.Clone(js)
	t := &template{payload: map[uint32]string{}, vals: map[uint32]any{}, partial: map[uint32]bool{}, long: map[uint32][]string{},
		js: js, root: root}
	for _, e := range entries {
		t.payload[e.id] = e.payload
		t.ids = append(t.ids, e.id)
		v, partial, ok := decodeAny("", e.payload)
		if !ok {
			continue
		}
		if partial {
			// Complete with what the payload left out: rows leaving the
			// entry out have these very values (flatten compares them).
			t.long[e.id] = e.long
			var vs []any
			if v != nil {
				vs, _, _ = decodeVals("", e.payload)
			}
			for _, l := range e.long {
				vs = append(vs, l)
			}
			v, partial = vs, false
			if len(vs) == 1 {
				v = vs[0]
			}
		}
		t.vals[e.id] = v
		t.partial[e.id] = partial
	}
	templates.byKey[k] = t
	return t
}

// walkFlat gathers the scalar values under every leaf path, as
// ecs.Doc.Values would return them for that path (up to order, which no
// KQL operator observes). Values the JSON round trip of codec.go would
// alter mark their path cold. Paths below an object inside an array
// (inArr) go to arrayed.
func walkFlat(m map[string]any, prefix string, acc map[string][]any, cold, arrayed map[string]bool, inArr bool) bool {
	for k, v := range m {
		p := k
		if prefix != "" {
			if len(prefix)+1+len(k) > maxIndexedPath {
				return false
			}
			p = prefix + "." + k
		}
		if !walkValue(v, p, acc, cold, arrayed, inArr) {
			return false
		}
	}
	return true
}

func walkValue(v any, p string, acc map[string][]any, cold, arrayed map[string]bool, inArr bool) bool {
	k := ecs.Kind(v)
	if inArr && k != ecs.KindObject && k != ecs.KindArray {
		arrayed[p] = true
	}
	switch k {
	case ecs.KindNull:
	case ecs.KindObject:
		return walkFlat(ecs.AsObject(v), p, acc, cold, arrayed, inArr)
	case ecs.KindArray:
		for i, n := 0, ecs.Len(v); i < n; i++ {
			e := ecs.Elem(v, i)
			if !walkValue(e, p, acc, cold, arrayed, inArr || ecs.Kind(e) == ecs.KindObject) {
				return false
			}
		}
	case ecs.KindString, ecs.KindBool:
		acc[p] = append(acc[p], v)
	default:
		if f, ok := ecs.Float(v); ok {
			acc[p] = append(acc[p], f)
			break
		}
		cold[p] = true
	}
	return len(acc)+len(cold) <= maxIndexedLeaves
}

// encodeVals returns the payload of a field's values and the values it
// holds; ok is false when the field cannot be indexed.
func encodeVals(b []byte, vs []any) (_ []byte, held []any, partial, ok bool) {
	b = append(b, entryVals)
	held = vs[:0:0]
	for _, v := range vs {
		switch ecs.Kind(v) {
		case ecs.KindString:
			// json.Marshal rewrites invalid UTF-8, so only the JSON
			// knows the value a filter sees.
			t, _ := v.(string)
			if !utf8.ValidString(t) {
				return b, nil, false, false
			}
			if len(t) > maxInline {
				partial = true
				continue
			}
		case ecs.KindBool:
		case ecs.KindNumber:
			// walkValue stored every number as the float64 that
			// decoding the alert's JSON yields; another shape would
			// not be read back as itself.
			if !ecs.IsDecoded(v) {
				return b, nil, false, false
			}
		default:
			return b, nil, false, false
		}
		b = appendScalar(b, v)
		held = append(held, v)
	}
	if partial {
		b[0] = entryPart
	}
	return b, held, partial, true
}

// decodeVals reads an entryVals payload of the index base. Strings are
// substrings of it, so reading a row's values copies nothing.
func decodeVals(base, p string) (_ []any, partial, ok bool) {
	if p == "" || (p[0] != entryVals && p[0] != entryPart) {
		return nil, false, false
	}
	var out []any
	for i := 1; i < len(p); {
		v, next, ok := nextVal(base, p, i)
		if !ok {
			return nil, false, false
		}
		out = append(out, v)
		i = next
	}
	return out, p[0] == entryPart, true
}

// decodeAny is decodeVals giving a lone value as itself rather than a
// one-element slice, ready to store in an ecs.Doc (Values reads both the
// same): one allocation where the slice, its boxing and the value's
// boxing would be three, on the hot path of a free-text pass. No values
// give nil.
func decodeAny(base, p string) (_ any, partial, ok bool) {
	if p == "" || (p[0] != entryVals && p[0] != entryPart) {
		return nil, false, false
	}
	if len(p) == 1 {
		return nil, p[0] == entryPart, true
	}
	v, next, ok := nextVal(base, p, 1)
	if !ok {
		return nil, false, false
	}
	if next == len(p) {
		return v, p[0] == entryPart, true
	}
	vs, partial, ok := decodeVals(base, p)
	return vs, partial, ok
}

// nextVal reads the value at p[i:], returning it and where the next starts.
func nextVal(base, p string, i int) (any, int, bool) {
	tag := p[i]
	i++
	switch tag {
	case valStr:
		n, w := uvarint(p[i:])
		i += w
		return p[i : i+int(n)], i + int(n), true
	case valRef:
		off, w := uvarint(p[i:])
		i += w
		n, w := uvarint(p[i:])
		return base[off : off+n], i + w, true
	case valNum:
		return math.Float64frombits(le64(p[i : i+8])), i + 8, true
	case valTrue:
		return true, i, true
	case valFalse:
		return false, i, true
	}
	return nil, i, false
}

func le64(s string) uint64 {
	var x uint64
	for i := 7; i >= 0; i-- {
		x = x<<8 | uint64(s[i])
	}
	return x
}

func uvarint(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 {
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return x, len(s)
}

// nextEntry splits the first entry off a row index: its field id, its
// payload, and the entries after it.
func nextEntry(s string) (id uint64, payload, rest string) {
	id, w := uvarint(s)
	s = s[w:]
	n, w := uvarint(s)
	s = s[w:]
	return id, s[:n], s[n:]
}

// lookup state of a field in a row.
type fieldState int

const (
	fieldMissing fieldState = iota
	fieldPresent
	fieldPartial // values longer than maxInline left out
	fieldCold
)

func state(partial, ok bool) fieldState {
	switch {
	case !ok:
		return fieldCold
	case partial:
		return fieldPartial
	}
	return fieldPresent
}

// value returns the values of field id in r.
func (r *Row) value(id uint32) (any, fieldState) {
	s := r.flat
	for len(s) > 0 {
		var eid uint64
		var p string
		eid, p, s = nextEntry(s)
		if uint32(eid) != id {
			continue // entries are not sorted by id, see flatten
		}
		switch p[0] {
		case entryAbsent:
			return nil, fieldMissing
		case entryCold:
			return nil, fieldCold
		}
		v, partial, ok := decodeAny(r.flat, p)
		return v, state(partial, ok)
	}
	if v, ok := r.tmpl.vals[id]; ok {
		return v, state(r.tmpl.partial[id], true)
	}
	if _, ok := r.tmpl.payload[id]; ok {
		return nil, fieldCold
	}
	return nil, fieldMissing
}

// each calls fn with every field of r, its values and their state.
func (r *Row) each(fn func(id uint32, v any, st fieldState)) {
	s := r.flat
	var own []uint32 // ids r overrides (or drops) from the template
	for len(s) > 0 {
		var eid uint64
		var p string
		eid, p, s = nextEntry(s)
		own = append(own, uint32(eid))
		if p[0] == entryAbsent {
			continue
		}
		v, partial, ok := decodeAny(r.flat, p)
		fn(uint32(eid), v, state(partial, ok))
	}
	slices.Sort(own)
	for _, id := range r.tmpl.ids {
		if _, ok := slices.BinarySearch(own, id); ok {
			continue
		}
		v, ok := r.tmpl.vals[id]
		fn(id, v, state(r.tmpl.partial[id], ok))
	}
}

// plan says how a query reads rows: the fields it needs, or all of them
// (free text and field-name wildcards resolve against every field).
type plan struct {
	all bool
	// exact: the query only tests equality with literals of at most
	// maxInline bytes, so partial entries answer it as they are.
	exact bool
	// nest builds the mini document as nested objects rather than dotted
	// keys: an exists query on an object (process.parent:*) and a nested
	// query (process:{…}) look for the object.
	nest bool
	// nested: the query is a nested one, right only while none of its
	// fields was ever inside an array of objects (checked again per row:
	// a row that arrived after the plan may be the first).
	nested bool
	ids    []uint32
	names  []string // by id, as known when the plan was made
}

// planFields builds the plan for a query over the given field names, or
// nil when the index cannot answer it: a nested query over a field once
// seen inside an array of objects decodes every row. A name that is an
// object reads every leaf below it. Unknown fields are in no row and are
// skipped.
func planFields(fields []string, all, exact, nested bool) *plan {
	names := leafFields.snapshot()
	p := &plan{all: all, exact: exact, names: names, nest: nested, nested: nested}
	leafFields.mu.RLock()
	for _, f := range fields {
		if strings.Contains(f, "*") {
			p.all = true
			continue
		}
		for id, n := range names {
			if strings.HasPrefix(n, f) && len(n) > len(f) && n[len(f)] == '.' {
				p.nest = true // an object: exists looks below it
				p.ids = append(p.ids, uint32(id))
			}
		}
		if id, ok := leafFields.ids[f]; ok && int(id) < len(names) {
			p.ids = append(p.ids, id)
		}
	}
	leafFields.mu.RUnlock()
	// A field named twice (process.parent:* and process.parent.pid:1)
	// is read once.
	slices.Sort(p.ids)
	p.ids = slices.Compact(p.ids)
	if nested && (p.all || leafFields.anyArrayed(p.ids)) {
		return nil
	}
	return p
}

// miniDoc fills d with the fields of r that p needs. Cold ones are read
// from the inflated JSON without building its maps (scanLeaves), still a
// third of a full decode. It reports false when the row has no index or
// its JSON cannot be read; the caller then decodes.
func (p *plan) miniDoc(r *Row, d ecs.Doc) bool {
	clear(d)
	if r.tmpl == nil {
		return false
	}
	var cold map[string]bool
	add := func(id uint32, v any, st fieldState) {
		if int(id) >= len(p.names) {
			return // not in the snapshot the plan was made over
		}
		if st == fieldCold || (st == fieldPartial && !p.exact) {
			if cold == nil {
				cold = map[string]bool{}
			}
			cold[p.names[id]] = true
			return
		}
		if v != nil {
			d[p.names[id]] = v
		}
	}
	if p.nested && leafFields.anyArrayed(p.ids) {
		return false // a row since the plan put one inside an array
	}
	if p.all {
		r.each(add)
	} else {
		for _, id := range p.ids {
			if v, st := r.value(id); st != fieldMissing {
				add(id, v, st)
			}
		}
	}
	if cold != nil {
		js, err := inflate(r)
		if err != nil {
			return false
		}
		if scanLeaves(js, cold, d) != nil {
			return false
		}
	}
	if p.nest {
		nestDoc(d)
	}
	return true
}

// nestDoc rewrites d's dotted keys as nested objects, in place.
func nestDoc(d ecs.Doc) {
	var dotted []string
	for k := range d {
		if strings.IndexByte(k, '.') >= 0 {
			dotted = append(dotted, k)
		}
	}
	// Sorted, so that a scalar and an object at one path (never in real
	// alerts) resolve the same way on every pass.
	slices.Sort(dotted)
	for _, k := range dotted {
		v := d[k]
		delete(d, k)
		d.Set(k, v)
	}
}

// appendScalar encodes a string, number or boolean value inline.
func appendScalar(b []byte, v any) []byte {
	switch ecs.Kind(v) {
	case ecs.KindString:
		t, _ := v.(string)
		b = append(b, valStr)
		b = binary.AppendUvarint(b, uint64(len(t)))
		return append(b, t...)
	case ecs.KindNumber:
		if !ecs.IsDecoded(v) {
			return b
		}
		f, _ := ecs.Float(v)
		b = append(b, valNum)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
	case ecs.KindBool:
		if v == true {
			return append(b, valTrue)
		}
		return append(b, valFalse)
	}
	return b
}

// FieldNames returns every leaf field name an alert held so far, sorted:
// what a filter can name (the TUI completes field names from it).
func FieldNames() []string {
	names := slices.Clone(leafFields.snapshot())
	slices.Sort(names)
	return names
}
