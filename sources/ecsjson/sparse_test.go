package ecsjson

import (
	"reflect"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/sources"
)

// sparseQueries are the built-in rules' queries and a few that read
// fields in the ways a sparse decode must keep: multi-fields, nested
// queries, exists on an object, ranges, dotted and array spellings.
func sparseQueries(t testing.TB) []*kql.Query {
	t.Helper()
	var out []*kql.Query
	for _, name := range rules.Builtin() {
		rs, err := rules.LoadAll(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.Companion != "" {
				continue
			}
			q, err := kql.ParseMapped(r.Query)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, q)
		}
	}
	for _, s := range []string{
		`process.name.caseless:SCP`, `process.parent.executable.caseless:/USR/SBIN/SSHD`, `file.Ext:*`,
		`process.parent:{ name:sshd and pid > 10 }`,
		`not file.path:/run/*`, `event.sequence >= 100`, `@timestamp < "2026-11-02"`, `user.name:(alice or "bob")`,
		`a.b.c:1 or a:x or a.b:y`, `process.args:"-t" and process.args:"-r"`, `host.os.type:linux and not host.id:*`,
	} {
		q, err := kql.ParseMapped(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, q)
	}
	return out
}

// sparseFields is what scan would pass for qs: their fields and the
// event time's.
func sparseFields(t testing.TB, qs []*kql.Query) []string {
	t.Helper()
	fields := []string{"event.ingested", "@timestamp"}
	for _, q := range qs {
		sh := q.Shape()
		if sh.FreeText {
			t.Fatalf("query %s has free text", q)
		}
		fields = append(fields, sh.Fields...)
	}
	return fields
}

// sameAsWhole checks a sparse decode of in against the whole one: the
// same inputs refused; for a plain document, what every field and query
// reads is the same.
func sameAsWhole(t testing.TB, p *parser, tree *fieldTree, fields []string, qs []*kql.Query, in []byte) {
	t.Helper()
	whole, werr := p.object(in)
	sp, plain, serr := p.sparseObject(in, tree)
	switch {
	case werr != nil && serr == nil && plain:
		t.Fatalf("%.200q: whole decode refuses it (%v), sparse accepts it", in, werr)
	case werr == nil && serr != nil:
		t.Fatalf("%.200q: sparse decode refuses it (%v), whole accepts it", in, serr)
	case werr != nil || !plain:
		return
	}
	w, s := ecs.Doc(whole), ecs.Doc(sp)
	for _, f := range append(fields, sparseOwnFields...) {
		if !reflect.DeepEqual(w.Get(f), s.Get(f)) || !reflect.DeepEqual(w.Values(f), s.Values(f)) {
			t.Fatalf("%.200q: field %s: whole %#v / %#v, sparse %#v / %#v", in, f, w.Get(f), w.Values(f), s.Get(f), s.Values(f))
		}
	}
	for _, q := range qs {
		if q.Match(w) != q.Match(s) {
			t.Fatalf("%.200q: query %s: whole %v, sparse %v", in, q, q.Match(w), q.Match(s))
		}
	}
}

// sparseCases hold the fields the rules read in every spelling.
var sparseCases = []string{
	`{"process.name":"scp","process":{"name":"x","executable":"/e"},"event":[{"category":"file"},{"action":"creation"}],"host":{"os.type":"linux"},"file":{"path":["/a","/run/x"]}}`,
	`{"event":{"category":["file"],"action":"creation"},"host":{"os":{"type":"linux"},"id":"h"},"process":{"name":"sftp-server","executable":"/s","parent":{"name":"sshd","pid":11}},"file":{"path":"/home/a"}}`,
	`{"event.category":"file","event.action":"creation","host.os.type":"linux","process.name":"vsftpd","file.path":"/srv/f","@timestamp":"2026-11-01T00:00:00Z"}`,
	`{"process":{"name":{"caseless":"x"}},"a":{"b":{"c":1},"b.c":2},"a.b":{"c":3},"a.b.c":4}`,
	`{"process":{"parent":[{"name":"sshd","pid":12},{"name":"bash","pid":1}],"args":["-t","-r"]},"event":{"sequence":[99,100]}}`,
	`{"process":{"parent":{"executable":"/usr/sbin/sshd","name":"sshd","pid":12}},"file":{"Ext":{"x":{"y":1}}}}`,
	`{"process":{"parent":{"executable":["/usr/sbin/SSHD"]}},"file":{"Ext":{"x":{}},"Ext.y":[]}}`,
	`{"process":{"parent":{}},"host":{"os":null,"id":null},"file":{"path":[]},"event":{"category":[[["file"]]]}}`,
	`{"file":{"path":"/a"},"file":{"name":"b"},"process":"scp","process.name":["scp",{"x":1}]}`,
	`{"event":{"module":"auditd"},"process":{"name":"scp"}}`, `{"data_stream":{"dataset":"auditd_manager.auditd"}}`,
	`{"auditd":{"data":{}},"process":{"name":"scp"}}`, `{"_source":{"process":{"name":"scp"}}}`, `{"kibana.alert.uuid":"u"}`,
	`{"event.module":"auditd","auditd.result":"success","process":{"name":"bash"},"file":{"path":"/run/x"}}`,
	`{"event":{"module":"auditd"},"process":{"name":"bash"},"file":{"path":"/run/x"}}`,
	`{"type":"doc","value":{"source":{}}}`, `{"record_type":"SYSCALL","sequence":1,"category":"audit-rule"}`,
	`{"x":{"y":[1,2,{"z":"\u00e9\ud800"}],"w":1e400},"process":{"name":"scp"}}`, `{"x":"bad \x escape","process":{"name":"scp"}}`,
	`{"x":"a` + "\x01" + `b","process":{"name":"scp"}}`, `{"x":-01}`, `{"x":[1,2,]}`, `{"x":{"a" 1}}`, `{"x":tru}`,
	"{\"x\":\"\xff\xfe long enough to take the eight-byte steps \\\" and \\\\ inside\",\"user\":{\"name\":\"bob\"}}",
	`{"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	`{"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
	`{"x":"a\"b\"c\\","process":{"name":"scp"}}`, `{"x":"\u00"}`, `{"x":"\u123"}`, `{"x":"ab\`, `{"x":"ab\"}`,
	"{\"x\":\"12345678\x1f\"}", "{\"x\":\"1234567\x1f\\\"\"}", `{"x":"\\\\\\\"\\","y":"\/\b\f\n\r\t\u0041"}`,
	// One quote far after a million escapes: linear, not quadratic.
	`{"x":"` + strings.Repeat(`\n`, 1<<20) + `"}`,
	`{"x":12345678901234567890123456789e300}`, `{"x":0.000000000000000000001}`, `{"x":1.5e308,"y":1e-400}`,
}

func TestSparseLikeWhole(t *testing.T) {
	qs := sparseQueries(t)
	fields := sparseFields(t, qs)
	tree := newFieldTree(append(fields, sparseOwnFields...))
	p := newParser()
	for _, c := range append(append([]string{}, sparseCases...), parseCases...) {
		sameAsWhole(t, p, tree, fields, qs, []byte(c))
	}
	for _, c := range deepCases {
		sameAsWhole(t, p, tree, fields, qs, []byte(c))
	}
	// The capture's documents and every line of the samples.
	realDocuments(t, func(b []byte) { sameAsWhole(t, p, tree, fields, qs, b) })
}

// TestScanSparseSameAsWhole: Scan with a sparse plan counts the same,
// emits the same events in the same order, and every event the plan needs
// whole is the whole document.
func TestScanSparseSameAsWhole(t *testing.T) {
	qs := sparseQueries(t)
	whole := func(d ecs.Doc) bool {
		for _, q := range qs {
			if q.Match(d) {
				return true
			}
		}
		return false
	}
	var in strings.Builder
	for i := range 300 {
		in.WriteString(sparseCases[i%len(sparseCases)] + "\n")
		in.WriteString(parseCases[i%len(parseCases)] + "\n")
	}
	for _, workers := range []int{1, 3} {
		type ev struct {
			key   string
			whole bool
			doc   string
		}
		run := func(sparse *sources.Sparse) ([]ev, sources.Stats) {
			var evs []ev
			st, err := Scan(strings.NewReader(in.String()), sources.ScanOptions{HostID: "h", Workers: workers, Sparse: sparse,
				Emit: func(e sources.Event) {
					b, _ := ecs.AppendJSON(nil, e.Doc)
					w := whole(e.Doc)
					if !w {
						b = nil // a sparse document: only what whole reads of it counts
					}
					evs = append(evs, ev{e.Key, w, string(b)})
				}})
			if err != nil {
				t.Fatal(err)
			}
			return evs, st
		}
		wantEvs, wantSt := run(nil)
		gotEvs, gotSt := run(&sources.Sparse{Fields: sparseFields(t, qs), Whole: whole})
		if !reflect.DeepEqual(gotSt, wantSt) || !reflect.DeepEqual(gotEvs, wantEvs) {
			t.Fatalf("%d workers: sparse %+v %d events, whole %+v %d events", workers, gotSt, len(gotEvs), wantSt, len(wantEvs))
		}
		if wantSt.Events == 0 || wantSt.Malformed == 0 {
			t.Fatalf("the input exercises nothing: %+v", wantSt)
		}
	}
}

// FuzzSparseLikeWhole is the sparse decode's differential fuzz target.
//
//	go test -run '^$' -fuzz FuzzSparseLikeWhole -fuzztime 60s ./sources/ecsjson/
func FuzzSparseLikeWhole(f *testing.F) {
	for _, c := range append(append([]string{}, sparseCases...), parseCases...) {
		if len(c) < 4096 { // the deep and long ones are slow to mutate
			f.Add([]byte(c))
		}
	}
	qs := sparseQueries(f)
	fields := sparseFields(f, qs)
	tree := newFieldTree(append(fields, sparseOwnFields...))
	p := newParser()
	f.Fuzz(func(t *testing.T, in []byte) {
		sameAsWhole(t, p, tree, fields, qs, in)
	})
}
