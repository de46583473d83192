package netlink

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// hostMu and the flock it guards serialize every change xferhunt makes to
// kernel audit on this host, within the process and across processes: reading
// the settings, choosing a mode, changing them and putting them back happen
// under them. Without it two instances started together
// both find audit off, both switch it on, and the one that fails switches it off
// again under the one that runs.
var hostMu sync.Mutex

// lockWait bounds how long a start or a restore waits for another instance's
// setup; past it, the caller goes on without the lock rather than hang.
const lockWait = 10 * time.Second

// lockHost takes the host-wide audit lock and returns its release. The lock
// file lives in JournalDir, a root-owned directory under /run that no other
// user can plant a link in; the directory and file are checked anyway.
func lockHost() (func(), error) {
	hostMu.Lock()
	f, err := openLockFile()
	if err != nil {
		hostMu.Unlock()
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
			hostMu.Unlock()
			return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		if time.Now().After(deadline) {
			f.Close()
			hostMu.Unlock()
			return nil, fmt.Errorf("another xferhunt has held %s for %v", f.Name(), lockWait)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			f.Close() // closing the descriptor releases the flock
			hostMu.Unlock()
		})
	}, nil
}

func openLockFile() (*os.File, error) {
	d, err := journalDir()
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.OpenFile("netlink.lock", os.O_RDWR|os.O_CREATE, 0o600)
}
