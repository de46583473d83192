package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBuildShiftsCopies(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.log")
	src := "type=SYSCALL msg=audit(100.005:7): a=1\ntype=PATH msg=audit(100.005:7): b=2\ntype=EOE msg=audit(102.010:9): \nno stamp here\n"
	if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.log")
	n, err := build(in, out, 5)
	if err != nil {
		t.Fatal(err)
	}
	if n != 8 {
		t.Fatalf("wrote %d lines, want 8 (two whole copies)", n)
	}
	got, _ := os.ReadFile(out)
	want := src + "type=SYSCALL msg=audit(103.005:10): a=1\ntype=PATH msg=audit(103.005:10): b=2\ntype=EOE msg=audit(105.010:12): \nno stamp here\n"
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if _, err := build(filepath.Join(dir, "missing"), out, 1); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing input: err = %v", err)
	}
}

// TestBuildMixed interleaves a capture with the samples' auditd logs: every
// source's lines are there in their own order, the stamps rise over the
// span, and records of one event keep one stamp.
func TestBuildMixed(t *testing.T) {
	dir := t.TempDir()
	capture := filepath.Join(dir, "capture.log")
	os.WriteFile(capture, []byte("type=SYSCALL msg=audit(1000.000:1): c=1\ntype=PATH msg=audit(1000.000:1): c=2\ntype=SYSCALL msg=audit(1001.000:2): c=3\n"), 0o644)
	for _, sub := range []string{"auditd-raw/a", "auditd-enriched/b"} {
		if err := os.MkdirAll(filepath.Join(dir, "samples", sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "samples/auditd-raw/a/x.log"), []byte("type=USER_LOGIN msg=audit(5.5:9): r=1\ntype=USER_END msg=audit(6.5:10): r=2"), 0o644)
	os.WriteFile(filepath.Join(dir, "samples/auditd-enriched/b/y.txt"), []byte("type=EXECVE msg=audit(7.1:3): e=1\x1dARCH=x86_64\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "samples/auditd-raw/a/skip.yaml"), []byte("type=BAD msg=audit(1.1:1): y=1\n"), 0o644)
	out := filepath.Join(dir, "mixed.log")
	n, err := buildMixed(capture, filepath.Join(dir, "samples"), out, 10, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if n != 12 {
		t.Fatalf("wrote %d lines, want 12 (two rounds of 6)", n)
	}
	data, _ := os.ReadFile(out)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	var prevMs, prevSer int64 = -1, 0
	stampOf := map[string]string{}
	var order []string
	for _, l := range lines {
		st := parse([]byte(l))
		if !st.hasStamp {
			t.Fatalf("line without stamp: %q", l)
		}
		ms := st.sec*1000 + st.milli
		if ms < prevMs || st.serial < prevSer {
			t.Errorf("stamps go back at %q", l)
		}
		if ms < 1000_000 || ms > 1000_000+time.Hour.Milliseconds() {
			t.Errorf("%q is outside the hour from the capture's first second", l)
		}
		prevMs, prevSer = ms, st.serial
		body := l[strings.Index(l, "): ")+3:]
		if body == "c=2" && stampOf["c=1"] != l[st.start:st.end] {
			t.Errorf("the capture's event lost its one stamp: %q vs %q", stampOf["c=1"], l[st.start:st.end])
		}
		stampOf[body] = l[st.start:st.end]
		order = append(order, body)
		if strings.Contains(l, "y=1") {
			t.Errorf("a YAML fixture was mixed in: %q", l)
		}
	}
	got := strings.Join(order[:6], " ")
	for _, want := range []string{"c=1 c=2", "r=1", "r=2", "e=1\x1dARCH=x86_64"} {
		if !strings.Contains(got, want) {
			t.Errorf("round 1 %q lacks %q", got, want)
		}
	}
	if strings.Index(got, "r=1") > strings.Index(got, "r=2") || strings.Index(got, "c=2") > strings.Index(got, "c=3") {
		t.Errorf("a source's order changed: %q", got)
	}
}
