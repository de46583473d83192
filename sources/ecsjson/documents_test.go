package ecsjson

import (
	"errors"
	"io"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/xferhunt/xferhunt/sources"
)

// scanString runs the document reader over s and returns each event's
// message (or @timestamp when it has none) and key.
func scanString(t *testing.T, s string) ([]string, []string, sources.Stats) {
	t.Helper()
	var msgs, keys []string
	st, err := ScanDocuments(strings.NewReader(s), sources.ScanOptions{HostID: "h1", Emit: func(e sources.Event) {
		m := e.Doc.Str("message")
		if m == "" {
			m = e.Doc.Str("@timestamp")
		}
		msgs = append(msgs, m)
		keys = append(keys, e.Key)
	}})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	return msgs, keys, st
}

const (
	docA = `{"@timestamp":"2026-01-01T00:00:00Z","message":"a","event":{"id":"ea","action":"creation"}}`
	docB = `{"@timestamp":"2026-01-01T00:00:01Z","message":"b"}`
)

func TestDocumentShapes(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		msgs  []string
		keys  []string
		lines uint64
	}{
		{name: "pretty single document", in: "{\n  \"message\": \"a\",\n  \"event\": {\"id\": \"x\"}\n}\n",
			msgs: []string{"a"}, keys: []string{""}, lines: 4},
		{name: "concatenated pretty documents", in: "{\n \"message\": \"a\"\n}\n\n{\n \"message\": \"b\"\n}",
			msgs: []string{"a", "b"}, keys: []string{"", ""}},
		{name: "array", in: "[\n  " + docA + ",\n  " + docB + "\n]\n",
			msgs: []string{"a", "b"}, keys: []string{"", ""}},
		{name: "empty array", in: "[]", msgs: nil, keys: nil},
		{name: "pipeline test events", in: `{"events": [` + docA + `,` + docB + `]}`,
			msgs: []string{"a", "b"}, keys: []string{"", ""}},
		{name: "search response", in: `{"took":3,"timed_out":false,"_shards":{"total":1},"hits":{"total":{"value":2},"max_score":1,"hits":[` +
			`{"_index":".ds-logs-endpoint.events.file-default-1","_id":"id-a","_score":1,"_source":` + docA + `},` +
			`{"_index":".ds-logs-endpoint.events.file-default-1","_id":"id-b","_score":1,"_source":` + docB + `}]}}`,
			// docA has its own event.id, which keys it; docB is keyed by _id.
			msgs: []string{"a", "b"}, keys: []string{"", "id-b"}},
		{name: "search response with aggregations after hits", in: `{"hits":{"hits":[{"_id":"1","_source":` + docB + `}]},"aggregations":{"x":{"buckets":[]}}}`,
			msgs: []string{"b"}, keys: []string{"1"}},
		{name: "es_archiver records", in: "{\n  \"type\": \"doc\",\n  \"value\": {\n    \"id\": \"arch-b\",\n    \"index\": \"logs\",\n    \"source\": " + docB + "\n  }\n}\n\n" +
			"{\n  \"type\": \"index\",\n  \"value\": {\"index\": \"logs\", \"mappings\": {}}\n}\n\n" +
			"{\n  \"type\": \"doc\",\n  \"value\": {\"id\": \"arch-a\", \"index\": \"logs\", \"source\": " + docA + "}\n}\n",
			msgs: []string{"b", "a"}, keys: []string{"arch-b", ""}},
		{name: "bare hit", in: "{\n \"_index\": \"i\",\n \"_id\": \"hit-b\",\n \"_source\": " + docB + "\n}",
			msgs: []string{"b"}, keys: []string{"hit-b"}},
		{name: "array of hits", in: `[{"_id":"x","_source":` + docB + `}]`, msgs: []string{"b"}, keys: []string{"x"}},
		{name: "golden file element", in: `[{"test_name":"t","event":` + docB + `,"warnings":["w"]}]`,
			msgs: []string{"b"}, keys: []string{""}},
		{name: "byte order mark", in: "\xef\xbb\xbf[\n" + docB + "\n]\n", msgs: []string{"b"}, keys: []string{""}},
		{name: "msearch responses", in: `{"took":1,"responses":[{"hits":{"hits":[{"_id":"m1","_source":` + docB + `}]}},{"hits":{"hits":[{"_id":"m2","_source":` + docA + `}]}}]}`,
			msgs: []string{"b", "a"}, keys: []string{"m1", ""}},
		{name: "NDJSON read as documents", in: docA + "\n" + docB + "\n", msgs: []string{"a", "b"}, keys: []string{"", ""}, lines: 2},
		{name: "hits object without a list is an event", in: `{"message":"b","hits":{"count":3}}`, msgs: []string{"b"}, keys: []string{""}},
		{name: "events that are not an array", in: `{"message":"b","events":{"n":1}}`, msgs: []string{"b"}, keys: []string{""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msgs, keys, st := scanString(t, c.in)
			if !reflect.DeepEqual(msgs, c.msgs) || !reflect.DeepEqual(keys, c.keys) {
				t.Errorf("events %q keys %q, want %q %q", msgs, keys, c.msgs, c.keys)
			}
			if st.Malformed != 0 || st.Records != uint64(len(c.msgs)) || st.Events != uint64(len(c.msgs)) {
				t.Errorf("stats %+v", st)
			}
			if c.lines != 0 && st.Lines != c.lines {
				t.Errorf("%d lines, want %d", st.Lines, c.lines)
			}
		})
	}
}

func TestDocumentSyntaxErrorsResync(t *testing.T) {
	cases := []struct {
		name      string
		in        string
		msgs      []string
		malformed uint64
	}{
		{name: "broken pretty document between good ones",
			in:   "{\n \"message\": \"a\"\n}\n{\n \"message\": \"x\",,\n \"more\": 1\n}\n{\n \"message\": \"b\"\n}\n",
			msgs: []string{"a", "b"}, malformed: 1},
		{name: "truncated last document", in: docA + "\n{\n \"message\": \"b\",\n", msgs: []string{"a"}, malformed: 1},
		{name: "broken NDJSON line", in: docA + "\n{\"message\": \"x\" \"y\"}\n" + docB + "\n", msgs: []string{"a", "b"}, malformed: 1},
		{name: "broken array element ends the file", in: "[\n  " + docA + ",\n  {\"message\": x},\n  " + docB + "\n]\n",
			msgs: []string{"a"}, malformed: 1},
		{name: "resync lands on a document after the broken array", in: "[" + docA + ", {bad\n]\n" + docB + "\n",
			msgs: []string{"a", "b"}, malformed: 1},
		{name: "scalars are not documents", in: "1 \"s\" true null " + docB, msgs: []string{"b"}, malformed: 4},
		{name: "non-object elements", in: `[1, "x", ` + docB + `, [2]]`, msgs: []string{"b"}, malformed: 3},
		{name: "non-object hits", in: `{"hits":{"hits":[3, {"_source":` + docB + `}]}}`, msgs: []string{"b"}, malformed: 1},
		{name: "stray closer", in: "}\n" + docB + "\n]\n", msgs: []string{"b"}, malformed: 2},
		{name: "garbage only", in: "{{{{", malformed: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msgs, _, st := scanString(t, c.in)
			if !reflect.DeepEqual(msgs, c.msgs) || st.Malformed != c.malformed {
				t.Errorf("events %q malformed %d, want %q %d", msgs, st.Malformed, c.msgs, c.malformed)
			}
		})
	}
}

// The resync must find the next document when the broken one and what
// follows it are spread over many small reads and the decoder's buffer.
func TestDocumentResyncAcrossReads(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 300; i++ {
		if i%7 == 3 {
			b.WriteString("{\n  \"message\": \"broken\" : ,\n  \"pad\": \"" + strings.Repeat("p", i*10) + "\"\n}\n")
			continue
		}
		b.WriteString("{\n  \"message\": \"ok\",\n  \"pad\": \"" + strings.Repeat("p", i*10) + "\"\n}\n")
	}
	n := 0
	st, err := ScanDocuments(iotest.OneByteReader(strings.NewReader(b.String())), sources.ScanOptions{Emit: func(e sources.Event) {
		if e.Doc.Str("message") != "ok" {
			t.Errorf("emitted %q", e.Doc.Str("message"))
		}
		n++
	}})
	if err != nil {
		t.Fatal(err)
	}
	const broken = 43 // i%7 == 3 for i < 300
	if n != 300-broken || st.Malformed != broken {
		t.Errorf("%d events, %d malformed; want %d, %d", n, st.Malformed, 300-broken, broken)
	}
}

func TestDocumentReadErrorIsReturned(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader("["+docA+","), iotest.ErrReader(boom))
	_, err := ScanDocuments(r, sources.ScanOptions{})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the read error", err)
	}
}

func TestSniffShapes(t *testing.T) {
	cases := map[string]sources.Format{
		docA + "\n":   sources.ECSNDJSON,
		"\n\n" + docA: sources.ECSNDJSON,
		`{"event":{"module":"auditd"},"auditd":{"result":"success"}}` + "\n": sources.AuditbeatNDJSON,
		// The module without Auditbeat's auditd object (which Map reads): an
		// ECS event, as xferhunt's own are; dotted auditd.* keys are no object.
		`{"event.module":"auditd","auditd.result":"success"}` + "\n": sources.ECSNDJSON,
		`{"event":{"module":"auditd"}}` + "\n":                       sources.ECSNDJSON,
		"{\n  \"message\": \"a\"\n}\n":                               sources.JSONDocuments,
		"[\n" + docA + "\n]":                                         sources.JSONDocuments,
		"[]":                                                         sources.JSONDocuments,
		docA[:20]:                                                    sources.JSONDocuments, // a head cut inside a long first line
		"{\"type\": \"doc\", \"value\": {\n":                         sources.JSONDocuments,
		"hello\n":                                                    sources.Unknown,
	}
	for in, want := range cases {
		if got := Sniff([]byte(in)); got != want {
			t.Errorf("Sniff(%.30q) = %v, want %v", in, got, want)
		}
	}
}

// Lines of NDJSON may themselves be wrappers: one search hit or archive
// record per line, as scroll and export scripts write them.
func TestLineModeUnwraps(t *testing.T) {
	var msgs, keys []string
	d := NewDecoder(Options{HostID: "h", Emit: func(e sources.Event) {
		msgs = append(msgs, e.Doc.Str("message"))
		keys = append(keys, e.Key)
	}})
	d.Line([]byte(`{"_index":"i","_id":"1","_source":` + docB + `}`))
	d.Line([]byte(`{"type":"doc","value":{"id":"2","source":` + docB + `}}`))
	d.Line([]byte(`{"hits":{"hits":[{"_id":"3","_source":` + docB + `},{"_id":"4","_source":` + docA + `}]}}`))
	d.Line([]byte(`{"events":[` + docB + `, 5]}`))
	d.Line([]byte("\xef\xbb\xbf" + docB))
	want := []string{"b", "b", "b", "a", "b", "b"}
	if !reflect.DeepEqual(msgs, want) || !reflect.DeepEqual(keys, []string{"1", "2", "3", "", "", ""}) {
		t.Errorf("events %q keys %q", msgs, keys)
	}
	if st := d.Stats(); st.Records != 6 || st.Malformed != 1 || st.Lines != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestScanFileDispatchesDocuments(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/export.json"
	writeFile(t, path, "{\n  \"hits\": {\n    \"hits\": [\n      {\"_id\": \"z\", \"_source\": "+docB+"}\n    ]\n  }\n}\n")
	var keys []string
	st, err := formats().ScanFile(path, sources.ScanOptions{Emit: func(e sources.Event) { keys = append(keys, e.Key) }})
	if err != nil || st.Events != 1 || !reflect.DeepEqual(keys, []string{"z"}) {
		t.Fatalf("ScanFile: %v, %+v, keys %q", err, st, keys)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// go-libaudit's own JSON output is NDJSON of coalesced events; each line
// maps as Auditbeat would have indexed it.
func TestLineModeMapsCoalesced(t *testing.T) {
	line := `{"@timestamp":"2026-03-01T10:00:00.123Z","sequence":9,"category":"audit-rule","record_type":"syscall","result":"success",` +
		`"process":{"name":"scp","exe":"/usr/bin/scp","cwd":"/tmp"},"data":{"syscall":"openat","a2":"241"},` +
		`"paths":[{"name":"/tmp/","nametype":"PARENT"},{"name":"x.tar","nametype":"CREATE"}]}`
	if f := Sniff([]byte(line + "\n")); f != sources.ECSNDJSON {
		t.Fatalf("sniffed %v", f)
	}
	var evs []sources.Event
	d := NewDecoder(Options{HostID: "h", Emit: func(e sources.Event) { evs = append(evs, e) }})
	d.Line([]byte(line))
	d.Line([]byte(`{"_id":"q","_source":` + line + `}`))
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	// A wrapped event's original is the event, not the wrapper line.
	if o := evs[1].Doc.Str("event.original"); strings.Contains(o, "_source") || !strings.Contains(o, `"record_type":"syscall"`) {
		t.Errorf("wrapped event.original %.60q", o)
	}
	e := evs[0]
	if e.Doc.Str("event.action") != "creation" || e.Doc.Str("file.path") != "/tmp/x.tar" || e.Key != "h:1772359200.123:9" ||
		e.Doc.Str("event.original") != line || e.Doc.Str("xferhunt.mapped_from") != "go-libaudit" {
		t.Errorf("action %q path %q key %q original %.40q", e.Doc.Str("event.action"), e.Doc.Str("file.path"), e.Key, e.Doc.Str("event.original"))
	}
}

// TestDocumentOverLimitSkipped: one JSON document holding a huge string
// (a bomb in a pretty-printed export) was decoded whole. It now counts as
// one malformed document once it passes MaxDocument, the documents after
// it are still read, and memory stays bounded by the limit, not the
// document.
func TestDocumentOverLimitSkipped(t *testing.T) {
	const huge = 256 << 20
	in := io.MultiReader(
		strings.NewReader(docA+"\n"+`{"message":"`),
		io.LimitReader(repeatA{}, huge),
		strings.NewReader("\"}\n"+docB+"\n"),
	)
	var msgs []string
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	st, err := ScanDocuments(in, sources.ScanOptions{HostID: "h1", Emit: func(e sources.Event) { msgs = append(msgs, e.Doc.Str("message")) }})
	runtime.ReadMemStats(&after)
	if err != nil || strings.Join(msgs, ",") != "a,b" || st.Malformed != 1 {
		t.Fatalf("err %v, %d messages %.20q, %+v; want a,b and one malformed", err, len(msgs), msgs, st)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16*MaxDocument { // the decoder buffer and the resync, each a few times the limit
		t.Fatalf("allocated %d MiB for a %d MiB document", alloc>>20, huge>>20)
	}
}

// repeatA reads as an endless run of 'A'.
type repeatA struct{}

func (repeatA) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'A'
	}
	return len(p), nil
}
