package ecsjson

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/sources"
)

// scanned is what a Scan gave: its stats, error text and every event
// (document as JSON, key) in order.
type scanned struct {
	stats sources.Stats
	err   string
	evs   []string
}

func scanWith(t testing.TB, r io.Reader, workers int) scanned {
	t.Helper()
	var out scanned
	st, err := Scan(r, sources.ScanOptions{HostID: "h", HostName: "n", Workers: workers, Emit: func(ev sources.Event) {
		b, jerr := ecs.AppendJSON(nil, ev.Doc)
		if jerr != nil {
			t.Fatal(jerr)
		}
		out.evs = append(out.evs, ev.Key+" "+string(b))
	}})
	out.stats = st
	if err != nil {
		out.err = err.Error()
	}
	return out
}

// sameScans checks that Scan with several workers, over reads of any size,
// gives what one worker gives: the same events in the same order, the same
// counts and the same error.
func sameScans(t testing.TB, in []byte, failAfter int) {
	t.Helper()
	reader := func(wrap func(io.Reader) io.Reader) io.Reader {
		var r io.Reader = bytes.NewReader(in)
		if failAfter >= 0 {
			r = io.MultiReader(bytes.NewReader(in[:failAfter]), iotest.ErrReader(errors.New("disk gone")))
		}
		return wrap(r)
	}
	plain := func(r io.Reader) io.Reader { return r }
	want := scanWith(t, reader(plain), 1)
	for _, c := range []struct {
		name    string
		wrap    func(io.Reader) io.Reader
		workers int
	}{
		{"2 workers", plain, 2},
		{"3 workers, one byte a read", iotest.OneByteReader, 3},
		{"4 workers, half reads", iotest.HalfReader, 4},
	} {
		got := scanWith(t, reader(c.wrap), c.workers)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s on %.120q (fail after %d):\n got  %+v %q %d events\n want %+v %q %d events", c.name, in, failAfter,
				got.stats, got.err, len(got.evs), want.stats, want.err, len(want.evs))
		}
	}
}

func TestScanParallelSameAsOneWorker(t *testing.T) {
	long := `{"message":"` + strings.Repeat("x", 3*blockSize) + `","event":{"id":"long"}}`
	var many strings.Builder
	for i := range 5000 {
		switch i % 7 {
		case 0:
			many.WriteString(docA + "\n")
		case 1:
			many.WriteString(docB + "\r\n")
		case 2:
			many.WriteString("not json\n")
		case 3:
			many.WriteString("\n")
		case 4:
			many.WriteString(`{"auditd":{"data":{"syscall":"openat"},"paths":[{"name":"/tmp/x","nametype":"CREATE"}]},"event":{"module":"auditd","action":"opened-file","category":"audit-rule"},"process":{"name":"scp","pid":1},"@timestamp":"2026-01-01T00:00:00Z"}` + "\n")
		case 5:
			many.WriteString(`{"_id":"hit-1","_source":` + docA + "}\n")
		default:
			many.WriteString(`{"events":[` + docA + `,1,` + docB + "]}\n")
		}
	}
	for _, in := range []string{
		"", "\n", docA, docA + "\n", docA + "\n" + docB, "\n\n" + docA + "\n\n",
		long + "\n" + docA + "\n" + long, many.String(), many.String() + long,
	} {
		sameScans(t, []byte(in), -1)
	}
	// A read error part way: the lines before it are decoded, the
	// unfinished one dropped, the error returned.
	for _, at := range []int{0, 10, len(docA) + 1, len(docA) + 5, many.Len() / 2} {
		sameScans(t, []byte(many.String()), at)
	}
}

// TestScanParallelStopsWithItsConsumer: a consumer that stops the scan
// (a panic in Emit) leaves no reader or worker blocked for ever.
func TestScanParallelStopsWithItsConsumer(t *testing.T) {
	in := strings.Repeat(docA+"\n", 50000)
	before := runtime.NumGoroutine()
	func() {
		defer func() { _ = recover() }()
		_, _ = Scan(strings.NewReader(in), sources.ScanOptions{Workers: 2, Emit: func(sources.Event) { panic("stop") }})
		t.Fatal("Emit's panic did not stop the scan")
	}()
	// Polled, not timed: the goroutines end once they see quit.
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines before the scan, %d after it stopped", before, runtime.NumGoroutine())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
