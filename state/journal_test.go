package state

import (
	"fmt"
	"path/filepath"
	"strings"
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
	if del, err := st.Append(JournalEvents, recs[:4], Retention{Records: 5}); err != nil || del != 0 {
		t.Fatalf("append: %d %v", del, err)
	}
	if del, err := st.Append(JournalEvents, recs[4:], Retention{Records: 5}); err != nil || del != 2 {
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
	if _, err := st.Append(JournalEvents, [][]byte{[]byte(`{"n":7}`)}, Retention{Records: 5}); err != nil {
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
		if _, err := st.Append(JournalAlerts, [][]byte{[]byte(fmt.Sprint(i))}, Retention{Records: 2}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	_ = st.Records(JournalAlerts, func(b []byte) error { got = append(got, string(b)); return nil })
	if fmt.Sprint(got) != "[1 2]" {
		t.Fatalf("records = %v", got)
	}
}

// A journal bounded by bytes drops its oldest records once they hold more
// than the bound, keeps the newest however big, and a reopened store
// counts the bytes it finds (the bound holds across runs).
func TestJournalByteRetention(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "st")
	for _, open := range []struct {
		name string
		fn   func() (*Store, error)
	}{{"bolt", func() (*Store, error) { return Open(dir) }}, {"memory", func() (*Store, error) { return OpenMemory(), nil }}} {
		t.Run(open.name, func(t *testing.T) {
			st, err := open.fn()
			if err != nil {
				t.Fatal(err)
			}
			keep := Retention{Records: 100, Bytes: 250}
			rec := func(i int) []byte { return []byte(fmt.Sprintf("%03d%s", i, strings.Repeat("x", 97))) }
			for i := range 2 {
				if _, err := st.Append(JournalEvents, [][]byte{rec(i)}, keep); err != nil {
					t.Fatal(err)
				}
			}
			if open.name == "bolt" {
				if err := st.Close(); err != nil {
					t.Fatal(err)
				}
				if st, err = open.fn(); err != nil {
					t.Fatal(err)
				}
			}
			defer st.Close()
			// 100 bytes each: a third would hold 300 > 250, so the oldest goes.
			if del, err := st.Append(JournalEvents, [][]byte{rec(2)}, keep); err != nil || del != 1 {
				t.Fatalf("append past the byte bound: deleted %d, %v; want 1", del, err)
			}
			// One record bigger than the bound: everything older goes, it stays.
			big := []byte(strings.Repeat("y", 1000))
			if del, err := st.Append(JournalEvents, [][]byte{big}, keep); err != nil || del != 2 {
				t.Fatalf("append of a record over the bound: deleted %d, %v; want 2", del, err)
			}
			var got []string
			if err := st.Records(JournalEvents, func(b []byte) error { got = append(got, string(b[:3])); return nil }); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != "[yyy]" {
				t.Fatalf("records = %v, want only the big one", got)
			}
		})
	}
}
