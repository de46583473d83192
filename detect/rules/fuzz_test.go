package rules

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary TOML to the rule reader: it never panics and
// answers within the nesting bound; an accepted rule validates and has
// what the engine needs (a query, a type it names). Seeds:
// testdata/fuzz/FuzzParse (the built-in rules, deep inline tables, bad
// durations).
//
//	go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 10s ./detect/rules
func FuzzParse(f *testing.F) {
	for _, name := range slices.Sorted(maps.Keys(builtins)) {
		b := builtins[name]
		data, err := builtinFS.ReadFile(b.file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := Parse(in, "fuzz.toml")
		if err != nil {
			if strings.ContainsRune(err.Error(), '\n') {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		if r.Query == "" && r.Type != "" || r.Validate() != nil {
			t.Fatalf("accepted rule does not validate: %+v", r)
		}
	})
}
