package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// nobody is the uid an attacker's files are given: the tests run as root
// and plant what an unprivileged local user could.
const nobody = 65534

// bothResolvers runs fn with openat2 and again with the O_NOFOLLOW walk
// that older kernels get, so the fallback is exercised on this kernel too.
func bothResolvers(t *testing.T, fn func(t *testing.T)) {
	t.Run("openat2", func(t *testing.T) {
		noOpenat2.Store(false)
		fn(t)
	})
	t.Run("walk", func(t *testing.T) {
		noOpenat2.Store(true)
		t.Cleanup(func() { noOpenat2.Store(false) })
		fn(t)
	})
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("plants files owned by another uid: needs root")
	}
}

// victim is a root-only file an attack tries to overwrite or read.
func victim(t *testing.T) (path string, content []byte) {
	t.Helper()
	dir := t.TempDir()
	path = filepath.Join(dir, "secret")
	content = []byte("root only\n")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, content
}

func assertUntouched(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil || string(got) != string(want) {
		t.Fatalf("victim %s changed: %q, %v", path, got, err)
	}
}

func TestOpenDirRefusesSymlinkAtAnyComponent(t *testing.T) {
	bothResolvers(t, func(t *testing.T) {
		tmp := t.TempDir()
		real := filepath.Join(tmp, "real", "state")
		if err := os.MkdirAll(real, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(tmp, "real"), filepath.Join(tmp, "mid")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(real, filepath.Join(tmp, "last")); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{filepath.Join(tmp, "mid", "state"), filepath.Join(tmp, "last")} {
			d, err := OpenDir(p)
			if !errors.Is(err, ErrSymlink) {
				if d != nil {
					d.Close()
				}
				t.Fatalf("OpenDir(%s) = %v, want ErrSymlink", p, err)
			}
		}
		d, err := OpenDir(real)
		if err != nil {
			t.Fatalf("OpenDir of the real path: %v", err)
		}
		d.Close()
	})
}

func TestOpenDirRefusesForeignOrWritableAndLeavesModeAlone(t *testing.T) {
	needRoot(t)
	tmp := t.TempDir()
	foreign := filepath.Join(tmp, "foreign")
	open := filepath.Join(tmp, "open")
	for _, p := range []string{foreign, open} {
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(foreign, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{foreign, open} {
		before, _ := os.Stat(p)
		if _, err := OpenDir(p); !errors.Is(err, ErrNotPrivate) {
			t.Fatalf("OpenDir(%s) = %v, want ErrNotPrivate", p, err)
		}
		if _, err := MkdirAll(p); !errors.Is(err, ErrNotPrivate) {
			t.Fatalf("MkdirAll(%s) = %v, want ErrNotPrivate", p, err)
		}
		after, _ := os.Stat(p)
		if before.Mode() != after.Mode() {
			t.Fatalf("%s: mode changed from %v to %v", p, before.Mode(), after.Mode())
		}
	}
	// Ours and only readable by others: usable, and not chmod'ed (it could
	// be /etc given by mistake).
	ro := filepath.Join(tmp, "ro")
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(ro, 0o755)
	d, err := MkdirAll(ro)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if fi, _ := os.Stat(ro); fi.Mode().Perm() != 0o755 {
		t.Fatalf("mode of a directory we did not create changed to %v", fi.Mode().Perm())
	}
}

func TestMkdirAllCreatesPrivateAndNeverThroughSymlink(t *testing.T) {
	tmp := t.TempDir()
	p := filepath.Join(tmp, "a", "b", "c")
	d, err := MkdirAll(p)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	for _, q := range []string{filepath.Join(tmp, "a"), filepath.Join(tmp, "a", "b"), p} {
		if fi, err := os.Stat(q); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("%s: %v, %v; want a 0700 directory", q, fi.Mode(), err)
		}
	}
	target := t.TempDir()
	if err := os.Symlink(target, filepath.Join(tmp, "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := MkdirAll(filepath.Join(tmp, "link", "x")); !errors.Is(err, ErrSymlink) {
		t.Fatalf("MkdirAll through a symlink = %v, want ErrSymlink", err)
	}
	if _, err := os.Lstat(filepath.Join(target, "x")); !os.IsNotExist(err) {
		t.Fatalf("a directory was created through the symlink: %v", err)
	}
	// Relative paths resolve from the working directory.
	t.Chdir(tmp)
	if d, err = MkdirAll("rel/x"); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if fi, err := os.Stat(filepath.Join(tmp, "rel", "x")); err != nil || !fi.IsDir() {
		t.Fatalf("relative MkdirAll: %v", err)
	}
}

func TestCreateAndWriteFileNeverWriteThroughPlantedLinks(t *testing.T) {
	secret, content := victim(t)
	dir := t.TempDir()
	if err := os.Symlink(secret, filepath.Join(dir, "sym")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(secret, filepath.Join(dir, "hard")); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, name := range []string{"sym", "hard"} {
		if f, err := d.Create(name); err == nil {
			f.Close()
			t.Fatalf("Create(%s) opened an existing name", name)
		}
		for _, flag := range []int{os.O_WRONLY, os.O_WRONLY | os.O_TRUNC, os.O_RDWR | os.O_CREATE} {
			if f, err := d.OpenFile(name, flag, 0o600); err == nil {
				f.Close()
				t.Fatalf("OpenFile(%s, %#x) opened a planted link for writing", name, flag)
			}
		}
		assertUntouched(t, secret, content)
		if err := d.WriteFile(name, []byte("evidence\n")); err != nil {
			t.Fatalf("WriteFile(%s): %v", name, err)
		}
		assertUntouched(t, secret, content)
		fi, err := os.Lstat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s after WriteFile: %v %v, want a new 0600 regular file", name, fi.Mode(), err)
		}
	}
	for _, bad := range []string{"", ".", "..", "a/b", "../secret"} {
		if _, err := d.Create(bad); err == nil {
			t.Fatalf("Create accepted the name %q", bad)
		}
	}
	f, err := d.Create("new")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, _ := os.Stat(filepath.Join(dir, "new")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("created mode %v", fi.Mode().Perm())
	}
}

func TestOpenFileRefusesForeignFileAndFIFO(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	planted := filepath.Join(dir, "planted")
	if err := os.WriteFile(planted, []byte("x"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(planted, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, name := range []string{"planted", "fifo"} {
		// O_RDWR on a FIFO would not block anyway; O_WRONLY would, without
		// the O_NONBLOCK the open adds (then ENXIO).
		if f, err := d.OpenFile(name, os.O_WRONLY, 0); err == nil {
			f.Close()
			t.Fatalf("OpenFile(%s) accepted", name)
		}
	}
}

func TestMkdirTempIsFreshAndPrivate(t *testing.T) {
	needRoot(t)
	parent := t.TempDir()
	if err := os.Chmod(parent, 0o1777); err != nil { // like /tmp
		t.Fatal(err)
	}
	a, err := MkdirTemp(parent, "xferhunt-evidence-*")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := MkdirTemp(parent, "xferhunt-evidence-*")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.Path() == b.Path() || filepath.Dir(a.Path()) != parent {
		t.Fatalf("temp dirs %s and %s", a.Path(), b.Path())
	}
	fi, err := os.Stat(a.Path())
	st := fi.Sys().(*syscall.Stat_t)
	if err != nil || fi.Mode().Perm() != 0o700 || st.Uid != uint32(os.Geteuid()) {
		t.Fatalf("temp dir mode %v uid %d: %v", fi.Mode(), st.Uid, err)
	}
	link := filepath.Join(t.TempDir(), "tmp")
	if err := os.Symlink(parent, link); err != nil {
		t.Fatal(err)
	}
	if _, err := MkdirTemp(link, "x-*"); !errors.Is(err, ErrSymlink) {
		t.Fatalf("MkdirTemp under a symlinked parent = %v, want ErrSymlink", err)
	}
}

func TestOpenReadsWithoutFollowingAnyComponent(t *testing.T) {
	bothResolvers(t, func(t *testing.T) {
		secret, _ := victim(t)
		tmp := t.TempDir()
		if err := os.Symlink(filepath.Dir(secret), filepath.Join(tmp, "dir")); err != nil {
			t.Fatal(err)
		}
		if f, err := Open(filepath.Join(tmp, "dir", "secret")); !errors.Is(err, ErrSymlink) {
			if f != nil {
				f.Close()
			}
			t.Fatalf("Open through a symlinked directory = %v, want ErrSymlink", err)
		}
		fifo := filepath.Join(tmp, "fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := Open(fifo) // must not block waiting for a writer
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		f, err = Open(secret)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	})
}
