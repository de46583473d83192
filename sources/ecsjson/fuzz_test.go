package ecsjson

import (
	"bytes"
	"testing"

	"github.com/xferhunt/xferhunt/sources"
)

// FuzzScanDocuments feeds arbitrary input to the document reader, the line
// decoder and the sniffer: none may panic, the reader never fails on
// input alone, each document counted is accounted for, and Scan with
// several workers gives what one gives.
//
//	go test -run '^$' -fuzz FuzzScanDocuments -fuzztime 60s ./sources/ecsjson/
func FuzzScanDocuments(f *testing.F) {
	for _, s := range []string{
		docA, docB + "\n" + docA,
		"[\n" + docA + ",\n" + docB + "\n]",
		`{"events":[` + docA + `]}`,
		`{"took":1,"hits":{"hits":[{"_id":"1","_source":` + docB + `}]}}`,
		"{\n \"type\": \"doc\",\n \"value\": {\"id\": \"x\", \"source\": " + docB + "}\n}\n",
		`[{"test_name":"t","event":{"record_type":"syscall","sequence":1,"category":"audit-rule","data":{"syscall":"rename"},"paths":[{"name":"/a","nametype":"CREATE"}]}}]`,
		`{"auditd":{"data":{"syscall":"openat"},"paths":[{"name":"x","nametype":"CREATE"}]},"event":{"module":"auditd"}}`,
		"{\n \"message\": \"x\",,\n}\n{\"message\":\"y\"}",
		"}]\n{", "[[[[", `{"hits":{"hits":{"hits":[]}}}`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var emitted uint64
		st, err := ScanDocuments(bytes.NewReader(in), sources.ScanOptions{HostID: "h", Emit: func(e sources.Event) {
			if e.Doc == nil {
				t.Fatal("nil document emitted")
			}
			emitted++
		}})
		if err != nil {
			t.Fatalf("document reader failed on input alone: %v", err)
		}
		if st.Events != emitted || st.Events > st.Records {
			t.Fatalf("stats %+v, %d emitted", st, emitted)
		}
		if st.Lines != uint64(bytes.Count(in, []byte{'\n'})) {
			t.Fatalf("%d lines counted in input with %d", st.Lines, bytes.Count(in, []byte{'\n'}))
		}
		d := NewDecoder(Options{HostID: "h"})
		for _, line := range bytes.Split(in, []byte{'\n'}) {
			d.Line(line)
		}
		if ls := d.Stats(); ls.Events > ls.Records {
			t.Fatalf("line stats %+v", ls)
		}
		_ = Sniff(in)
		// Several workers read NDJSON as one does.
		sameScans(t, in, -1)
	})
}
