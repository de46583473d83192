package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
