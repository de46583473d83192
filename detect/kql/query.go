// Package kql parses and evaluates Kibana Query Language queries with the
// semantics the Elastic Security detection engine gives them on ECS
// documents (shared/spec/elastic-semantics.md §1, §2.3):
//
//   - the grammar is Kibana's current one (grammar.peggy), with its quirks:
//     unquoted values may contain spaces and are trimmed, "not " ends a value
//     even inside a word, f:x or y makes y free text, \not reads as \n + "ot";
//   - keyword fields (the default) compare bytes exactly and case-sensitively;
//   - is the only wildcard, anchored, spanning '/' and newlines; a quoted
//     value is never a wildcard;
//   - a field may hold several values (arrays, dotted keys, arrays of
//     objects): is() and range() hold when any value does; f:(a and b) tests
//     each clause against the whole array; not is plain negation, so
//     "not f:x" is true when f is missing, null or [];
//   - f:* is Elasticsearch's exists (""/"-" count; null, [], [null] do not);
//     keyword values longer than 1024 bytes (ignore_above) are absent;
//   - ranges are lexicographic on keywords, numeric on Long/Double fields,
//     instants on Date fields (@timestamp and event.ingested by default) with
//     date math such as now-1d/d;
//   - field-name wildcards (process.*:scp, *:x) and free text resolve against
//     the fields present in the document (and typed fields in Options);
//   - nested queries f:{ a:x and b:y } need one object of f to satisfy the
//     whole subquery. Elasticsearch accepts them only on fields mapped as
//     nested and fails the search otherwise; this package has no mapping and
//     evaluates them per object element on any object or object array.
//
// An unquoted null value is an error: Kibana builds a query with a null
// value and Elasticsearch rejects it. Quote it ("null") to match the text.
package kql

import (
	"strings"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
)

// Query is a parsed and compiled KQL query. It is immutable and safe for
// concurrent use.
type Query struct {
	src     string
	root    *node
	m       matcher
	clauses []clause
	fields  []string
}

type clause struct {
	text string
	m    matcher
}

// Clause is one top-level AND-ed condition of a query and whether a
// document satisfied it.
type Clause struct {
	Text    string // the clause as KQL
	Matched bool
}

// Parse parses a query with the detection engine's options: leading
// wildcards allowed, @timestamp and event.ingested dates, every other field
// a keyword. Errors are *SyntaxError.
func Parse(query string) (*Query, error) {
	return ParseWith(query, DefaultOptions())
}

// ParseWith parses a query with explicit options. Errors are *SyntaxError.
func ParseWith(query string, opt Options) (*Query, error) {
	root, err := parse(query, opt.AllowLeadingWildcards)
	if err != nil {
		return nil, err
	}
	c := &compiler{src: query, opt: &opt, types: opt.types(), now: opt.Now}
	if c.now == nil {
		c.now = time.Now
	}
	m, err := c.compile(root, "")
	if err != nil {
		return nil, err
	}
	q := &Query{src: query, root: root, m: m}
	if root.kind == kindAnd {
		for i, k := range root.kids {
			q.clauses = append(q.clauses, clause{text: renderKQL(k), m: m.(andM)[i]})
		}
	} else {
		q.clauses = []clause{{text: renderKQL(root), m: m}}
	}
	seen := map[string]bool{}
	collectFields(root, "", func(f string) {
		if !seen[f] {
			seen[f] = true
			q.fields = append(q.fields, f)
		}
	})
	return q, nil
}

// MustParse is Parse for queries known to be valid; it panics on error.
func MustParse(query string) *Query {
	q, err := Parse(query)
	if err != nil {
		panic(err)
	}
	return q
}

// String returns the query text as given.
func (q *Query) String() string { return q.src }

// Match reports whether the document satisfies the query. It allocates
// nothing on keyword fields given by name.
func (q *Query) Match(d ecs.Doc) bool { return q.m.match(d) }

// Explain evaluates each top-level AND-ed clause on its own: the clauses of
// a root AND, or the whole query as one clause.
func (q *Query) Explain(d ecs.Doc) []Clause {
	out := make([]Clause, len(q.clauses))
	for i, c := range q.clauses {
		out[i] = Clause{Text: c.text, Matched: c.m.match(d)}
	}
	return out
}

// Fields lists the field names the query references, in order of first
// appearance; field-name wildcards appear as written (process.*), names
// inside a nested query with the nested path in front. Free text adds none.
func (q *Query) Fields() []string { return append([]string(nil), q.fields...) }

// KQL renders the parsed query back as normalized KQL.
func (q *Query) KQL() string { return renderKQL(q.root) }

// Debug renders the parse tree, e.g. or(and(is("a", "b"), ...), ...):
// strings quoted (q"..." when written quoted), wildcards as w"..." with *
// for a marker and \* for a literal asterisk, a free-text field as null.
func (q *Query) Debug() string {
	var b strings.Builder
	q.root.debug(&b)
	return b.String()
}

func collectFields(n *node, prefix string, add func(string)) {
	switch n.kind {
	case kindIs, kindRange:
		if name, free := fieldName(n.field); !free {
			add(prefix + name)
		}
	case kindNested:
		name, _ := fieldName(n.field)
		collectFields(n.kids[0], prefix+name+".", add)
	default:
		for _, k := range n.kids {
			collectFields(k, prefix, add)
		}
	}
}
