package netlink

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// hostLock serializes every change xferhunt makes to kernel audit on this host,
// across processes: reading the settings, choosing a mode, changing them and
// putting them back happen under it. Without it two instances started together
// both find audit off, both switch it on, and the one that fails switches it off
// again under the one that runs.
var hostLock struct {
	mu sync.Mutex
}

// lockWait bounds how long a start or a restore waits for another instance's
// setup; past it, the caller goes on without the lock rather than hang.
const lockWait = 10 * time.Second

// lockHost takes the host-wide audit lock and returns its release. The lock
// file lives in JournalDir, a root-owned directory under /run that no other
// user can plant a link in; the directory and file are checked anyway.
func lockHost() (func(), error) {
	hostLock.mu.Lock()
	f, err := openLockFile()
	if err != nil {
		hostLock.mu.Unlock()
		return nil, err
	}
	deadline := time.Now().Add(lockWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			hostLock.mu.Unlock()
			return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		if time.Now().After(deadline) {
			f.Close()
			hostLock.mu.Unlock()
			return nil, fmt.Errorf("another xferhunt has held %s for %v", f.Name(), lockWait)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			f.Close() // closing the descriptor releases the flock
			hostLock.mu.Unlock()
		})
	}, nil
}

func openLockFile() (*os.File, error) {
	if err := ensureJournalDir(); err != nil {
		return nil, err
	}
	p := filepath.Join(JournalDir, "netlink.lock")
	fd, err := syscall.Open(p, syscall.O_RDWR|syscall.O_CREAT|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit lock %s: %w", p, err)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG || int(st.Uid) != os.Geteuid() {
		syscall.Close(fd)
		return nil, fmt.Errorf("audit lock %s is not a regular file of ours", p)
	}
	return os.NewFile(uintptr(fd), p), nil
}

// ensureJournalDir creates JournalDir 0700 and refuses one that is a link, not
// a directory, not ours, or open to others.
func ensureJournalDir() error {
	if err := os.Mkdir(JournalDir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create %s: %w", JournalDir, err)
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(JournalDir, &st); err != nil {
		return fmt.Errorf("%s: %w", JournalDir, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR || int(st.Uid) != os.Geteuid() || st.Mode&0o022 != 0 {
		return fmt.Errorf("%s is not a private directory of ours (a link, another owner, or writable by others): refusing to use it", JournalDir)
	}
	return nil
}
