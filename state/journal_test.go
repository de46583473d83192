package state

import (
	"fmt"
	"path/filepath"
	"testing"
)

// A journal keeps the newest records up to its retention, in order, and
// a reopened store continues where the last one stopped.
func TestJournalRetentionAcrossReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "st")
	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	for i := range 7 {
		recs = append(recs, []byte(fmt.Sprintf(`{"n":%d}`, i)))
	}
	if del, err := st.Append(JournalEvents, recs[:4], 5); err != nil || del != 0 {
		t.Fatalf("append: %d %v", del, err)
	}
	if del, err := st.Append(JournalEvents, recs[4:], 5); err != nil || del != 2 {
		t.Fatalf("append beyond retention: deleted %d, %v; want 2", del, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Append(JournalEvents, [][]byte{[]byte(`{"n":7}`)}, 5); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := st.Records(JournalEvents, func(b []byte) error { got = append(got, string(b)); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []string{`{"n":3}`, `{"n":4}`, `{"n":5}`, `{"n":6}`, `{"n":7}`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("records = %v, want %v", got, want)
	}
	if n, err := st.JournalLen(JournalEvents); err != nil || n != 5 {
		t.Fatalf("len = %d, %v", n, err)
	}
	if n, err := st.JournalLen(JournalAlerts); err != nil || n != 0 {
		t.Fatalf("alerts len = %d, %v", n, err)
	}
}

// The memory store behaves the same (--ephemeral runs).
func TestJournalMemory(t *testing.T) {
	st := OpenMemory()
	defer st.Close()
	for i := range 3 {
		if _, err := st.Append(JournalAlerts, [][]byte{[]byte(fmt.Sprint(i))}, 2); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	_ = st.Records(JournalAlerts, func(b []byte) error { got = append(got, string(b)); return nil })
	if fmt.Sprint(got) != "[1 2]" {
		t.Fatalf("records = %v", got)
	}
}
