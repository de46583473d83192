package ecsjson

import (
	"bytes"
	"io"
	"runtime"
	"strconv"
	"testing"

	"github.com/xferhunt/xferhunt/sources"
)

// searchResponse generates an Elasticsearch _search response of about
// size bytes on the fly, so the test measures the reader and not a file
// held in memory.
type searchResponse struct {
	size, written int64
	n             int
	buf           bytes.Buffer
	done          bool
}

const hitTemplate = `{"_index":".ds-logs-endpoint.events.file-default-2026.03.01-000001","_id":"ID","_score":null,"_source":{"@timestamp":"2026-03-01T10:00:00.000Z","event":{"action":"creation","category":["file"],"type":["creation"],"kind":"event","module":"endpoint"},"file":{"path":"/home/alice/drop.bin","name":"drop.bin","extension":"bin","size":4096},"host":{"id":"2c2ef0a7a5b84c0f9a3c1e7d0e6f4b11","name":"web1","os":{"type":"linux"}},"process":{"name":"sftp-server","executable":"/usr/lib/openssh/sftp-server","pid":4242,"args":["/usr/lib/openssh/sftp-server","-l","INFO"]},"user":{"id":"1000","name":"alice"}},"sort":[1772359200000]}`

func newSearchResponse(size int64) *searchResponse {
	r := &searchResponse{size: size}
	r.buf.WriteString(`{"took":42,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"total":{"value":10000,"relation":"gte"},"max_score":null,"hits":[`)
	return r
}

func (r *searchResponse) Read(p []byte) (int, error) {
	for r.buf.Len() < len(p) && !r.done {
		if r.written+int64(r.buf.Len()) >= r.size {
			r.buf.WriteString("]}}\n")
			r.done = true
			break
		}
		if r.n > 0 {
			r.buf.WriteByte(',')
		}
		r.n++
		id := strconv.Itoa(r.n)
		i := bytes.Index([]byte(hitTemplate), []byte(`"ID"`))
		r.buf.WriteString(hitTemplate[:i+1])
		r.buf.WriteString(id)
		r.buf.WriteString(hitTemplate[i+3:])
	}
	if r.buf.Len() == 0 {
		return 0, io.EOF
	}
	n, _ := r.buf.Read(p)
	r.written += int64(n)
	return n, nil
}

// peakHeap scans a generated response of size bytes and returns the
// largest HeapInuse seen while it streamed, and the documents read.
func peakHeap(t *testing.T, size int64) (peak uint64, docs uint64) {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	st, err := ScanDocuments(newSearchResponse(size), sources.ScanOptions{Emit: func(e sources.Event) {
		docs++
		if docs%4096 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}})
	if err != nil || st.Malformed != 0 || st.Events != docs {
		t.Fatalf("scan: %v, %+v", err, st)
	}
	return peak, docs
}

func TestSearchResponseStreamsInFlatMemory(t *testing.T) {
	small, large := int64(8<<20), int64(200<<20)
	if testing.Short() {
		large = 40 << 20
	}
	pSmall, nSmall := peakHeap(t, small)
	pLarge, nLarge := peakHeap(t, large)
	t.Logf("%d MB: %d docs, peak HeapInuse %.1f MB; %d MB: %d docs, peak %.1f MB",
		small>>20, nSmall, float64(pSmall)/(1<<20), large>>20, nLarge, float64(pLarge)/(1<<20))
	if float64(nLarge) < 0.9*float64(nSmall)*float64(large/small) {
		t.Fatalf("large response read only %d docs (small %d)", nLarge, nSmall)
	}
	if pLarge >= 50<<20 {
		t.Errorf("peak HeapInuse %.1f MB over 50 MB", float64(pLarge)/(1<<20))
	}
	// Many times the input must not cost much more than the small one did.
	if pLarge > pSmall+16<<20 {
		t.Errorf("heap grows with the input: %.1f MB for %d MB vs %.1f MB for %d MB",
			float64(pLarge)/(1<<20), large>>20, float64(pSmall)/(1<<20), small>>20)
	}
}
