package kql

import (
	"testing"

	"github.com/xferhunt/xferhunt/ecs"
)

// FuzzParse parses arbitrary text, and when it parses, renders it back,
// matches it against a few documents and explains it. Nothing may panic or
// hang, and the rendering must parse to the same tree.
func FuzzParse(f *testing.F) {
	for _, c := range specCases {
		if c.query != "RULE" {
			f.Add(c.query)
		}
	}
	for _, c := range ownCases {
		f.Add(c.query)
	}
	f.Add(ruleQueryOrEmpty())
	f.Add(`f:{ g:{ a:b and not c:(d or e*) } } or *:x* and @timestamp >= now-1d/d`)
	docs := []string{
		defendBase,
		c51doc,
		`{"f":["x",null,1,true,{"g":"y"}],"a.b":{"c":[["z"]]},"@timestamp":"2026-03-01T00:00:00Z"}`,
		`{}`,
	}
	var parsed []ecs.Doc
	for _, ds := range docs {
		parsed = append(parsed, mustDoc(f, ds))
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, opt := range []Options{DefaultOptions(), {FieldTypes: DefendFieldTypes(), Now: fixedNow}} {
			q, err := ParseWith(s, opt)
			if err != nil {
				if _, ok := err.(*SyntaxError); !ok {
					t.Fatalf("error of type %T: %v", err, err)
				}
				continue
			}
			for _, d := range parsed {
				q.Match(d)
				q.Explain(d)
			}
			q.Fields()
			r := q.KQL()
			q2, err := ParseWith(r, opt)
			if err != nil {
				t.Fatalf("rendering %q of %q does not parse: %v", r, s, err)
			}
			if normDebug(q2.Debug()) != normDebug(q.Debug()) {
				t.Fatalf("rendering %q of %q parses to %s, not %s", r, s, q2.Debug(), q.Debug())
			}
		}
	})
}
