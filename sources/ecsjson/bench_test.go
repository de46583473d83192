package ecsjson

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/xferhunt/xferhunt/sources"
)

const benchDocs = 2000

// benchInputs returns the same documents as NDJSON, as a pretty-printed
// array and as a _search response.
func benchInputs(b *testing.B) (ndjson, pretty, search []byte) {
	b.Helper()
	i := bytes.Index([]byte(hitTemplate), []byte(`"_source":`)) + len(`"_source":`)
	src := []byte(hitTemplate[i : len(hitTemplate)-len(`,"sort":[1772359200000]}`)])
	var nd, pr bytes.Buffer
	pr.WriteString("[\n")
	for n := 0; n < benchDocs; n++ {
		nd.Write(src)
		nd.WriteByte('\n')
		if n > 0 {
			pr.WriteString(",\n")
		}
		if err := json.Indent(&pr, src, "  ", "  "); err != nil {
			b.Fatal(err)
		}
	}
	pr.WriteString("\n]\n")
	s, err := io.ReadAll(newSearchResponse(int64(benchDocs * len(hitTemplate))))
	if err != nil {
		b.Fatal(err)
	}
	return nd.Bytes(), pr.Bytes(), s
}

func benchScan(b *testing.B, in []byte, scan sources.ScanFunc) {
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	var docs uint64
	for b.Loop() {
		st, err := scan(bytes.NewReader(in), sources.ScanOptions{HostID: "h"})
		if err != nil || st.Malformed != 0 {
			b.Fatalf("%v %+v", err, st)
		}
		docs += st.Records
	}
	b.ReportMetric(float64(docs)/b.Elapsed().Seconds(), "docs/s")
}

func BenchmarkNDJSONLines(b *testing.B) {
	nd, _, _ := benchInputs(b)
	benchScan(b, nd, Scan)
}

func BenchmarkDocumentsNDJSON(b *testing.B) {
	nd, _, _ := benchInputs(b)
	benchScan(b, nd, ScanDocuments)
}

func BenchmarkDocumentsPrettyArray(b *testing.B) {
	_, pr, _ := benchInputs(b)
	benchScan(b, pr, ScanDocuments)
}

func BenchmarkDocumentsSearchResponse(b *testing.B) {
	_, _, s := benchInputs(b)
	benchScan(b, s, ScanDocuments)
}
