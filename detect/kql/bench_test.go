package kql

import (
	"testing"
)

// BenchmarkMatchRule evaluates the newest rule's query on Defend-shaped
// creation documents: one that matches (C66) and one that an exclusion
// rejects late (C70, the ansible path), the costlier case.
func BenchmarkMatchRule(b *testing.B) {
	q, err := Parse(latestRuleQuery(b))
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		doc  string
		want bool
	}{
		{"match", defendDoc(nil), true},
		{"nomatch-excluded", defendDoc(map[string]any{"file.extension": nil, "file.path": "/home/a/.ansible/tmp/ansible-tmp-9/x"}), false},
		{"nomatch-process", defendDoc(map[string]any{"process.name": "bash"}), false},
	} {
		d := mustDoc(b, c.doc)
		if q.Match(d) != c.want {
			b.Fatalf("%s: Match = %v", c.name, !c.want)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				q.Match(d)
			}
		})
	}
}

// BenchmarkParseCorpus parses all 792 corpus queries per iteration.
func BenchmarkParseCorpus(b *testing.B) {
	rules := loadCorpus(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range rules {
			if _, err := Parse(r.Query); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// Match allocates nothing for the rule query.
func TestMatchRuleAllocs(t *testing.T) {
	q, err := Parse(latestRuleQuery(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, ds := range []string{defendDoc(nil), defendDoc(map[string]any{"file.path": "/home/a/.ansible/tmp/ansible-tmp-9/x"})} {
		d := mustDoc(t, ds)
		if n := testing.AllocsPerRun(100, func() { q.Match(d) }); n != 0 {
			t.Errorf("Match allocates %.0f times per call", n)
		}
	}
}

// The other evaluation paths stay allocation-free too.
func TestMatchAllocs(t *testing.T) {
	d := mustDoc(t, defendBase)
	for _, s := range []string{
		`process.*:sftp`, `nomatch`, `*:nomatch*`, `@timestamp >= now-1d/d`, `event.ingested:2026-03-01`,
		`process.pid >= 10`, `file:{ path:x and name:y }`, `file:*`, `not user.*:*`,
	} {
		q, err := ParseWith(s, Options{FieldTypes: DefendFieldTypes(), Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { q.Match(d) }); n != 0 {
			t.Errorf("%s: Match allocates %.0f times per call", s, n)
		}
	}
}
