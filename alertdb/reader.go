package alertdb

import (
	"github.com/xferhunt/xferhunt/ecs"
)

// reader builds, for one worker of a pass, the documents the predicate is
// handed (plan.miniDoc's, faster). Two costs dominated a pass over 100k
// real alerts:
//
//   - Free text reads every field, and ~300 of an alert's ~330 fields are
//     its rule template's (metadata, guide, threat, explain). Building a
//     fresh map of all of them per row was most of a 6 s pass. The reader
//     keeps, per template, one document holding the template's values,
//     patches the row's own entries (~30) into it, and undoes the patch
//     after the predicate ran.
//   - A query naming an object (process.parent:*) reads every leaf below
//     it: looking each up in the row (Row.value walks the row's entries)
//     was quadratic. The reader walks the row's entries once.
//
// The document it returns is valid until done is called.
type reader struct {
	p *plan
	// mini is the document of plans that name their fields.
	mini ecs.Doc
	// byTmpl holds the patched template documents of a plan reading every
	// field (p.all without p.nest).
	byTmpl map[*template]*tmplDoc
	cur    *tmplDoc
	// touched lists the fields the current row changed in cur.doc.
	touched []uint32
	cold    map[string]bool
	// mark[id] == gen: the current row has its own entry for id.
	mark []uint32
	gen  uint32
	// pos[id] is id's index in p.ids plus one (0: not read); seen[i]
	// says the row's own entries gave p.ids[i].
	pos  []int32
	seen []bool
	// inf and js read the JSON of rows the index cannot answer; scanLeaves
	// copies what it keeps, so js is reused row after row.
	inf *inflater
	js  []byte
}

// json returns r's JSON in the reader's buffer, valid until the next call.
func (rd *reader) json(r *Row) ([]byte, error) {
	if rd.inf == nil {
		rd.inf = readers.Get().(*inflater)
	}
	js, err := rd.inf.into(rd.js, r)
	if err == nil {
		rd.js = js
	}
	return js, err
}

// release hands the decompressor back when the pass is over.
func (rd *reader) release() {
	if rd.inf != nil {
		readers.Put(rd.inf)
		rd.inf = nil
	}
}

// tmplDoc is one template's document under a plan reading every field.
type tmplDoc struct {
	doc ecs.Doc // the template's values, patched by the current row
	// base[id] is the template's value of field id, has[id] whether it
	// has one in doc: undoing a patch is an index, not a lookup.
	base []any
	has  []bool
	// cold are the template's fields the index cannot give this plan: the
	// row's JSON has them (unless the row has its own entry).
	cold []uint32
}

func newReader(p *plan) *reader {
	rd := &reader{p: p, mini: ecs.Doc{}}
	if p == nil {
		return rd
	}
	if p.all && !p.nest {
		rd.byTmpl = map[*template]*tmplDoc{}
		rd.mark = make([]uint32, len(p.names))
	} else if len(p.ids) > 1 {
		rd.pos = make([]int32, len(p.names))
		for i, id := range p.ids {
			rd.pos[id] = int32(i + 1)
		}
		rd.seen = make([]bool, len(p.ids))
	}
	return rd
}

// doc returns the document of r for the plan, false when r must be
// decoded (no plan, no index, unreadable JSON).
func (rd *reader) doc(r *Row) (ecs.Doc, bool) {
	p := rd.p
	switch {
	case p == nil || r.tmpl == nil:
		return nil, false
	case rd.byTmpl != nil:
		return rd.patched(r)
	case rd.pos != nil:
		return rd.some(r)
	}
	return rd.mini, p.miniDoc(r, rd.mini)
}

// done undoes the current row's patch of its template document.
func (rd *reader) done() {
	if rd.cur == nil {
		return
	}
	names := rd.p.names
	for _, id := range rd.touched {
		if rd.cur.has[id] {
			rd.cur.doc[names[id]] = rd.cur.base[id]
		} else {
			delete(rd.cur.doc, names[id])
		}
	}
	rd.touched = rd.touched[:0]
	rd.cur = nil
}

// usable reports whether a value in state st can go in the document as
// it is, rather than be read from the JSON.
func (rd *reader) usable(st fieldState) bool {
	return st == fieldPresent || (st == fieldPartial && rd.p.exact)
}

func (rd *reader) template(t *template) *tmplDoc {
	if td, ok := rd.byTmpl[t]; ok {
		return td
	}
	names := rd.p.names
	td := &tmplDoc{doc: ecs.Doc{}, base: make([]any, len(names)), has: make([]bool, len(names))}
	for _, id := range t.ids {
		if int(id) >= len(names) {
			continue // not in the snapshot the plan was made over
		}
		v, ok := t.vals[id]
		if !ok || !rd.usable(state(t.partial[id], true)) {
			td.cold = append(td.cold, id)
			continue
		}
		if v != nil {
			td.doc[names[id]] = v
			td.base[id], td.has[id] = v, true
		}
	}
	rd.byTmpl[t] = td
	return td
}

// patched is the template document with r's own entries in place.
func (rd *reader) patched(r *Row) (ecs.Doc, bool) {
	names := rd.p.names
	td := rd.template(r.tmpl)
	rd.cur = td
	rd.gen++
	clear(rd.cold)
	d := td.doc
	s := r.flat
	for len(s) > 0 {
		var eid uint64
		var pl string
		eid, pl, s = nextEntry(s)
		if int(eid) >= len(names) {
			continue
		}
		rd.mark[eid] = rd.gen
		name := names[eid]
		rd.touched = append(rd.touched, uint32(eid))
		var v any
		switch pl[0] {
		case entryAbsent:
		case entryCold:
			rd.addCold(name)
		default:
			var partial, ok bool
			v, partial, ok = decodeAny(r.flat, pl)
			if !rd.usable(state(partial, ok)) {
				v = nil
				rd.addCold(name)
			}
		}
		if v != nil {
			d[name] = v
		} else {
			delete(d, name)
		}
	}
	for _, id := range td.cold {
		if rd.mark[id] != rd.gen {
			rd.addCold(names[id])
			rd.touched = append(rd.touched, id)
		}
	}
	if len(rd.cold) > 0 {
		js, err := rd.json(r)
		if err != nil || scanLeaves(js, rd.cold, d) != nil {
			rd.done()
			return nil, false
		}
	}
	return d, true
}

func (rd *reader) addCold(name string) {
	if rd.cold == nil {
		rd.cold = map[string]bool{}
	}
	rd.cold[name] = true
}

// some builds the document of a plan naming several fields with one walk
// of r's entries; the template gives the rest.
func (rd *reader) some(r *Row) (ecs.Doc, bool) {
	p := rd.p
	d := rd.mini
	clear(d)
	clear(rd.seen)
	clear(rd.cold)
	if p.nested && leafFields.anyArrayed(p.ids) {
		return nil, false // a row since the plan put one inside an array
	}
	add := func(id uint32, v any, st fieldState) {
		if !rd.usable(st) {
			rd.addCold(p.names[id])
		} else if v != nil {
			d[p.names[id]] = v
		}
	}
	s := r.flat
	for len(s) > 0 {
		var eid uint64
		var pl string
		eid, pl, s = nextEntry(s)
		if int(eid) >= len(rd.pos) || rd.pos[eid] == 0 {
			continue
		}
		rd.seen[rd.pos[eid]-1] = true
		switch pl[0] {
		case entryAbsent:
			continue
		case entryCold:
			add(uint32(eid), nil, fieldCold)
			continue
		}
		v, partial, ok := decodeAny(r.flat, pl)
		add(uint32(eid), v, state(partial, ok))
	}
	for i, id := range p.ids {
		if rd.seen[i] {
			continue
		}
		if v, ok := r.tmpl.vals[id]; ok {
			add(id, v, state(r.tmpl.partial[id], true))
		} else if _, ok := r.tmpl.payload[id]; ok {
			add(id, nil, fieldCold)
		}
	}
	if len(rd.cold) > 0 {
		js, err := rd.json(r)
		if err != nil || scanLeaves(js, rd.cold, d) != nil {
			return nil, false
		}
	}
	if p.nest {
		nestDoc(d)
	}
	return d, true
}
