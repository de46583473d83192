package detect

import (
	"slices"
	"testing"
)

// fieldNameMatcher is nameMatcher that lists what it reads.
type fieldNameMatcher struct{ nameMatcher }

func (fieldNameMatcher) ReadFields() ([]string, bool) { return []string{"process.name"}, true }

// TestSparseNeedsEveryQueryToListItsFields: the engine offers a sparse
// plan only when every rule's query lists its fields; the plan names them
// and the event time's, and asks for the whole event exactly when a query
// matches.
func TestSparseNeedsEveryQueryToListItsFields(t *testing.T) {
	r := testRule()
	e, err := NewEngine([]RuleSpec{{Rule: r, Query: nameMatcher{[]string{"scp"}}}}, nil, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := e.Sparse(); ok {
		t.Fatal("a query that cannot list its fields gave a sparse plan")
	}
	e, err = NewEngine([]RuleSpec{{Rule: r, Query: fieldNameMatcher{nameMatcher{[]string{"scp"}}}}}, nil, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fields, whole, ok := e.Sparse()
	if !ok || !slices.Equal(fields, []string{"event.ingested", "@timestamp", "process.name"}) {
		t.Fatalf("plan %v %v", fields, ok)
	}
	if !whole(fileEvent(base, "/usr/bin/scp", "h")) || whole(fileEvent(base, "/usr/bin/cp", "h")) {
		t.Fatal("whole does not follow the query")
	}
}
