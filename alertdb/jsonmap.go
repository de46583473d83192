package alertdb

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/jsonstr"
)

// decodeObject parses a JSON object into the same map[string]any that
// encoding/json would produce (numbers as float64), about four times
// faster: filters and exception previews decode every held alert, so this
// is their cost. It only needs to read what encodeDoc wrote, but it checks
// its input and falls back to encoding/json for escaped strings.
func decodeObject(b []byte) (map[string]any, error) {
	d := jdec{b: b}
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return nil, errors.New("decoding alert: not a JSON object")
	}
	v, err := d.value()
	if err != nil {
		return nil, fmt.Errorf("decoding alert at byte %d: %w", d.i, err)
	}
	return v.(map[string]any), nil
}

type jdec struct {
	b []byte
	i int
}

// alertDict is the JSON of a real alert: the first one detect's alert
// builder raises with the built-in seed rule over the committed capture
// testdata/capture/raw.log, so it holds exactly the keys and short values
// every alert repeats (internKeys). It is generated, not written:
// TestAlertDict fails when the builder's output has moved away from it.
//
//go:generate go test -run ^TestAlertDict$ -update .
//go:embed alertdict.json
var alertDict []byte

// internKeys holds the field names every alert repeats, so decoding does
// not allocate them again for each document. Read-only once made, on the
// first decode: every xferhunt command links this package, and most
// (scan, the headless run) never decode an alert, while making it costs
// ~1 ms of a run's start.
var internKeys = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	var walk func(v any)
	walk = func(v any) {
		switch ecs.Kind(v) {
		case ecs.KindObject:
			for k, e := range ecs.AsObject(v) {
				m[k] = k
				walk(e)
			}
		case ecs.KindArray:
			for i, n := 0, ecs.Len(v); i < n; i++ {
				walk(ecs.Elem(v, i))
			}
		case ecs.KindString:
			if x, _ := v.(string); len(x) < 24 {
				m[x] = x
			}
		}
	}
	var root any
	if err := json.Unmarshal(alertDict, &root); err == nil {
		walk(root)
	}
	return m
})

func (d *jdec) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

var errEOF = errors.New("unexpected end of input")

func (d *jdec) value() (any, error) {
	d.ws()
	if d.i >= len(d.b) {
		return nil, errEOF
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		return d.str()
	case c == 't':
		return true, d.lit("true")
	case c == 'f':
		return false, d.lit("false")
	case c == 'n':
		return nil, d.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.num()
	default:
		return nil, fmt.Errorf("unexpected %q", c)
	}
}

func (d *jdec) lit(s string) error {
	if len(d.b)-d.i < len(s) || string(d.b[d.i:d.i+len(s)]) != s {
		return fmt.Errorf("bad literal, want %s", s)
	}
	d.i += len(s)
	return nil
}

func (d *jdec) object() (any, error) {
	d.i++ // {
	m := make(map[string]any, 8)
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return m, nil
	}
	for {
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, errors.New("object key expected")
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, errors.New("colon expected")
		}
		d.i++
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
		if end, err := d.sep('}'); err != nil || end {
			return m, err
		}
	}
}

func (d *jdec) array() (any, error) {
	d.i++ // [
	a := []any{}
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return a, nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		if end, err := d.sep(']'); err != nil || end {
			return a, err
		}
	}
}

// sep consumes what follows a member or element: a comma, or the
// container's closing byte (end reports which).
func (d *jdec) sep(closer byte) (end bool, err error) {
	d.ws()
	if d.i >= len(d.b) {
		return false, errEOF
	}
	switch d.b[d.i] {
	case ',':
		d.i++
		return false, nil
	case closer:
		d.i++
		return true, nil
	}
	return false, fmt.Errorf("comma or %c expected", closer)
}

// str reads a string. Strings without escapes are sliced directly (and
// interned when they are known keys); escaped ones are decoded as
// encoding/json decodes them (internal/jsonstr): handing them to
// json.Unmarshal was most of a wildcard filter's pass, since every
// event.original holds quoted audit fields.
func (d *jdec) str() (string, error) {
	b, plain, err := d.strBytes(nil)
	if err != nil {
		return "", err
	}
	if plain {
		if s, ok := internKeys()[string(b)]; ok {
			return s, nil
		}
	}
	return string(b), nil
}

// strBytes reads the string at d.i, decoding escapes into buf, and
// returns its text: a slice of the input when it needs no rewriting
// (plain), else of buf.
func (d *jdec) strBytes(buf []byte) (_ []byte, plain bool, err error) {
	start := d.i + 1
	for i := start; i < len(d.b); i++ {
		switch c := d.b[i]; {
		case c == '"':
			d.i = i + 1
			return d.b[start:i], true, nil
		case c == '\\' || c >= utf8.RuneSelf:
			if c >= utf8.RuneSelf {
				if r, size := utf8.DecodeRune(d.b[i:]); r != utf8.RuneError || size != 1 {
					i += size - 1
					continue
				}
			}
			out, next, err := jsonstr.AppendUnquoted(buf[:0], d.b, start, i)
			if err != nil {
				return nil, false, err
			}
			d.i = next
			return out, false, nil
		case c < 0x20:
			return nil, false, errors.New("control character in string")
		}
	}
	return nil, false, errEOF
}

func (d *jdec) num() (any, error) {
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			d.i++
			continue
		}
		break
	}
	f, err := strconv.ParseFloat(string(d.b[start:d.i]), 64)
	if err != nil {
		return nil, fmt.Errorf("bad number: %w", err)
	}
	return f, nil
}

// scanLeaves adds to d, under their dotted paths, the scalar values of
// the leaf paths in want, the way ecs.Doc.Values resolves them: arrays
// flatten, nulls drop. Everything else is skipped without building maps,
// which is what makes reading a few long fields cheaper than a decode.
func scanLeaves(b []byte, want map[string]bool, d map[string]any) error {
	s := scanner{jdec: jdec{b: b}, want: want, out: d}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return errors.New("scanning alert: not a JSON object")
	}
	if err := s.value(); err != nil {
		return fmt.Errorf("scanning alert at byte %d: %w", s.i, err)
	}
	return nil
}

type scanner struct {
	jdec
	path []byte
	want map[string]bool
	out  map[string]any
}

func (s *scanner) value() error {
	s.ws()
	if s.i >= len(s.b) {
		return errEOF
	}
	switch s.b[s.i] {
	case '{':
		return s.object()
	case '[':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.value(); err != nil {
				return err
			}
			if end, err := s.sep(']'); err != nil || end {
				return err
			}
		}
	}
	if !s.want[string(s.path)] {
		return s.skip()
	}
	v, err := s.jdec.value()
	if err != nil || v == nil {
		return err
	}
	k := string(s.path)
	vs, _ := s.out[k].([]any)
	s.out[k] = append(vs, v)
	return nil
}

func (s *scanner) object() error {
	s.i++ // {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	base := len(s.path)
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return errors.New("object key expected")
		}
		k, err := s.str()
		if err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return errors.New("colon expected")
		}
		s.i++
		if base > 0 {
			s.path = append(s.path, '.')
		}
		s.path = append(s.path, k...)
		err = s.value()
		s.path = s.path[:base]
		if err != nil {
			return err
		}
		if end, err := s.sep('}'); err != nil || end {
			return err
		}
	}
}

// skip passes over a scalar without converting it.
func (s *scanner) skip() error {
	if s.b[s.i] != '"' {
		_, err := s.jdec.value() // numbers and literals allocate nothing
		return err
	}
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			s.i++
		case '"':
			s.i++
			return nil
		}
	}
	return errEOF
}
