package tail

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type sink struct {
	mu    sync.Mutex
	lines []string
	hist  []bool
}

func (s *sink) line(b []byte, h bool) {
	s.mu.Lock()
	s.lines = append(s.lines, string(b))
	s.hist = append(s.hist, h)
	s.mu.Unlock()
}

func (s *sink) count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.lines) }

func (s *sink) snapshot() ([]string, []bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...), append([]bool(nil), s.hist...)
}

func waitFor(t *testing.T, cond func() bool, d time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func writeFile(t *testing.T, path string, lines ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, opt Options, s *sink) (*Tailer, func()) {
	t.Helper()
	tl, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tl.Run(ctx, s.line) }()
	select {
	case <-tl.Ready():
	case err := <-done:
		t.Fatalf("tailer stopped: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("tailer not ready")
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return tl, stop
}

func TestBackfillRotatedSiblingsOldestFirstWithinWindow(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	writeFile(t, log+".3", "ancient")
	writeFile(t, log+".2", "old-1", "old-2")
	writeFile(t, log+".1", "mid-1")
	writeFile(t, log, "new-1", "new-2")
	writeFile(t, log+".2.gz", "compressed, never read")
	writeFile(t, filepath.Join(dir, "other.log"), "not in the set")
	now := time.Now()
	for i, name := range []string{".3", ".2", ".1", ""} {
		mt := now.Add(time.Duration(i-4) * time.Hour)
		if err := os.Chtimes(log+name, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	s := &sink{}
	_, stop := run(t, Options{Path: log, Since: now.Add(-3*time.Hour - 30*time.Minute)}, s)
	lines, hist := s.snapshot()
	want := []string{"old-1", "old-2", "mid-1", "new-1", "new-2"}
	if strings.Join(lines, ",") != strings.Join(want, ",") {
		t.Fatalf("backfill = %q, want %q", lines, want)
	}
	for i, h := range hist {
		if !h {
			t.Errorf("backfilled line %d not historical", i)
		}
	}
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "live-1")
	f.Close()
	waitFor(t, func() bool { return s.count() == 6 }, 3*time.Second, "live line")
	stop()
	lines, hist = s.snapshot()
	if lines[5] != "live-1" || hist[5] {
		t.Fatalf("live line = %q historical=%v", lines[5], hist[5])
	}
}

// rotator writes numbered lines to path and rotates it in every way a log
// rotator does, while the tailer follows.
type rotator struct {
	t    *testing.T
	path string
	f    *os.File
	n    int
}

func (r *rotator) open() {
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		r.t.Fatal(err)
	}
	r.f = f
}

func (r *rotator) burst(k int) {
	var b strings.Builder
	for range k {
		fmt.Fprintf(&b, "line %06d %s\n", r.n, strings.Repeat("x", r.n%50))
		r.n++
	}
	if _, err := r.f.WriteString(b.String()); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rotator) shift() {
	for i := 4; i >= 1; i-- {
		_ = os.Rename(fmt.Sprintf("%s.%d", r.path, i), fmt.Sprintf("%s.%d", r.path, i+1))
	}
}

func (r *rotator) renameRotate() {
	r.f.Close()
	r.shift()
	if err := os.Rename(r.path, r.path+".1"); err != nil {
		r.t.Fatal(err)
	}
	r.open()
}

func (r *rotator) copyTruncate() {
	r.shift()
	src, err := os.Open(r.path)
	if err != nil {
		r.t.Fatal(err)
	}
	dst, err := os.Create(r.path + ".1")
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		r.t.Fatal(err)
	}
	src.Close()
	dst.Close()
	if err := r.f.Truncate(0); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rotator) deleteRecreate() {
	r.f.Close()
	if err := os.Remove(r.path); err != nil {
		r.t.Fatal(err)
	}
	r.open()
}

func TestEveryLineExactlyOnceAcrossRotations(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	exactlyOnce(t, path, Options{Path: path})
}

// Directory mode (auditbeat:DIR) follows Beats' rename rotation of
// auditbeat → auditbeat.1 … as well.
func TestDirectoryExactlyOnceAcrossRotations(t *testing.T) {
	dir := t.TempDir()
	exactlyOnce(t, filepath.Join(dir, "auditbeat"), Options{Path: dir})
}

func exactlyOnce(t *testing.T, path string, opt Options) {
	r := &rotator{t: t, path: path}
	r.open()
	r.burst(100)
	s := &sink{}
	tl, stop := run(t, opt, s)
	waitFor(t, func() bool { return s.count() == 100 }, 3*time.Second, "initial lines")
	steps := []func(){r.renameRotate, r.copyTruncate, r.deleteRecreate}
	for round := range 12 {
		r.burst(400)
		// The burst after each rotation races the tailer; two rotations do
		// not happen within one look (real rotators run when a size or age
		// is reached, and a file created and deleted between two looks
		// cannot be seen by any tailer).
		n := r.n
		waitFor(t, func() bool { return s.count() >= n }, 3*time.Second, "lines before rotation")
		steps[round%3]()
		r.burst(50)
	}
	r.f.Close()
	waitFor(t, func() bool { return s.count() >= r.n }, 5*time.Second, fmt.Sprintf("%d lines", r.n))
	time.Sleep(300 * time.Millisecond) // let duplicates, if any, arrive
	stop()
	lines, _ := s.snapshot()
	seen := map[string]int{}
	for _, l := range lines {
		seen[l]++
	}
	for i := range r.n {
		l := fmt.Sprintf("line %06d %s", i, strings.Repeat("x", i%50))
		if seen[l] != 1 {
			t.Errorf("%q delivered %d times", l, seen[l])
		}
	}
	if len(lines) != r.n {
		t.Errorf("delivered %d lines, wrote %d", len(lines), r.n)
	}
	if st := tl.Stats(); st.Lines != uint64(r.n) || !st.Live {
		t.Errorf("stats %+v", st)
	}
}

func TestDirectoryModeAndOversize(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "auditbeat-20260101.ndjson"), `{"a":1}`)
	writeFile(t, filepath.Join(dir, "notes.txt"), "ignored")
	s := &sink{}
	tl, stop := run(t, Options{Path: dir, MaxLine: 64}, s)
	writeFile(t, filepath.Join(dir, "auditbeat-20260102.ndjson"), `{"a":2}`, strings.Repeat("y", 100), `{"a":3}`)
	waitFor(t, func() bool { return s.count() == 3 }, 3*time.Second, "new file's lines")
	stop()
	lines, hist := s.snapshot()
	if strings.Join(lines, " ") != `{"a":1} {"a":2} {"a":3}` || !hist[0] || hist[1] {
		t.Fatalf("lines %q hist %v", lines, hist)
	}
	if tl.Stats().Oversize != 1 {
		t.Errorf("oversize = %d, want 1", tl.Stats().Oversize)
	}
}

func TestPartialLineWaitsForNewline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	writeFile(t, path, "first")
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	defer f.Close()
	s := &sink{}
	run(t, Options{Path: path}, s)
	f.WriteString("half")
	time.Sleep(100 * time.Millisecond)
	if s.count() != 1 {
		t.Fatalf("a partial line was delivered: %d lines", s.count())
	}
	f.WriteString(" done\n")
	waitFor(t, func() bool { return s.count() == 2 }, 3*time.Second, "completed line")
	if lines, _ := s.snapshot(); lines[1] != "half done" {
		t.Fatalf("got %q", lines[1])
	}
}

func TestNewMissingPath(t *testing.T) {
	if _, err := New(Options{Path: filepath.Join(t.TempDir(), "nope")}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("err = %v, want one naming the path", err)
	}
}

func BenchmarkTailThroughput(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "audit.log")
	line := `type=SYSCALL msg=audit(1795661111.044:3375): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55be209674e0 a2=41 a3=1a4 items=2 ppid=7845 pid=7846 auid=1001 uid=1001 comm="sftp-server" exe="/usr/lib/openssh/sftp-server" key="xferhunt"` + "\n"
	const perOp = 10000
	content := strings.Repeat(line, perOp)
	for b.Loop() {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			b.Fatal(err)
		}
		tl, err := New(Options{Path: path})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := tl.Run(ctx, func([]byte, bool) { n++ }); err != nil {
			b.Fatal(err)
		}
		if n != perOp {
			b.Fatalf("read %d lines", n)
		}
	}
	b.ReportMetric(float64(perOp*b.N)/b.Elapsed().Seconds(), "lines/s")
	b.SetBytes(int64(len(content)))
}

// TestUnfinishedLastLineAtStop: a last line without its newline is not a
// line while the file may still grow, but at shutdown it is read as it is,
// as scan reads it (before, it was lost).
func TestUnfinishedLastLineAtStop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, []byte("first\nlast without newline"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &sink{}
	tl, stop := run(t, Options{Path: path}, s)
	if lines, _ := s.snapshot(); strings.Join(lines, "|") != "first" {
		t.Fatalf("before stop: %q, want only the finished line", lines)
	}
	stop()
	if lines, _ := s.snapshot(); strings.Join(lines, "|") != "first|last without newline" {
		t.Fatalf("after stop: %q", lines)
	}
	if st := tl.Stats(); st.Lines != 2 || st.Cut != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestTruncationCutsUnfinishedLine: a file truncated (no copy) while its
// last line is unfinished loses that line's end; what is left is not
// parsed but counted.
func TestTruncationCutsUnfinishedLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, []byte("a\nhalf of b"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &sink{}
	tl, stop := run(t, Options{Path: path}, s)
	if err := os.WriteFile(path, []byte("c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return s.count() == 2 }, 3*time.Second, "the line after the truncation")
	stop()
	if lines, _ := s.snapshot(); strings.Join(lines, "|") != "a|c" {
		t.Fatalf("lines %q, want a|c", lines)
	}
	if st := tl.Stats(); st.Cut != 1 {
		t.Fatalf("cut %d, want the unfinished line counted", st.Cut)
	}
}
