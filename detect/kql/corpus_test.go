package kql

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/xferhunt/xferhunt/internal/sharedtest"
)

// corpusRule is one line of shared/corpus/kql-detection-rules.ndjson: a
// detection-rules rule whose language is kuery.
type corpusRule struct {
	File   string `json:"file"`
	RuleID string `json:"rule_id"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	Query  string `json:"query"`
}

func loadCorpus(tb testing.TB) []corpusRule {
	tb.Helper()
	path := filepath.Join(sharedtest.Dir, "corpus", "kql-detection-rules.ndjson")
	f, err := os.Open(path)
	if err != nil {
		tb.Skipf("corpus absent: %v", err)
	}
	defer f.Close()
	var out []corpusRule
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for line := 1; sc.Scan(); line++ {
		var r corpusRule
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			tb.Fatalf("%s:%d: %v", path, line, err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// corpusQueries returns the corpus queries, or none when it is absent.
func corpusQueries(t *testing.T) []string {
	path := filepath.Join(sharedtest.Dir, "corpus", "kql-detection-rules.ndjson")
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	var qs []string
	for _, r := range loadCorpus(t) {
		qs = append(qs, r.Query)
	}
	return qs
}

// Every KQL query of the detection-rules corpus parses (SPEC §5).
func TestCorpusParses(t *testing.T) {
	rules := loadCorpus(t)
	ok := 0
	for _, r := range rules {
		q, err := Parse(r.Query)
		if err != nil {
			t.Errorf("%s (%s): %v", r.File, r.Name, err)
			continue
		}
		ok++
		if len(q.Fields()) == 0 {
			t.Errorf("%s: no fields", r.File)
		}
		// Evaluating on an empty and on a busy document must not panic.
		q.Match(nil)
		q.Explain(mustDoc(t, defendBase))
	}
	t.Logf("%d of %d corpus queries parse", ok, len(rules))
	// With the mapping's field types too, as rules are compiled.
	for _, r := range rules {
		if _, err := ParseMapped(r.Query); err != nil {
			t.Errorf("mapped: %s (%s): %v", r.File, r.Name, err)
		}
	}
	if len(rules) != 792 {
		t.Errorf("corpus has %d queries, expected 792", len(rules))
	}
}
