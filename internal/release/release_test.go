package release

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// arches are the release targets and the ELF machine each must be.
var arches = []struct {
	goarch  string
	machine elf.Machine
	class   elf.Class
}{
	{"amd64", elf.EM_X86_64, elf.ELFCLASS64},
	{"arm64", elf.EM_AARCH64, elf.ELFCLASS64},
	{"386", elf.EM_386, elf.ELFCLASS32},
}

// TestReleaseIsStaticVerifiedAndReproducible runs scripts/release.sh twice
// into two directories and checks what a responder relies on: three static
// ELF binaries of the right architecture, a SHA256SUMS that sha256sum -c
// accepts, identical bytes from both runs, and a version stamp naming the
// commit. By default the second run reuses the Go build cache, which keeps
// the test cheap but only exercises the link (paths, build id, stamps); a
// compiler that produced different objects would be hidden by the cache.
// XFERHUNT_RELEASE_COLD=1 gives the second run an empty GOCACHE, a full
// rebuild from source (minutes on two cores).
func TestReleaseIsStaticVerifiedAndReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles three binaries twice")
	}
	root := moduleRoot(t)
	dirs := [2]string{t.TempDir(), t.TempDir()}
	var printed string
	for i, dir := range dirs {
		start := time.Now()
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "release.sh"), dir)
		if i == 1 && os.Getenv("XFERHUNT_RELEASE_COLD") == "1" {
			cmd.Env = append(os.Environ(), "GOCACHE="+t.TempDir())
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("release.sh %s: %v\n%s", dir, err, out)
		}
		t.Logf("build %d: %v\n%s", i+1, time.Since(start).Round(time.Millisecond), out)
		printed = string(out)
	}

	sums, err := os.ReadFile(filepath.Join(dirs[0], "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	verify := exec.Command("sha256sum", "--strict", "-c", "SHA256SUMS")
	verify.Dir = dirs[0]
	if out, err := verify.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
	for _, a := range arches {
		name := "xferhunt-linux-" + a.goarch
		first, err := os.ReadFile(filepath.Join(dirs[0], name))
		if err != nil {
			t.Fatal(err)
		}
		second, err := os.ReadFile(filepath.Join(dirs[1], name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Errorf("%s: two builds differ (%d and %d bytes)", name, len(first), len(second))
		}
		sum := sha256.Sum256(first)
		if line := hex.EncodeToString(sum[:]) + "  " + name + "\n"; !strings.Contains(string(sums), line) {
			t.Errorf("SHA256SUMS lacks %q:\n%s", line, sums)
		}
		if !strings.Contains(printed, name) || !strings.Contains(printed, strconv.Itoa(len(first))+" bytes") {
			t.Errorf("release.sh did not print %s's size %d:\n%s", name, len(first), printed)
		}
		checkStatic(t, filepath.Join(dirs[0], name), a.machine, a.class)
	}
	checkVersion(t, root, filepath.Join(dirs[0], "xferhunt-linux-"+runtime.GOARCH), "")
	if qemu, err := exec.LookPath("qemu-aarch64-static"); err == nil && runtime.GOARCH != "arm64" {
		checkVersion(t, root, filepath.Join(dirs[0], "xferhunt-linux-arm64"), qemu)
	} else {
		t.Log("qemu-aarch64-static not installed: the arm64 binary is checked as ELF only")
	}
}

// TestSHA256SUMSRejectsATamperedBinary makes sure the verification step the
// README tells a responder to run can fail: one flipped byte must be caught.
func TestSHA256SUMSRejectsATamperedBinary(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "xferhunt-linux-amd64")
	if err := os.WriteFile(bin, []byte("\x7fELF pretend binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sha256sum", "xferhunt-linux-amd64")
	cmd.Dir = dir
	sums, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), sums, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("\x7fELF pretend binarY"), 0o755); err != nil {
		t.Fatal(err)
	}
	verify := exec.Command("sha256sum", "-c", "SHA256SUMS")
	verify.Dir = dir
	if out, err := verify.CombinedOutput(); err == nil || !strings.Contains(string(out), "FAILED") {
		t.Fatalf("sha256sum -c accepted a changed binary: %v\n%s", err, out)
	}
}

// checkStatic asserts an executable ELF of the given machine with no
// program interpreter and no shared library: it runs on a host whatever its
// libc. file(1), when installed, must agree.
func checkStatic(t *testing.T, path string, machine elf.Machine, class elf.Class) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	if f.Machine != machine || f.Class != class || f.Type != elf.ET_EXEC {
		t.Errorf("%s: %v %v %v, want %v %v ET_EXEC", path, f.Machine, f.Class, f.Type, machine, class)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s: has %v: dynamically linked", path, p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s: needs %v", path, libs)
	}
	if f.Section(".symtab") != nil {
		t.Errorf("%s: not stripped (.symtab present)", path)
	}
	if fileCmd, err := exec.LookPath("file"); err == nil {
		out, err := exec.Command(fileCmd, "-b", path).Output()
		if err != nil {
			t.Fatal(err)
		}
		if s := string(out); !strings.HasPrefix(s, "ELF ") || !strings.Contains(s, "statically linked") {
			t.Errorf("file %s: %s", path, s)
		}
	}
}

// checkVersion runs `BIN version` (through qemu when given) and wants the
// commit release.sh stamped: the tree's HEAD.
func checkVersion(t *testing.T, root, bin, qemu string) {
	t.Helper()
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	argv := []string{bin, "version"}
	if qemu != "" {
		argv = append([]string{qemu}, argv...)
	}
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	if want := "(commit " + strings.TrimSpace(string(head)); !strings.Contains(string(out), want) {
		t.Errorf("%s printed %q, want it to contain %q", strings.Join(argv, " "), out, want)
	}
	t.Logf("%s: %s", strings.Join(argv, " "), bytes.TrimSpace(out))
}

// moduleRoot is the directory of go.mod, found from the package directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		t.Fatalf("go env GOMOD: %q, %v", out, err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}
