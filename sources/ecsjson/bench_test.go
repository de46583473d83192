package ecsjson

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"testing"

	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditd"
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

// captureNDJSON returns the ECS documents xferhunt builds from the
// committed capture (file events and their story's execs, logins and
// connections: 2–3 KB each, as Elastic Defend ships such events) as
// NDJSON, repeated to benchDocs lines.
func captureNDJSON(b *testing.B) []byte {
	b.Helper()
	f, err := os.Open("../../testdata/capture/raw.log")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var docs [][]byte
	_, err = auditd.ScanRecorded(f, sources.ScanOptions{HostID: "h", Story: true, Workers: 1, Emit: func(ev sources.Event) {
		ev.Doc.Set("event.module", "endpoint") // not taken for Auditbeat's
		line, err := ecs.AppendJSON(nil, ev.Doc)
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, append(line, '\n'))
	}})
	if err != nil || len(docs) == 0 {
		b.Fatal(err, len(docs))
	}
	var nd bytes.Buffer
	for n := range benchDocs {
		nd.Write(docs[n%len(docs)])
	}
	return nd.Bytes()
}

// BenchmarkNDJSONLines is `scan` of ECS NDJSON with the workers it gets
// (GOMAXPROCS); ...OneWorker is the cost on one core.
func BenchmarkNDJSONLines(b *testing.B) {
	nd, _, _ := benchInputs(b)
	benchScan(b, nd, Scan)
}

func BenchmarkNDJSONLinesOneWorker(b *testing.B) {
	nd, _, _ := benchInputs(b)
	benchScan(b, nd, oneWorker)
}

func BenchmarkNDJSONCapture(b *testing.B) {
	benchScan(b, captureNDJSON(b), Scan)
}

func BenchmarkNDJSONCaptureOneWorker(b *testing.B) {
	benchScan(b, captureNDJSON(b), oneWorker)
}

func oneWorker(r io.Reader, opt sources.ScanOptions) (sources.Stats, error) {
	opt.Workers = 1
	return Scan(r, opt)
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

// seedSparse is the sparse plan `scan` makes for the built-in seed rule.
func seedSparse(b *testing.B) *sources.Sparse {
	b.Helper()
	rs, err := rules.LoadAll("seed")
	if err != nil || len(rs) != 1 {
		b.Fatal(err, len(rs))
	}
	q, err := kql.ParseMapped(rs[0].Query)
	if err != nil {
		b.Fatal(err)
	}
	return &sources.Sparse{Fields: append([]string{"event.ingested", "@timestamp"}, q.Fields()...),
		Whole: func(d ecs.Doc) bool { return q.Match(d) }}
}

// BenchmarkNDJSONCaptureSparse is `scan` of the capture's documents with
// the seed rule's sparse plan: the documents its query does not match
// are built only as far as it reads them.
func BenchmarkNDJSONCaptureSparse(b *testing.B) {
	sp := seedSparse(b)
	benchScan(b, captureNDJSON(b), func(r io.Reader, opt sources.ScanOptions) (sources.Stats, error) {
		opt.Sparse = sp
		return Scan(r, opt)
	})
}

func BenchmarkNDJSONCaptureSparseOneWorker(b *testing.B) {
	sp := seedSparse(b)
	benchScan(b, captureNDJSON(b), func(r io.Reader, opt sources.ScanOptions) (sources.Stats, error) {
		opt.Sparse, opt.Workers = sp, 1
		return Scan(r, opt)
	})
}
