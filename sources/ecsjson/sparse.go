package ecsjson

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/jsonstr"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditbeat"
)

// A sparse decode (sources.Sparse, what `scan` asks for when no story is
// wanted) builds of a document only the members on the way to the fields
// its consumer reads — for the rules: their queries' fields and the event
// time — and validates the rest without building it, as a skip. Most
// documents of a recorded log concern no rule; the few that may are then
// decoded whole. What is built is every spelling of each path: at each
// object, a member is kept when its key is the rest of a path or a dotted
// run of its first segments ("process" and "process.name" both lead to
// process.name); arrays on the way keep all their elements; a scalar
// where a path wanted an object is kept (a query on process.name.caseless
// reads process.name). So ecs.Doc's resolution (Get, Values, Objects)
// finds in the sparse document exactly what it finds in the whole one,
// for those paths.

// fieldTree is the set of paths still wanted at one object.
type fieldTree struct {
	// keys maps a member key on some path to what is wanted inside its
	// value; whole when a path ends at the key.
	keys  map[string]*fieldTree
	whole bool
	// stop marks, at the top, a key of sparseKeys.
	stop bool
	// name is the member key leading here: the built map's key, shared
	// by every document.
	name string
	// byLen holds keys' subtrees by the key's length (the last slot
	// every longer key): most keys of a document are not wanted, and a
	// length with no wanted key rules them out without a hash.
	byLen [64][]*fieldTree
}

// lookup returns the subtree of member key k, nil when it is not wanted.
func (t *fieldTree) lookup(k []byte) *fieldTree {
	for _, sub := range t.byLen[min(len(k), len(t.byLen)-1)] {
		if sub.name == string(k) {
			return sub
		}
	}
	return nil
}

// index fills byLen from keys, once the tree is built.
func (t *fieldTree) index() {
	for k, sub := range t.keys {
		i := min(len(k), len(t.byLen)-1)
		t.byLen[i] = append(t.byLen[i], sub)
		sub.index()
	}
}

func newFieldTree(paths []string) *fieldTree {
	t := newTree(paths)
	for k := range sparseKeys {
		t.keys[k] = &fieldTree{stop: true, name: k}
	}
	t.index()
	return t
}

func newTree(paths []string) *fieldTree {
	t := &fieldTree{keys: map[string]*fieldTree{}}
	rests := map[string][]string{}
	ends := map[string]bool{}
	for _, p := range paths {
		ends[p] = true
		for i := 0; i < len(p); i++ {
			if p[i] == '.' {
				rests[p[:i]] = append(rests[p[:i]], p[i+1:])
			}
		}
	}
	for k := range ends {
		t.keys[k] = &fieldTree{whole: true, name: k}
	}
	for k, r := range rests {
		if !ends[k] {
			t.keys[k] = newTree(r)
			t.keys[k].name = k
		}
	}
	return t
}

// sparseKeys are the top-level keys that make a document something else
// than a plain ECS event for the emitter (a wrapper, an Auditbeat or
// go-libaudit document, an alert): such a document is decoded whole.
var sparseKeys = map[string]bool{
	"type": true, "_source": true, "hits": true, "events": true, "responses": true, "test_name": true,
	"record_type": true, "auditd": true, "kibana.alert.uuid": true,
}

// sparseOwnFields are what the emitter itself reads of a plain document
// to tell Auditbeat's (auditbeat.Is; its auditd object is a key of
// sparseKeys).
var sparseOwnFields = []string{"event.module", "data_stream.dataset"}

// sparseSpec is a Decoder's sparse plan.
type sparseSpec struct {
	tree  *fieldTree
	whole func(ecs.Doc) bool
}

func newSparseSpec(s *sources.Sparse) *sparseSpec {
	if s == nil || s.Whole == nil {
		return nil
	}
	paths := append(append([]string(nil), s.Fields...), sparseOwnFields...)
	for _, p := range paths {
		if p == "" || strings.Contains(p, "*") {
			return nil // a field-name wildcard reads fields no list names
		}
	}
	return &sparseSpec{tree: newFieldTree(paths), whole: s.Whole}
}

// sparseLine decodes a line sparsely. done reports that it was handled
// (emitted or counted malformed); false sends it to the whole decode.
func (d *Decoder) sparseLine(line []byte) (done bool) {
	m, plain, err := d.p.sparseObject(line, d.sparse.tree)
	if err != nil {
		d.em.stats.Malformed++
		return true
	}
	if !plain || auditbeat.Is(ecs.Doc(m)) || d.sparse.whole(ecs.Doc(m)) {
		return false
	}
	d.em.object(m, line)
	return true
}

// sparseObject decodes the object s holds, keeping what t wants. plain is
// false (and m nil) when a top-level key of sparseKeys shows the document
// is not a plain event; the rest of it is then not read.
func (p *parser) sparseObject(s []byte, t *fieldTree) (m map[string]any, plain bool, err error) {
	return p.top(s, t)
}

// skip validates the value at p.i without building it, refusing exactly
// what value refuses.
func (p *parser) skip() error {
	if p.i >= len(p.s) {
		return errSyntax
	}
	switch c := p.s[p.i]; c {
	case '"':
		return p.skipStr()
	case '{', '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		empty, err := p.open(closer)
		if err != nil || empty {
			return err
		}
		for more := true; more; {
			if c == '{' {
				if p.i >= len(p.s) || p.s[p.i] != '"' {
					return errSyntax
				}
				if err := p.skipStr(); err != nil {
					return err
				}
				p.ws()
				if p.i >= len(p.s) || p.s[p.i] != ':' {
					return errSyntax
				}
				p.i++
				p.ws()
			}
			if err := p.skip(); err != nil {
				return err
			}
			if more, err = p.next(closer); err != nil {
				return err
			}
		}
		return nil
	case 't':
		return p.literal("true")
	case 'f':
		return p.literal("false")
	case 'n':
		return p.literal("null")
	default:
		if c != '-' && (c < '0' || c > '9') {
			return errSyntax
		}
		text, err := p.scanNumber()
		if err != nil {
			return err
		}
		// Only a long mantissa or an exponent can leave float64's
		// range, which Unmarshal refuses.
		if len(text) > 15 || hasExponent(text) {
			if _, err := strconv.ParseFloat(string(text), 64); err != nil {
				return errSyntax
			}
		}
		return nil
	}
}

// skipStr validates the string whose '"' is at p.i: control characters
// and bad escapes are refused; bytes are not decoded (invalid UTF-8 is
// no error). The quote and backslash searches run over each byte once
// (bytes.IndexByte, vectorised), however many escapes the string holds.
func (p *parser) skipStr() error {
	s := p.s
	i := p.i + 1
	q := -1 // the first '"' at or after i, once searched
	for {
		if q < i {
			j := bytes.IndexByte(s[i:], '"')
			if j < 0 {
				return errSyntax
			}
			q = i + j
		}
		k := bytes.IndexByte(s[i:q], '\\')
		if k < 0 {
			if hasControl(s[i:q]) {
				return errSyntax
			}
			p.i = q + 1
			return nil
		}
		if hasControl(s[i : i+k]) {
			return errSyntax
		}
		i += k
		if i+1 >= len(s) {
			return errSyntax
		}
		switch {
		case jsonstr.Unescape(s[i+1]) != 0:
			i += 2
		case jsonstr.U4(s[i:]) >= 0:
			i += 6
		default:
			return errSyntax
		}
	}
}

// hasControl reports a byte below 0x20 in b, eight bytes at a time.
func hasControl(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		if (w-0x20*ones8)&^w&high8 != 0 {
			return true
		}
	}
	for ; i < len(b); i++ {
		if b[i] < 0x20 {
			return true
		}
	}
	return false
}

func hasExponent(num []byte) bool {
	for _, c := range num {
		if c == 'e' || c == 'E' {
			return true
		}
	}
	return false
}
