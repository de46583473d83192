package ecs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the JSON encoding of v to dst, byte-for-byte identical to
// what encoding/json's Encoder with SetEscapeHTML(false) writes for v (without
// the trailing newline), with one difference: C1 controls (U+0080–U+009F)
// and bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E,
// U+2066–U+2069) are written as \uXXXX escapes. Both are valid raw in JSON,
// but `cat` of an alert in a terminal would obey them: U+009B starts a
// control sequence, U+202E shows a file name reversed. The decoded value is
// the same.
//
// The types a Doc is built from are written without reflection; any other
// value is handed to encoding/json, so the output never differs, only the
// speed does. On error the returned slice holds dst plus a partial encoding
// and must not be used as JSON.
func AppendJSON(dst []byte, v any) ([]byte, error) {
	return appendValue(dst, v, 0)
}

// maxDepth is where the fast path hands a subtree to encoding/json, whose
// pointer-cycle detection then turns a self-containing map into an error
// instead of a stack overflow.
const maxDepth = 1000

func appendValue(dst []byte, v any, depth int) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendJSONString(dst, x), nil
	case bool:
		if x {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case map[string]any:
		return appendMap(dst, x, depth)
	case Doc:
		return appendMap(dst, map[string]any(x), depth)
	case []any:
		if depth >= maxDepth && x != nil {
			return appendStd(dst, x)
		}
		return appendArray(dst, x, func(dst []byte, e any) ([]byte, error) { return appendValue(dst, e, depth+1) })
	case []string:
		return appendArray(dst, x, func(dst []byte, e string) ([]byte, error) { return appendJSONString(dst, e), nil })
	case []map[string]any:
		return appendArray(dst, x, func(dst []byte, e map[string]any) ([]byte, error) { return appendMap(dst, e, depth+1) })
	case []int:
		return appendArray(dst, x, func(dst []byte, e int) ([]byte, error) { return strconv.AppendInt(dst, int64(e), 10), nil })
	case float64:
		return appendFloat(dst, x, 64)
	case float32:
		return appendFloat(dst, float64(x), 32)
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(dst, x, 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case json.Number:
		s := string(x)
		if s == "" {
			s = "0" // encoding/json keeps Go 1.5's rendering of the zero Number
		}
		if !validNumber(s) {
			return dst, fmt.Errorf("json: invalid number literal %q", s)
		}
		return append(dst, s...), nil
	case json.RawMessage:
		if x == nil {
			return append(dst, "null"...), nil
		}
		// json.Compact appends to the buffer's existing bytes, so dst is
		// reused; with escapeHTML off it is exactly the compaction the
		// Encoder applies to a Marshaler's output.
		start := len(dst)
		buf := bytes.NewBuffer(dst)
		if err := json.Compact(buf, x); err != nil {
			return dst, fmt.Errorf("json: error calling MarshalJSON for type json.RawMessage: %w", err)
		}
		return escapeControls(buf.Bytes(), start), nil
	case time.Time:
		if y := x.Year(); y >= 0 && y <= 9999 {
			if _, off := x.Zone(); off > -24*3600 && off < 24*3600 {
				dst = append(dst, '"')
				dst = x.AppendFormat(dst, time.RFC3339Nano)
				return append(dst, '"'), nil
			}
		}
		return appendStd(dst, v)
	}
	return appendStd(dst, v)
}

// appendStd is the fallback for types outside the hot path: encoding/json's
// own Encoder, so HTML stays unescaped exactly as on the fast path.
func appendStd(dst []byte, v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return dst, err
	}
	start := len(dst)
	return escapeControls(append(dst, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...), start), nil
}

func appendMap(dst []byte, m map[string]any, depth int) ([]byte, error) {
	if m == nil {
		return append(dst, "null"...), nil
	}
	if depth >= maxDepth {
		return appendStd(dst, m)
	}
	// A stack array keeps the common small object free of allocations; an
	// alert's flat top level (dozens of kibana.alert.* keys) borrows from a
	// pool. The pooled slice gets full capacity up front so appendSorted never
	// grows it, and the stack array never escapes.
	if len(m) <= 32 {
		var arr [32]string
		return appendSorted(dst, m, arr[:0], depth)
	}
	p := keyPool.Get().(*[]string)
	if cap(*p) < len(m) {
		*p = make([]string, 0, len(m))
	}
	dst, err := appendSorted(dst, m, (*p)[:0], depth)
	clear((*p)[:len(m)]) // pooled slices must not pin documents
	keyPool.Put(p)
	return dst, err
}

func appendSorted(dst []byte, m map[string]any, keys []string, depth int) ([]byte, error) {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // byte-wise, as encoding/json sorts map keys
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = appendValue(dst, m[k], depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

var keyPool = sync.Pool{New: func() any { return new([]string) }}

// appendFloat mirrors encoding/json's floatEncoder: ES6 number formatting,
// with the exponent cut-offs compared at the value's own precision.
func appendFloat(dst []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		var rv reflect.Value
		if bits == 32 {
			rv = reflect.ValueOf(float32(f))
		} else {
			rv = reflect.ValueOf(f)
		}
		return dst, &json.UnsupportedValueError{Value: rv, Str: strconv.FormatFloat(f, 'g', -1, bits)}
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// encoding/json writes e-7, not e-07.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

// validNumber reports whether s is a JSON number literal (RFC 8259 §6).
func validNumber(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	switch {
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		s = strings.TrimLeft(s[1:], "0123456789")
	default:
		return false
	}
	if len(s) >= 2 && s[0] == '.' && isDigit(s[1]) {
		s = strings.TrimLeft(s[2:], "0123456789")
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
			if s == "" {
				return false
			}
		}
		if !isDigit(s[0]) {
			return false
		}
		s = strings.TrimLeft(s, "0123456789")
	}
	return s == ""
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// Long strings (a rule's description and investigation note ride in every
// alert) are the bulk of an alert's bytes, so their escaped form is cached.
const (
	cacheMinLen  = 256      // shorter strings escape faster than a map lookup pays
	cacheMaxLen  = 64 << 10 // bound the memory one entry can pin
	cacheEntries = 64
)

// strCache holds escaped encodings of long strings seen at least twice. The
// first sighting only records the string's hash as a candidate, so one-off
// long values (command lines, paths) neither churn the cache nor get copied;
// a hash collision merely promotes a string one sighting early.
var strCache = struct {
	mu   sync.RWMutex
	enc  map[string][]byte
	seen map[uint64]struct{}
	seed maphash.Seed
}{enc: map[string][]byte{}, seen: map[uint64]struct{}{}, seed: maphash.MakeSeed()}

func appendJSONString(dst []byte, s string) []byte {
	if len(s) < cacheMinLen || len(s) > cacheMaxLen {
		return appendEscaped(dst, s)
	}
	strCache.mu.RLock()
	enc, ok := strCache.enc[s]
	strCache.mu.RUnlock()
	if ok {
		return append(dst, enc...)
	}
	start := len(dst)
	dst = appendEscaped(dst, s)
	h := maphash.String(strCache.seed, s)

	strCache.mu.Lock()
	defer strCache.mu.Unlock()
	if _, again := strCache.seen[h]; !again {
		if len(strCache.seen) >= 4*cacheEntries {
			clear(strCache.seen)
		}
		strCache.seen[h] = struct{}{}
		return dst
	}
	delete(strCache.seen, h)
	if len(strCache.enc) >= cacheEntries {
		for k := range strCache.enc { // map order is random: random eviction
			delete(strCache.enc, k)
			break
		}
	}
	// Clone so the cache never pins the document the string was cut from.
	strCache.enc[strings.Clone(s)] = bytes.Clone(dst[start:])
	return dst
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plainWord reports whether none of the 8 bytes in w needs attention: no
// control byte, quote, backslash or non-ASCII byte.
func plainWord(w uint64) bool {
	ctl := (w - lsb*0x20) & ^w & msb
	q := w ^ (lsb * '"')
	q = (q - lsb) & ^q & msb
	bs := w ^ (lsb * '\\')
	bs = (bs - lsb) & ^bs & msb
	return (ctl | q | bs | w&msb) == 0
}

const hexDigits = "0123456789abcdef"

// appendEscaped quotes s exactly as encoding/json's appendString does with
// escapeHTML false. Runs of plain ASCII are skipped eight bytes at a time,
// since alert text is almost all plain ASCII.
func appendEscaped(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) {
			w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			if !plainWord(w) {
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JSONP; encoding/json
		// escapes them unconditionally. C1 and bidi controls are escaped so
		// the output cannot drive a terminal (see AppendJSON).
		if escapedRune(c) {
			dst = append(dst, s[start:i]...)
			dst = appendU4(dst, c)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// escapedRune reports the non-ASCII runes AppendJSON writes as \uXXXX: C1
// controls, the bidi marks, embeddings, overrides and isolates, and the
// line and paragraph separators encoding/json escapes.
func escapedRune(c rune) bool {
	return c <= 0x9f || c == 0x061c ||
		c >= 0x200e && c <= 0x2069 && (c <= 0x200f || c >= 0x2028 && c <= 0x202e || c >= 0x2066)
}

// appendU4 appends the \uXXXX escape of c (at most U+FFFF).
func appendU4(dst []byte, c rune) []byte {
	return append(dst, '\\', 'u', hexDigits[c>>12], hexDigits[c>>8&0xF], hexDigits[c>>4&0xF], hexDigits[c&0xF])
}

// escapeControls rewrites, in b[from:], the UTF-8 encodings of the runes
// appendEscaped escapes that encoding/json (the fallback, RawMessage
// compaction) leaves raw. JSON's own syntax is ASCII, so a multi-byte
// sequence can only be inside a string, where \uXXXX means the same rune.
func escapeControls(b []byte, from int) []byte {
	i := from
	for i < len(b) && b[i] < utf8.RuneSelf {
		i++
	}
	if i == len(b) {
		return b // all ASCII, the usual case: no copy
	}
	out := append([]byte(nil), b[:i]...)
	for i < len(b) {
		c, size := utf8.DecodeRune(b[i:])
		if size > 1 && escapedRune(c) {
			out = appendU4(out, c)
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

// appendArray writes a JSON array (null for a nil slice, as encoding/json
// does), each element by elem.
func appendArray[T any](dst []byte, xs []T, elem func([]byte, T) ([]byte, error)) ([]byte, error) {
	if xs == nil {
		return append(dst, "null"...), nil
	}
	dst = append(dst, '[')
	for i, e := range xs {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = elem(dst, e); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}
