package auditd

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unsafe"

	"github.com/xferhunt/xferhunt/internal/sharedtest"
	"github.com/xferhunt/xferhunt/sources"
)

// TestScanChunks: the pipelined Scan cuts its input into chunks whatever
// the reads return; lines that straddle chunks, events whose records span
// chunks (their borrowed lines must be copied before the chunk is reused),
// lines longer than a chunk, CRLF, blank and foreign lines and a last line
// without a newline must give exactly what feeding the lines one by one
// gives.
func TestScanChunks(t *testing.T) {
	data, _ := syntheticLog(t, "raw.log", 12)
	long := "type=USER_CMD msg=audit(1795662795.100:1): pid=1 uid=0 cmd=" + strings.Repeat("41", chunkSize) + "\n"
	half := bytes.IndexByte(data[len(data)/2:], '\n') + len(data)/2 + 1
	var in bytes.Buffer
	in.Write(data[:half])
	in.WriteString("\n\ngarbage line\r\n")
	in.WriteString(long)
	in.Write(bytes.ReplaceAll(data[half:], []byte("\n"), []byte("\r\n")))
	in.WriteString("type=EOE msg=audit(1795663200.000:99999999):") // no newline

	var want []sources.Event
	p := NewParser(Options{HostID: "h", Emit: func(ev sources.Event) { want = append(want, ev) }})
	for _, l := range bytes.Split(in.Bytes(), []byte("\n")) {
		p.Line(l)
	}
	p.Flush()
	wantSt := p.Stats()
	if wantSt.Events == 0 || wantSt.Malformed != 1 {
		t.Fatalf("reference stats %+v", wantSt)
	}
	for name, r := range map[string]io.Reader{
		"whole":   bytes.NewReader(in.Bytes()),
		"halves":  iotest.HalfReader(bytes.NewReader(in.Bytes())),
		"onebyte": iotest.OneByteReader(bytes.NewReader(in.Bytes())),
	} {
		var got []sources.Event
		st, err := Scan(r, Options{HostID: "h", Workers: 2, Emit: func(ev sources.Event) { got = append(got, ev) }})
		if err != nil || st != wantSt {
			t.Errorf("%s: %v, stats %+v, want %+v", name, err, st, wantSt)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %d events differ from line by line (%d)", name, len(got), len(want))
		}
	}
}

// TestScanReadError: a read error ends the scan with that error, after the
// lines read before it.
func TestScanReadError(t *testing.T) {
	data, _ := syntheticLog(t, "raw.log", 1)
	r := iotest.TimeoutReader(iotest.HalfReader(bytes.NewReader(data)))
	st, err := Scan(r, Options{HostID: "h", Workers: 2})
	if err == nil || st.Lines == 0 {
		t.Errorf("err %v, stats %+v", err, st)
	}
}

// TestInterner: decoded values come back equal to decodeStr's, the same
// value twice is one string, and the table stays bounded.
func TestInterner(t *testing.T) {
	var in interner
	for _, v := range []string{`"/home/u"`, `2F746D702F6120622063`, `(null)`, `?`, `(none)`, ``, `"trunc`, `1001`, `'x'`} {
		if got, want := in.str([]byte(v)), decodeStr([]byte(v)); got != want {
			t.Errorf("str(%s) = %q, want %q", v, got, want)
		}
	}
	a, b := in.str([]byte(`"/srv/ftp"`)), in.str([]byte(`"/srv/ftp"`))
	if unsafe.StringData(a) != unsafe.StringData(b) {
		t.Error("the same value was not interned")
	}
	for i := range 2 * internMax {
		in.str([]byte(strconv.Itoa(i)))
	}
	if len(in.m) > internMax {
		t.Errorf("interner holds %d values, bound %d", len(in.m), internMax)
	}
	long := strings.Repeat("x", 100<<10)
	for i := range 50 {
		in.str([]byte(long + strconv.Itoa(i)))
		held := 0
		for v := range in.m {
			held += len(v)
		}
		if held > internBytes || held != in.bytes {
			t.Fatalf("after %d long values the interner holds %d bytes (counted %d), bound %d", i+1, held, in.bytes, internBytes)
		}
	}
}

// TestArgLists: equal argument lists share one slice; lists that only
// concatenate alike stay apart.
func TestArgLists(t *testing.T) {
	var al argLists
	a := al.canonical([]string{"scp", "-t", "/tmp"})
	b := al.canonical([]string{"scp", "-t", "/tmp"})
	if &a[0] != &b[0] {
		t.Error("equal lists were not shared")
	}
	x := al.canonical([]string{"ab", "c"})
	y := al.canonical([]string{"a", "bc"})
	if !reflect.DeepEqual(x, []string{"ab", "c"}) || !reflect.DeepEqual(y, []string{"a", "bc"}) {
		t.Errorf("lists mixed up: %q %q", x, y)
	}
	if al.canonical(nil) != nil {
		t.Error("an empty list must stay nil")
	}
}

// TestScanBorrowedLines: an event whose first records are followed by
// megabytes of other records before its last ones keeps its early lines
// although the chunks they were read into are reused meanwhile.
func TestScanBorrowedLines(t *testing.T) {
	lines := strings.Split(specExample, "\n")
	var in strings.Builder
	for _, l := range lines[:3] { // USER_START, SYSCALL, CWD
		in.WriteString(l + "\n")
	}
	for i := range 4 * (maxSplitters + spareChunks) * chunkSize / 100 {
		// Same second as the event, so that it does not expire; each
		// line overwrites what a reused chunk held.
		fmt.Fprintf(&in, "type=CRED_DISP msg=audit(1795661111.050:%d): pid=%d uid=0 auid=0 ses=9 msg='op=x res=success'\n", 900000+i, i)
	}
	for _, l := range lines[3:] {
		in.WriteString(l + "\n")
	}
	var want []sources.Event
	p := NewParser(Options{HostID: "host1", HostName: "srv", Emit: func(ev sources.Event) { want = append(want, ev) }})
	for _, l := range strings.Split(in.String(), "\n") {
		p.Line([]byte(l))
	}
	p.Flush()
	var got []sources.Event
	if _, err := Scan(strings.NewReader(in.String()), Options{HostID: "host1", HostName: "srv", Workers: 2,
		Emit: func(ev sources.Event) { got = append(got, ev) }}); err != nil {
		t.Fatal(err)
	}
	if len(want) != 1 || want[0].Doc.Str("process.working_directory") != "/home/victim" {
		t.Fatalf("reference: %d events", len(want))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Scan differs from line by line:\n%v\n%v", got, want)
	}
}

// TestUserFields: the one-pass reader of user-space records finds what
// field finds, key by key, on the real capture, the shared samples when
// present, and records built to trip it (keys inside quotes, prefixes of
// other keys, empty and unterminated values, repeated keys).
func TestUserFields(t *testing.T) {
	bodies := []string{
		`pid=1 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:accounting acct="root" exe="/usr/sbin/sshd" hostname=10.0.0.1 addr=10.0.0.1 terminal=ssh res=success'`,
		`msg='op=login acct=root addr=? res=failed' pid=2 ses=3`,
		`xpid=9 pid=10 acct="a b exe=/fake" exe=/real hostname= addr='1.2.3.4 terminal="pts/1`,
		`acct=first acct=second addrx=1 addr=2 sess=1 ses=5 terminals=x terminal=y res=`,
		`pid`, ``, `res=1`, `'pid=4'`, `a`, `addr`,
	}
	files, _ := filepath.Glob(sharedtest.Dir + "/samples/auditd-*/real-hosts/*.log")
	files = append(files, filepath.Join("..", "..", "testdata", "capture", "raw.log"), filepath.Join("..", "..", "testdata", "capture", "enriched.log"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(data), "\n") {
			if h, ok := parseHeader([]byte(l)); ok && kindOf(h.typ) >= rkUserStart {
				bodies = append(bodies, string(h.body))
			}
		}
	}
	if len(bodies) < 20 {
		t.Fatalf("only %d records to compare", len(bodies))
	}
	for _, b := range bodies {
		var u userRec
		userFields([]byte(b), &u)
		for key, got := range map[string][]byte{"res": u.res, "pid": u.pid, "acct": u.acct, "addr": u.addr,
			"hostname": u.hostname, "terminal": u.terminal, "exe": u.exe, "ses": u.ses} {
			if want := field([]byte(b), key); !bytes.Equal(got, want) || (got == nil) != (want == nil) {
				t.Errorf("%s in %q: %q, field gives %q", key, b, got, want)
			}
		}
	}
}

// TestStamp: the hand-written timestamp equals time.Format's RFC3339Nano.
func TestStamp(t *testing.T) {
	for _, c := range [][2]int64{{1795661111, 44}, {1795661111, 0}, {1795661111, 100}, {1795661111, 120}, {1795661111, 999},
		{0, 1}, {-1, 5}, {253402300799, 999}, {253402300800, 0}, {-62135596800, 10}, {-62135596801, 0}, {951782400, 7}} {
		want := time.Unix(c[0], c[1]*int64(time.Millisecond)).UTC().Format(time.RFC3339Nano)
		if got := stamp(c[0], c[1]); got != want {
			t.Errorf("stamp(%d, %d) = %s, want %s", c[0], c[1], got, want)
		}
	}
	for sec := int64(1700000000); sec < 1700000000+400*86400; sec += 86400/7 + 13 {
		for _, ms := range []int64{0, 1, 10, 11, 500, 999} {
			if got, want := stamp(sec, ms), time.Unix(sec, ms*1e6).UTC().Format(time.RFC3339Nano); got != want {
				t.Fatalf("stamp(%d, %d) = %s, want %s", sec, ms, got, want)
			}
		}
	}
}

// TestScanSamples: the pipelined Scan, whose splitters parse headers,
// SYSCALL bodies and user-space fields ahead and pass over what the
// grouper would ignore (the ENRICHED part of clock-only records, failed
// user-space records, USER_END without stories), gives exactly what
// feeding the lines one by one gives, on every public auditd text sample
// (RAW and ENRICHED, many distributions, node= logs) after the real
// capture, with and without stories, for any number of splitters.
func TestScanSamples(t *testing.T) {
	in := samplesLog(t)
	for _, story := range []bool{false, true} {
		var want []sources.Event
		p := NewParser(Options{HostID: "h", Story: story, Emit: func(ev sources.Event) { want = append(want, ev) }})
		for _, l := range bytes.Split(bytes.TrimSuffix(in, []byte("\n")), []byte("\n")) {
			p.Line(l)
		}
		p.Flush()
		wantSt := p.Stats()
		if wantSt.Events == 0 || wantSt.Records < 10000 {
			t.Fatalf("reference stats %+v", wantSt)
		}
		for _, workers := range []int{2, 3, 8} {
			var got []sources.Event
			st, err := Scan(bytes.NewReader(in), Options{HostID: "h", Story: story, Workers: workers,
				Emit: func(ev sources.Event) { got = append(got, ev) }})
			if err != nil || st != wantSt {
				t.Errorf("story=%v workers=%d: %v, stats %+v, want %+v", story, workers, err, st, wantSt)
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("story=%v workers=%d: %d events differ from line by line (%d)", story, workers, len(got), len(want))
			}
		}
	}
}

// samplesLog is the real capture followed by every public auditd text
// sample of the shared folder (RAW and ENRICHED, many distributions and
// real hosts: mostly records no rule reads); it skips without them.
func samplesLog(tb testing.TB) []byte {
	tb.Helper()
	var in bytes.Buffer
	files := []string{filepath.Join("..", "..", "testdata", "capture", "raw.log")}
	for _, sub := range []string{"auditd-raw", "auditd-enriched"} {
		filepath.WalkDir(sharedtest.Path("samples", sub), func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && (strings.HasSuffix(p, ".log") || strings.HasSuffix(p, ".txt")) {
				files = append(files, p)
			}
			return nil
		})
	}
	if len(files) < 10 {
		tb.Skip("shared samples absent")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		in.Write(data)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			in.WriteByte('\n')
		}
	}
	return in.Bytes()
}

// TestScanClockRuns: the splitters fold lines that only count or move the
// clock (blank, malformed, records of no kind the grouper reads) into one
// run, which expires open events at its newest second. An event without
// EOE must end when a record of the run moves the clock past its grace,
// even if a later record of the run steps back: its late PATH is then a
// gap, not part of it. Counts and events equal the line-by-line reading.
func TestScanClockRuns(t *testing.T) {
	ex := strings.Split(specExample, "\n") // USER_START, SYSCALL, CWD, PATH, PATH (CREATE), PROCTITLE
	lines := append(ex[:4:4],
		"", "garbage", "type=CONFIG_CHANGE msg=audit(1795661114.000:3400): op=x res=1", "\r",
		"type=CRED_DISP msg=audit(1795661111.100:3401): pid=1 uid=0 res=failed",
		"node=other type=CONFIG_CHANGE msg=audit(1795661111.000:1): op=x res=1",
		"type=CONFIG_CHANGE msg=audit(1795661111.200:3402): op=x res=1",
		ex[4], ex[5])
	in := strings.Join(lines, "\n") + "\n"
	var want []sources.Event
	p := NewParser(Options{HostID: "h", Emit: func(ev sources.Event) { want = append(want, ev) }})
	for _, l := range lines {
		p.Line([]byte(l))
	}
	p.Flush()
	wantSt := p.Stats()
	if len(want) != 0 || wantSt.Gaps != 2 || wantSt.Malformed != 1 || wantSt.Lines != uint64(len(lines)) || wantSt.Records != uint64(len(lines)-3) {
		t.Fatalf("reference: %d events, stats %+v", len(want), wantSt)
	}
	for _, workers := range []int{2, 3} {
		var got []sources.Event
		st, err := Scan(strings.NewReader(in), Options{HostID: "h", Workers: workers, Emit: func(ev sources.Event) { got = append(got, ev) }})
		if err != nil || st != wantSt || !reflect.DeepEqual(got, want) {
			t.Errorf("workers=%d: %v, %d events, stats %+v, want %+v", workers, err, len(got), st, wantSt)
		}
	}
}

// TestScanGroupingNeverStalls: the workers group blocks in turn without a
// grouping goroutine (grouping.group); a block left done and ungrouped
// holds back every block after it, and once every block is done the reader
// waits for a free one for ever. Hundreds of scans of a few dozen blocks,
// with more workers and threads than cores so that they interleave every
// which way, must each finish, and alike. (A worker that never groups
// stalls the first scan; the narrow race that group's second look closes
// is argued in its comment, seldom hit here.)
func TestScanGroupingNeverStalls(t *testing.T) {
	data, n := syntheticLog(t, "raw.log", 40)
	if blocks := len(data) / chunkSize; blocks < 20 {
		t.Fatalf("only %d blocks: the log must span many", blocks)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	want, err := Scan(bytes.NewReader(data), Options{HostID: "h", Workers: 1})
	if err != nil || want.Lines != uint64(n) || want.Events == 0 {
		t.Fatalf("one worker: %v, %+v", err, want)
	}
	done := make(chan error, 1)
	go func() {
		for i := range 300 {
			workers := 2 + i%3 // 2, 3, 4
			got, err := Scan(bytes.NewReader(data), Options{HostID: "h", Workers: workers})
			if err != nil || got != want {
				done <- fmt.Errorf("run %d, %d workers: %v, %+v, want %+v", i, workers, err, got, want)
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("a scan stalled: a done block was never grouped")
	}
}
