package detect

import (
	"encoding/binary"
	"encoding/json"
	"math"

	"github.com/xferhunt/xferhunt/ecs"
)

// A held source document of the order-free scan (offDoc) is kept packed:
// a scan of a million new tuples holds up to MaxOfflineDocs of them until
// Drain, and a decoded document is a tree of maps and boxed values — ~3 KB
// for a 390-byte ECS event (issue 12: 20,000 held documents were ~60 MB of
// the 1M-tuple scan's ~200 MB live heap), where its packed form is about
// the size of its JSON. It is unpacked only for the alert it raises.
//
// The packing keeps every value type a Doc is built from (ecs.Doc), and
// which of them it was — Doc or map[string]any, []string or []any, int,
// int64 or uint64, nil slices and maps — so the unpacked document is the
// document: its JSON, the alert built from it and the event key derived
// from it are the same bytes. A value of any other type (or nesting deeper
// than the JSON parsers accept) is not packed: the document is then held
// as it came.

// Tags of packed values.
const (
	pkNil byte = iota
	pkString
	pkTrue
	pkFalse
	pkFloat64
	pkInt
	pkInt64
	pkUint64
	pkNumber
	pkAnys    // []any: length+1 (0: nil), then the elements
	pkStrings // []string: length+1 (0: nil), then the strings
	pkMap     // map[string]any: length+1 (0: nil), then key, value pairs
	pkDoc     // ecs.Doc, as pkMap
)

// packMaxDepth bounds the nesting packValue follows (the JSON parsers'
// own limit is 10,000); deeper documents are held as they are.
const packMaxDepth = 10_001

// packDoc appends the packed form of tup and ev to dst; ok is false (and
// the returned slice unusable) when ev holds a value it cannot pack.
func packDoc(dst []byte, tup []string, ev ecs.Doc) (out []byte, ok bool) {
	dst = binary.AppendUvarint(dst, uint64(len(tup)))
	for _, s := range tup {
		dst = packString(dst, s)
	}
	return packValue(dst, ev, 0)
}

func packString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// packLen appends a slice's or map's length+1, 0 for nil.
func packLen(dst []byte, n int, isNil bool) []byte {
	if isNil {
		return append(dst, 0)
	}
	return binary.AppendUvarint(dst, uint64(n)+1)
}

func packValue(dst []byte, v any, depth int) ([]byte, bool) {
	if depth > packMaxDepth {
		return dst, false
	}
	switch x := v.(type) {
	case nil:
		return append(dst, pkNil), true
	case string:
		return packString(append(dst, pkString), x), true
	case bool:
		if x {
			return append(dst, pkTrue), true
		}
		return append(dst, pkFalse), true
	case float64:
		return binary.LittleEndian.AppendUint64(append(dst, pkFloat64), math.Float64bits(x)), true
	case int:
		return binary.AppendVarint(append(dst, pkInt), int64(x)), true
	case int64:
		return binary.AppendVarint(append(dst, pkInt64), x), true
	case uint64:
		return binary.AppendUvarint(append(dst, pkUint64), x), true
	case json.Number:
		return packString(append(dst, pkNumber), string(x)), true
	case []any:
		dst = packLen(append(dst, pkAnys), len(x), x == nil)
		for _, e := range x {
			var ok bool
			if dst, ok = packValue(dst, e, depth+1); !ok {
				return dst, false
			}
		}
		return dst, true
	case []string:
		dst = packLen(append(dst, pkStrings), len(x), x == nil)
		for _, s := range x {
			dst = packString(dst, s)
		}
		return dst, true
	case map[string]any:
		return packMap(append(dst, pkMap), x, depth)
	case ecs.Doc:
		return packMap(append(dst, pkDoc), x, depth)
	}
	return dst, false
}

func packMap(dst []byte, m map[string]any, depth int) ([]byte, bool) {
	dst = packLen(dst, len(m), m == nil)
	for k, e := range m {
		dst = packString(dst, k)
		var ok bool
		if dst, ok = packValue(dst, e, depth+1); !ok {
			return dst, false
		}
	}
	return dst, true
}

// unpacker reads what packDoc wrote. The bytes are this process's own
// (never input), so a malformed buffer is a bug: it panics.
type unpacker struct{ b []byte }

func (u *unpacker) uvarint() uint64 {
	v, n := binary.Uvarint(u.b)
	if n <= 0 {
		panic("detect: corrupt packed document")
	}
	u.b = u.b[n:]
	return v
}

func (u *unpacker) str() string {
	n := u.uvarint()
	s := string(u.b[:n])
	u.b = u.b[n:]
	return s
}

// tuple reads the tuple packDoc put first.
func (u *unpacker) tuple() []string {
	tup := make([]string, u.uvarint())
	for i := range tup {
		tup[i] = u.str()
	}
	return tup
}

func (u *unpacker) value() any {
	tag := u.b[0]
	u.b = u.b[1:]
	switch tag {
	case pkNil:
		return nil
	case pkString:
		return u.str()
	case pkTrue:
		return true
	case pkFalse:
		return false
	case pkFloat64:
		f := math.Float64frombits(binary.LittleEndian.Uint64(u.b))
		u.b = u.b[8:]
		return f
	case pkInt, pkInt64:
		v, n := binary.Varint(u.b)
		if n <= 0 {
			panic("detect: corrupt packed document")
		}
		u.b = u.b[n:]
		if tag == pkInt {
			return int(v)
		}
		return v
	case pkUint64:
		return u.uvarint()
	case pkNumber:
		return json.Number(u.str())
	case pkAnys:
		n := u.uvarint()
		if n == 0 {
			return []any(nil)
		}
		s := make([]any, n-1)
		for i := range s {
			s[i] = u.value()
		}
		return s
	case pkStrings:
		n := u.uvarint()
		if n == 0 {
			return []string(nil)
		}
		s := make([]string, n-1)
		for i := range s {
			s[i] = u.str()
		}
		return s
	case pkMap, pkDoc:
		n := u.uvarint()
		var m map[string]any
		if n > 0 {
			m = make(map[string]any, n-1)
			for range n - 1 {
				k := u.str()
				m[k] = u.value()
			}
		}
		if tag == pkDoc {
			return ecs.Doc(m)
		}
		return m
	}
	panic("detect: corrupt packed document")
}

// unpackDoc returns the tuple and the document packDoc packed.
func unpackDoc(b []byte) ([]string, ecs.Doc) {
	u := unpacker{b}
	tup := u.tuple()
	return tup, u.value().(ecs.Doc)
}

// unpackTuple returns only the tuple packDoc packed.
func unpackTuple(b []byte) []string {
	u := unpacker{b}
	return u.tuple()
}
