package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// resultRE is the line every workload prints.
var resultRE = regexp.MustCompile(`^workload=(\w+) n=(\d+) seconds=\d+\.\d{6}\n$`)

// checkLine runs the subcommand args and checks its result line names the
// workload and the count of work done.
func checkLine(t *testing.T, want string, args ...string) {
	t.Helper()
	var out bytes.Buffer
	if err := run(args, &out); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	m := resultRE.FindStringSubmatch(out.String())
	if m == nil || m[1] != args[0] || m[2] != want {
		t.Fatalf("%v printed %q, want workload=%s n=%s seconds=…", args, out.String(), args[0], want)
	}
}

func TestCreate(t *testing.T) {
	dir := t.TempDir()
	n, err := createFiles(dir, 50)
	if err != nil || n != 50 {
		t.Fatalf("createFiles = %d, %v", n, err)
	}
	for _, i := range []int{0, 49} {
		if st, err := os.Stat(fileName(dir, i)); err != nil || !st.Mode().IsRegular() {
			t.Fatalf("file %d: %v", i, err)
		}
	}
	if _, err := createFiles(dir, 1); err == nil {
		t.Fatal("createFiles over an existing file succeeded; want O_EXCL failure")
	}
	if err := removeFiles(dir, 50); err != nil {
		t.Fatal(err)
	}
	checkLine(t, "50", "create", "-n", "50", "-dir", dir)
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("create left %d files behind", len(left))
	}
}

func TestExec(t *testing.T) {
	if n, err := execLoop("/bin/true", 5); err != nil || n != 5 {
		t.Fatalf("execLoop = %d, %v", n, err)
	}
	if _, err := execLoop("/bin/false", 1); err == nil {
		t.Fatal("execLoop(/bin/false) succeeded")
	}
	checkLine(t, "5", "exec", "-n", "5")
}

func TestConnect(t *testing.T) {
	n, _, err := connectLoop(30)
	if err != nil || n != 30 {
		t.Fatalf("connectLoop accepted %d, %v", n, err)
	}
	checkLine(t, "30", "connect", "-n", "30")
}

func TestMixed(t *testing.T) {
	for _, b := range []string{"tar", "git", "sh", "seq", "sort", "uniq", "wc"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed", b)
		}
	}
	src := filepath.Join(t.TempDir(), "src")
	for i, name := range []string{"a.go", "sub/b.go", "sub/deeper/c.go"} {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte{byte('a' + i)}, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	if _, _, err := mixedJob(dir, 1); err == nil {
		t.Fatal("mixedJob before prepare succeeded")
	}
	if err := run([]string{"prepare", "-dir", dir, "-src", src}, os.Stdout); err != nil {
		t.Fatal(err)
	}
	res, _, err := mixedJob(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := (mixedResult{Extracted: 3, Cloned: 200, Pipelines: 3}); res != want {
		t.Fatalf("mixedJob did %+v, want %+v", res, want)
	}
	checkLine(t, "2", "mixed", "-dir", dir, "-pipelines", "2")
	if left, _ := filepath.Glob(filepath.Join(dir, "run-*")); len(left) != 0 {
		t.Fatalf("mixed left %v behind", left)
	}
}

func TestMkdir(t *testing.T) {
	dir := t.TempDir()
	n, err := makeDirs(dir, 20)
	if err != nil || n != 20 {
		t.Fatalf("makeDirs = %d, %v", n, err)
	}
	if st, err := os.Stat(fileName(dir, 19)); err != nil || !st.IsDir() {
		t.Fatalf("dir 19: %v", err)
	}
	if err := removeDirs(dir, 20); err != nil {
		t.Fatal(err)
	}
	checkLine(t, "7", "mkdir", "-n", "7", "-dir", filepath.Join(t.TempDir(), "d"))
}
