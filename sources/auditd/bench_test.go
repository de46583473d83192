package auditd

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/sources"
)

// syntheticLog repeats the real capture with serials and seconds shifted
// per copy, so every copy is new events, as a long-running host's log is.
func syntheticLog(tb testing.TB, name string, copies int) ([]byte, int) {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "capture", name))
	if err != nil {
		tb.Skipf("no capture: %v", err)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	var out bytes.Buffer
	n := 0
	for c := range copies {
		for _, l := range lines {
			h, ok := parseHeader(l)
			if !ok {
				out.Write(l)
				out.WriteByte('\n')
				n++
				continue
			}
			i := bytes.Index(l, []byte("msg=audit("))
			j := bytes.IndexByte(l[i:], ')') + i
			out.Write(l[:i+len("msg=audit(")])
			out.WriteString(strconv.FormatInt(h.sec+int64(c)*100, 10))
			out.WriteByte('.')
			out.WriteString(strconv.FormatInt(1000+h.msec, 10)[1:])
			out.WriteByte(':')
			out.WriteString(strconv.FormatUint(h.serial+uint64(c)*100000, 10))
			out.Write(l[j:])
			out.WriteByte('\n')
			n++
		}
	}
	return out.Bytes(), n
}

func benchScan(b *testing.B, name string, workers int) { benchScanOpt(b, name, workers, false) }

func benchScanOpt(b *testing.B, name string, workers int, story bool) {
	data, _ := syntheticLog(b, name, 200)
	benchScanData(b, data, workers, story)
}

func benchScanData(b *testing.B, data []byte, workers int, story bool) {
	n := bytes.Count(data, []byte("\n"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	var events uint64
	for b.Loop() {
		st, err := Scan(bytes.NewReader(data), Options{HostID: "h", Workers: workers, Story: story, Emit: func(sources.Event) {}})
		if err != nil || st.Lines != uint64(n) {
			b.Fatalf("%v %+v", err, st)
		}
		events = st.Events + st.Context
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	// The machine is shared: CPU time says what the scan costs whatever
	// else runs (all goroutines, GC included).
	b.ReportMetric(float64(n)*float64(b.N)/(cpuTime()-cpu0).Seconds(), "lines/cpu-s")
	b.ReportMetric(float64(events), "events/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScan parses 200 copies of the real RAW capture (146k lines).
func BenchmarkScan(b *testing.B) {
	b.Run("raw/workers=1", func(b *testing.B) { benchScan(b, "raw.log", 1) })
	b.Run("raw/workers=2", func(b *testing.B) { benchScan(b, "raw.log", 2) })
	b.Run("enriched/workers=2", func(b *testing.B) { benchScan(b, "enriched.log", 2) })
	// A live run's parser also builds the stories' context events.
	b.Run("raw/workers=1/story", func(b *testing.B) { benchScanOpt(b, "raw.log", 1, true) })
	// A busy host's noise: ten copies of the public samples (230k lines),
	// mostly records no rule reads (skipped without the shared folder).
	b.Run("samples/workers=1", func(b *testing.B) { benchScanData(b, bytes.Repeat(samplesLog(b), 10), 1, false) })
	b.Run("samples/workers=2", func(b *testing.B) { benchScanData(b, bytes.Repeat(samplesLog(b), 10), 2, false) })
}

// BenchmarkParseCore measures the parsing of a Scan without its document
// builder, on one goroutine: lines split, records grouped, attribution
// planned, documents not built. (A pipelined Scan splits lines and parses
// headers and SYSCALL bodies on a goroutine of its own.)
func BenchmarkParseCore(b *testing.B) {
	data, n := syntheticLog(b, "raw.log", 200)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		p := NewParser(Options{HostID: "h"})
		p.out = func(*fileEvent) {}
		if err := readLines(bytes.NewReader(data), p); err != nil {
			b.Fatal(err)
		}
		p.Flush()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(n)*float64(b.N)/(cpuTime()-cpu0).Seconds(), "lines/cpu-s")
}

// TestSyntheticStable: the benchmark's log yields the same events per copy,
// so the benchmark measures real work.
func TestSyntheticStable(t *testing.T) {
	one, _ := syntheticLog(t, "raw.log", 1)
	three, _ := syntheticLog(t, "raw.log", 3)
	s1, _ := Scan(bytes.NewReader(one), Options{Workers: 1})
	s3, _ := Scan(bytes.NewReader(three), Options{Workers: 1})
	if s1.Events == 0 || s3.Events != 3*s1.Events || s3.Malformed != 0 {
		t.Errorf("1 copy %+v, 3 copies %+v", s1, s3)
	}
}

// BenchmarkSpecEvent is the cost of one SPEC §3 event, document included,
// on the line-by-line path (live sources). Each op uses a new parser: fed
// again, the same serials would be late records of a finished event.
func BenchmarkSpecEvent(b *testing.B) {
	lines := strings.Split(specExample, "\n")
	events := 0
	b.ReportAllocs()
	for b.Loop() {
		p := NewParser(Options{HostID: "h", Emit: func(sources.Event) { events++ }})
		for _, l := range lines {
			p.Line([]byte(l))
		}
		p.Flush()
	}
	if events != b.N {
		b.Fatalf("%d events in %d ops", events, b.N)
	}
}

// BenchmarkDoc is the document builder alone (the second goroutine of a
// two-worker Scan, without the consumer): the planned events of one copy
// of the real capture, built per op.
func BenchmarkDoc(b *testing.B) {
	data, _ := syntheticLog(b, "raw.log", 1)
	var fes []*fileEvent
	p := NewParser(Options{HostID: "h", HostName: "n"})
	p.out = func(fe *fileEvent) { fes = append(fes, fe) }
	if err := readLines(bytes.NewReader(data), p); err != nil {
		b.Fatal(err)
	}
	p.Flush()
	bx := newBoxes()
	bx.obj = newObjects()
	b.ReportAllocs()
	for b.Loop() {
		for _, fe := range fes {
			_ = fe.doc(bx)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(fes)), "ns/doc")
}

// captureRecords returns the real capture's lines and their SYSCALL bodies.
func captureRecords(tb testing.TB) (lines, syscalls [][]byte) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "capture", "raw.log"))
	if err != nil {
		tb.Skipf("no capture: %v", err)
	}
	lines = bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	for _, l := range lines {
		if h, ok := parseHeader(l); ok && string(h.typ) == "SYSCALL" {
			syscalls = append(syscalls, h.body)
		}
	}
	return lines, syscalls
}

// BenchmarkSyscallParse is the cost of reading one SYSCALL body, which the
// reading goroutine pays for every SYSCALL record of the log.
func BenchmarkSyscallParse(b *testing.B) {
	_, bodies := captureRecords(b)
	var s sysRec
	cpu0 := cpuTime()
	for b.Loop() {
		for _, body := range bodies {
			s.parse(body, false)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bodies)), "ns/record")
	// CPU time: what the parse costs whatever else runs on the machine.
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*len(bodies)), "cpu-ns/record")
}

// BenchmarkHeader is the cost of splitting one line's header, paid for
// every line.
func BenchmarkHeader(b *testing.B) {
	lines, _ := captureRecords(b)
	cpu0 := cpuTime()
	for b.Loop() {
		for _, l := range lines {
			h, _ := parseHeader(l)
			_ = kindOf(h.typ)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/line")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*len(lines)), "cpu-ns/line")
}

// BenchmarkScanSparse is BenchmarkScan's two-worker RAW case with the
// consumer of `scan` (sources.Sparse): every event's document sparse, as
// for the events no query matches (most of a real log's).
func BenchmarkScanSparse(b *testing.B) {
	data, _ := syntheticLog(b, "raw.log", 200)
	sp := &sources.Sparse{Fields: []string{"@timestamp", "event.ingested", "event.category", "host.os.type", "event.action", "process.name", "file.path"}, Whole: func(ecs.Doc) bool { return false }}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Scan(bytes.NewReader(data), Options{HostID: "h", Workers: 2, Sparse: sp, Emit: func(sources.Event) {}}); err != nil {
			b.Fatal(err)
		}
	}
}
