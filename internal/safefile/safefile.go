// Package safefile opens and creates every file xferhunt writes, and the
// files it reads on a responder's behalf from paths a host event named.
//
// xferhunt runs as root on a host that may be compromised, so every path it
// is given or builds is attacker-influenced: a symlink at any component, or
// a directory that another user owns or can write, would turn a root write
// into an overwrite of a file of the attacker's choice. So this package
//
//   - resolves paths without following a symlink at any component:
//     openat2(RESOLVE_NO_SYMLINKS) where the kernel has it (5.6+), else a
//     walk of openat(O_NOFOLLOW) one component at a time;
//   - accepts a directory only when it is owned by the effective uid and
//     not writable by group or others, checked with fstat on the descriptor
//     it opened, so a swap after the check changes nothing;
//   - then works only relative to that descriptor, creating files with
//     O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600, and directories 0700;
//   - never changes the mode or owner of a directory it did not create.
//
// Errors are one line that names the path and what was refused.
package safefile

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrSymlink matches (errors.Is) a refusal because a path component is a
// symbolic link.
var ErrSymlink = errors.New("a path component is a symbolic link (never followed)")

// ErrNotPrivate matches (errors.Is) a refusal because a directory is owned
// by another user or writable by group or others.
var ErrNotPrivate = errors.New("directory is not private to this user")

// refusal is a one-line message that still matches its kind with errors.Is.
type refusal struct {
	msg  string
	kind error
}

func (r *refusal) Error() string { return r.msg }
func (r *refusal) Unwrap() error { return r.kind }

// Dir is a directory opened without following symlinks and verified to be
// owned by us and not writable by anyone else: nobody but us (and root) can
// add, remove or swap entries inside it, so names inside it are trusted.
type Dir struct {
	f    *os.File
	path string
}

// Path returns the path the directory was opened by, for messages.
func (d *Dir) Path() string { return d.path }

// Close releases the directory's descriptor.
func (d *Dir) Close() error { return d.f.Close() }

// OpenDir opens the existing directory path and verifies it is private.
func OpenDir(path string) (*Dir, error) {
	fd, err := resolve(path, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, pathErr(path, err)
	}
	return verifiedDir(fd, path)
}

// MkdirAll opens path as a directory, creating the missing components with
// mode 0700, and verifies the last one is private. Components that already
// exist above it need only not be symlinks: /tmp or /var/lib are not ours,
// and the descriptor check on the last one is what decides.
//
// It always walks (openat with O_NOFOLLOW, mkdirat when missing): the walk
// is as safe as openat2 and it has to create components anyway.
func MkdirAll(path string) (*Dir, error) {
	comps, start, err := split(path)
	if err != nil {
		return nil, pathErr(path, err)
	}
	if len(comps) == 0 {
		// "/" or ".": nothing to create.
		if start != unix.AT_FDCWD {
			unix.Close(start)
		}
		return OpenDir(path)
	}
	fd := start
	closeFD := func() {
		if fd != unix.AT_FDCWD {
			unix.Close(fd)
		}
	}
	for i, c := range comps {
		flag := unix.O_PATH
		if i == len(comps)-1 {
			flag = unix.O_RDONLY
		}
		next, err := openComponent(fd, c, flag|unix.O_DIRECTORY, 0)
		if errors.Is(err, unix.ENOENT) {
			// EEXIST: someone created it between our open and mkdir; the
			// open below and the final check decide whether it is usable.
			if err := unix.Mkdirat(fd, c, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
				closeFD()
				return nil, pathErr(path, err)
			}
			next, err = openComponent(fd, c, flag|unix.O_DIRECTORY, 0)
		}
		closeFD()
		if err != nil {
			return nil, pathErr(path, err)
		}
		fd = next
	}
	return verifiedDir(fd, path)
}

// MkdirTemp creates a new private directory with a random name made from
// pattern (its last "*" is replaced, as os.MkdirTemp does) inside parent,
// which need not be ours (it is typically the sticky, world-writable /tmp)
// but must not be reached through a symlink.
func MkdirTemp(parent, pattern string) (*Dir, error) {
	pfd, err := resolve(parent, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, pathErr(parent, err)
	}
	defer unix.Close(pfd)
	prefix, suffix := pattern, ""
	if i := strings.LastIndex(pattern, "*"); i >= 0 {
		prefix, suffix = pattern[:i], pattern[i+1:]
	}
	for try := 0; try < 100; try++ {
		name := prefix + randomName() + suffix
		err := unix.Mkdirat(pfd, name, 0o700)
		if errors.Is(err, unix.EEXIST) {
			continue // taken (perhaps planted): never reuse, draw again
		}
		if err != nil {
			return nil, pathErr(parent, err)
		}
		fd, err := openComponent(pfd, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if err != nil {
			return nil, pathErr(join(parent, name), err)
		}
		return verifiedDir(fd, join(parent, name))
	}
	return nil, fmt.Errorf("%s: no unused temporary name after 100 tries", parent)
}

// Mkdir opens the subdirectory name of d, creating it 0700 when missing,
// and verifies it is private.
func (d *Dir) Mkdir(name string) (*Dir, error) {
	path := join(d.path, name)
	if err := checkName(name); err != nil {
		return nil, pathErr(path, err)
	}
	if err := unix.Mkdirat(int(d.f.Fd()), name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, pathErr(path, err)
	}
	fd, err := openComponent(int(d.f.Fd()), name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, pathErr(path, err)
	}
	return verifiedDir(fd, path)
}

// Create creates the new file name in d for writing, mode 0600. It fails
// when name exists in any form (file, symlink, FIFO): nothing is truncated
// and nothing is followed.
func (d *Dir) Create(name string) (*os.File, error) {
	return d.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
}

// OpenFile opens name in d with flag (O_NOFOLLOW and O_CLOEXEC always
// added) and, when it creates the file, perm. What it opens must be a
// regular file owned by us and, when opened for writing, with no other
// hard link: an existing file planted earlier, a hard link to a file
// elsewhere, or a FIFO that would block a writer, is refused. O_TRUNC is
// refused too, since it would act before those checks: replace a file
// with WriteFile.
func (d *Dir) OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	path := join(d.path, name)
	if err := checkName(name); err != nil {
		return nil, pathErr(path, err)
	}
	if flag&os.O_TRUNC != 0 {
		return nil, fmt.Errorf("%s: O_TRUNC refused: it truncates before the file is checked", path)
	}
	// O_NONBLOCK so that opening a FIFO cannot hang before the type check.
	fd, err := openComponent(int(d.f.Fd()), name, flag|unix.O_NONBLOCK, uint32(perm.Perm()))
	if err != nil {
		return nil, pathErr(path, err)
	}
	if err := checkFD(fd, path, unix.S_IFREG, flag&(os.O_WRONLY|os.O_RDWR) != 0); err != nil {
		return nil, err
	}
	// Regular files ignore O_NONBLOCK for I/O, but clear it anyway so the
	// file behaves as an ordinary blocking one for its users.
	if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err == nil {
		_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl&^unix.O_NONBLOCK)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// WriteFile replaces name in d with data, mode 0600: it writes a new file
// created with O_EXCL, syncs it and renames it over name, so a planted
// symlink or hard link at name is replaced, never written through, and a
// crash leaves the old content or the new, never a torn file.
func (d *Dir) WriteFile(name string, data []byte) error {
	if err := checkName(name); err != nil {
		return pathErr(join(d.path, name), err)
	}
	var tmp string
	var f *os.File
	var err error
	for try := 0; try < 100; try++ {
		tmp = "." + name + "." + randomName()
		if f, err = d.Create(tmp); !errors.Is(err, unix.EEXIST) {
			break
		}
	}
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(int(d.f.Fd()), tmp, int(d.f.Fd()), name)
	}
	if err != nil {
		_ = unix.Unlinkat(int(d.f.Fd()), tmp, 0)
		return pathErr(join(d.path, name), err)
	}
	return nil
}

// Remove removes the file name from d (never a directory, never through a
// symlink: unlinkat removes the link itself).
func (d *Dir) Remove(name string) error {
	if err := checkName(name); err != nil {
		return pathErr(join(d.path, name), err)
	}
	if err := unix.Unlinkat(int(d.f.Fd()), name, 0); err != nil {
		return pathErr(join(d.path, name), err)
	}
	return nil
}

// Open opens path for reading without following a symlink at any
// component, and without blocking on a FIFO (O_NONBLOCK). Callers check the
// type with Stat on the file they got: the descriptor is what they read.
func Open(path string) (*os.File, error) {
	fd, err := resolve(path, unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, pathErr(path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// ErrPseudo matches (errors.Is) a refusal to read a file of a kernel
// pseudo filesystem (/proc, /sys and their kin).
var ErrPseudo = errors.New("a kernel pseudo file (never read for a host event)")

// pseudoFS are the filesystems whose files are the kernel's, not data: no
// upload lands there, and reading one acts — /proc/kmsg hands its
// messages to us and away from the host's log readers, others block or
// tell a process's secrets.
var pseudoFS = map[int64]bool{
	unix.PROC_SUPER_MAGIC: true, unix.SYSFS_MAGIC: true, unix.DEBUGFS_MAGIC: true,
	unix.TRACEFS_MAGIC: true, unix.SECURITYFS_MAGIC: true, unix.CGROUP_SUPER_MAGIC: true,
	unix.CGROUP2_SUPER_MAGIC: true, unix.BPF_FS_MAGIC: true, unix.EFIVARFS_MAGIC: true,
	unix.PSTOREFS_MAGIC: true, 0x62656570: true, // configfs
}

// OpenRegular opens, as Open does, a file a host event named, for reading
// its data: it must be a regular file, and not one of a kernel pseudo
// filesystem (ErrPseudo). The FileInfo is of the descriptor returned.
func OpenRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := Open(path)
	if err != nil {
		return nil, nil, err
	}
	if err := CheckNotPseudo(f); err != nil {
		f.Close()
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s: refused: not a regular file (%s)", path, fi.Mode().Type())
	}
	return f, fi, nil
}

// CheckNotPseudo returns an error matching ErrPseudo when f is a file of a
// kernel pseudo filesystem (or its filesystem cannot be told).
func CheckNotPseudo(f *os.File) error {
	var fs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &fs); err != nil {
		return pathErr(f.Name(), err)
	}
	if pseudoFS[int64(uint32(fs.Type))] {
		return &refusal{f.Name() + ": refused: " + ErrPseudo.Error(), ErrPseudo}
	}
	return nil
}

// verifiedDir takes ownership of fd and returns it as a Dir when it is a
// directory owned by us and not writable by group or others.
func verifiedDir(fd int, path string) (*Dir, error) {
	if err := checkFD(fd, path, unix.S_IFDIR, false); err != nil {
		return nil, err
	}
	return &Dir{f: os.NewFile(uintptr(fd), path), path: path}, nil
}

// checkFD closes fd and says why when what it refers to is not of type typ
// (S_IFDIR, S_IFREG) and owned by us; a directory must also not be
// writable by group or others, and a file opened for writing must have no
// other hard link.
func checkFD(fd int, path string, typ uint32, writing bool) error {
	var st unix.Stat_t
	err := unix.Fstat(fd, &st)
	euid := uint32(os.Geteuid())
	switch {
	case err != nil:
		err = pathErr(path, err)
	case st.Mode&unix.S_IFMT != typ && typ == unix.S_IFDIR:
		err = fmt.Errorf("%s: not a directory", path)
	case st.Mode&unix.S_IFMT != typ:
		err = fmt.Errorf("%s: refused: not a regular file", path)
	case st.Uid != euid:
		err = &refusal{fmt.Sprintf("%s: refused: owned by uid %d, not by us (uid %d)", path, st.Uid, euid), ErrNotPrivate}
	case typ == unix.S_IFDIR && st.Mode&0o022 != 0:
		err = &refusal{fmt.Sprintf("%s: refused: mode %04o lets group or others write it", path, st.Mode&0o7777), ErrNotPrivate}
	case writing && st.Nlink != 1:
		err = fmt.Errorf("%s: refused: it has %d hard links, so writing it would change another file", path, st.Nlink)
	}
	if err != nil {
		unix.Close(fd)
	}
	return err
}

// checkName accepts only a single path component: names inside a verified
// directory are trusted, so none may climb out of it.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') || strings.ContainsRune(name, 0) {
		return fmt.Errorf("invalid file name %q", name)
	}
	return nil
}

func join(dir, name string) string {
	if dir == "" || strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

// pathErr turns a resolution error into one line naming path; ELOOP (and
// ENOTDIR from a symlinked intermediate, see openComponent) reads as
// ErrSymlink.
func pathErr(path string, err error) error {
	if errors.Is(err, unix.ELOOP) || errors.Is(err, ErrSymlink) {
		return &refusal{path + ": refused: " + ErrSymlink.Error(), ErrSymlink}
	}
	return &os.PathError{Op: "open", Path: path, Err: err}
}

// Rename renames the file oldName in d to newName in d, refusing when
// newName exists (RENAME_NOREPLACE): setting a damaged file aside must
// never replace another one.
func (d *Dir) Rename(oldName, newName string) error {
	for _, n := range []string{oldName, newName} {
		if err := checkName(n); err != nil {
			return pathErr(join(d.path, n), err)
		}
	}
	fd := int(d.f.Fd())
	if err := unix.Renameat2(fd, oldName, fd, newName, unix.RENAME_NOREPLACE); err != nil {
		return pathErr(join(d.path, newName), err)
	}
	return nil
}
