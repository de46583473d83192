package safefile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// noOpenat2 is set once openat2 reported ENOSYS (kernels before 5.6, or a
// seccomp filter that hides it), so later calls go straight to the walk.
var noOpenat2 atomic.Bool

// resolve opens path with flag without following a symlink at any
// component and returns the descriptor (O_CLOEXEC and O_NOFOLLOW added).
// It never creates anything: callers create relative to a verified Dir.
func resolve(path string, flag int, mode uint32) (int, error) {
	if !noOpenat2.Load() {
		fd, err := openat2(path, flag)
		if errors.Is(err, unix.ENOTDIR) {
			// O_DIRECTORY|O_NOFOLLOW on a final symlink: say why. Lstat
			// only words the error; nothing is opened through it.
			var st unix.Stat_t
			if unix.Lstat(path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
				return -1, ErrSymlink
			}
		}
		if !errors.Is(err, unix.ENOSYS) {
			return fd, err
		}
		noOpenat2.Store(true)
	}
	return walk(path, flag)
}

// openat2 resolves path in one kernel call that fails with ELOOP at the
// first symlink (RESOLVE_NO_SYMLINKS also refuses /proc magic links).
func openat2(path string, flag int) (int, error) {
	if path == "" {
		return -1, unix.ENOENT
	}
	for {
		fd, err := unix.Openat2(unix.AT_FDCWD, path, &unix.OpenHow{
			Flags:   uint64(flag | unix.O_CLOEXEC | unix.O_NOFOLLOW),
			Resolve: unix.RESOLVE_NO_SYMLINKS,
		})
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return fd, err
	}
}

// walk is the fallback for kernels without openat2: one openat per
// component, each relative to the descriptor of the one before and each
// with O_NOFOLLOW, so no component is ever resolved through a symlink.
func walk(path string, flag int) (int, error) {
	comps, fd, err := split(path)
	if err != nil {
		return -1, err
	}
	if len(comps) == 0 {
		// "/" or ".": the start itself, reopened with the caller's flags.
		comps = []string{"."}
	}
	for i, c := range comps {
		f := unix.O_PATH | unix.O_DIRECTORY
		if i == len(comps)-1 {
			f = flag
		}
		next, err := openComponent(fd, c, f, 0)
		if fd != unix.AT_FDCWD {
			unix.Close(fd)
		}
		if err != nil {
			return -1, err
		}
		fd = next
	}
	return fd, nil
}

// split cuts path into its components ("" and "." dropped, ".." kept: it
// is never a symlink) and returns the descriptor to start from: "/" for an
// absolute path, the working directory (AT_FDCWD, not to be closed)
// otherwise.
func split(path string) ([]string, int, error) {
	if path == "" {
		return nil, -1, unix.ENOENT
	}
	var comps []string
	for _, c := range strings.Split(path, "/") {
		if c != "" && c != "." {
			comps = append(comps, c)
		}
	}
	if !strings.HasPrefix(path, "/") {
		return comps, unix.AT_FDCWD, nil
	}
	fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, -1, err
	}
	return comps, fd, nil
}

// openComponent opens the single component name relative to dirfd with
// O_NOFOLLOW. A symlink there fails with ELOOP, or with ENOTDIR when
// O_DIRECTORY is asked (O_PATH|O_NOFOLLOW would otherwise open the link
// itself); both are reported as ErrSymlink.
func openComponent(dirfd int, name string, flag int, mode uint32) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flag|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP):
			var st unix.Stat_t
			if unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
				return -1, ErrSymlink
			}
		}
		return -1, err
	}
}

// randomName is 16 hex digits from the system's CSPRNG: a name nobody can
// predict and pre-create.
func randomName() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b[:])
}
