package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/xferhunt/xferhunt/internal/visible"
	"github.com/xferhunt/xferhunt/sources/netlink"
)

// Go's fatal runtime errors (out of memory, concurrent map writes, stack
// overflow) end the process at once: no deferred restore of the kernel's
// audit settings runs, so the rules and the audit pid stayed until the
// next start read the journal. A supervising parent that re-executes
// xferhunt would change the pid operators and kernel audit see (the audit
// pid, the journal's name, the pid to signal). Instead the process that
// changed the kernel keeps its pid and starts a watchdog: a second copy of
// itself that holds the read end of a pipe only the first can write. When
// the first ends in any way, the pipe reads EOF; if its journal is still
// there (a clean exit removes it), the watchdog undoes what it says at
// once. The exit status stays Go's (2 for a fatal error): no process can
// change another's.

// watchdogEnv carries the watched pid to the watchdog copy.
const watchdogEnv = "XFERHUNT_WATCHDOG_FOR"

// debugFatalEnv, when "stack-overflow" in the environment of a live run,
// makes it hit a real Go fatal error (goroutine stack exceeds its limit)
// a second after it starts changing kernel audit: the test of the
// watchdog.
const debugFatalEnv = "XFERHUNT_DEBUG_FATAL"

var watchdogOnce sync.Once

// startWatchdog starts the watchdog copy once, before the first change
// of kernel audit (only a run that changes the kernel needs one). Best effort: a
// run without it still restores on every way out Go lets it run code.
func startWatchdog() {
	watchdogOnce.Do(func() {
		r, w, err := os.Pipe()
		if err != nil {
			return
		}
		exe, err := os.Executable()
		if err != nil {
			r.Close()
			w.Close()
			return
		}
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), watchdogEnv+"="+strconv.Itoa(os.Getpid()))
		cmd.ExtraFiles = []*os.File{r} // fd 3
		// Its own process group: a terminal's Ctrl-C or hangup is for the
		// watched run, which restores by itself then.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		// Stderr is the run's: the watchdog's one line says what it undid.
		cmd.Stderr = os.Stderr
		if cmd.Start() != nil {
			r.Close()
			w.Close()
			return
		}
		r.Close()
		// w stays open, unused, for the life of this process (close-on-exec:
		// no child of ours inherits it); KeepAlive stops the collector from
		// closing it while the watchdog waits.
		go func() { _ = cmd.Wait(); runtime.KeepAlive(w) }()
		if os.Getenv(debugFatalEnv) == "stack-overflow" {
			go func() {
				time.Sleep(time.Second)
				debug.SetMaxStack(1 << 20)
				recurse(0)
			}()
		}
	})
}

// recurse overflows the stack (debugFatalEnv only): the endless
// recursion is the point, a real fatal error.
func recurse(n int) int {
	var pad [256]byte
	pad[n%256] = byte(n)
	//lint:ignore SA5007 endless on purpose
	return recurse(n+1) + int(pad[0])
}

// runWatchdog is the watchdog copy: wait for EOF on fd 3, then undo what
// the watched pid's journal says, if it left one.
func runWatchdog(pidText string) int {
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 1 {
		return 2
	}
	in := os.NewFile(3, "watchdog")
	if in == nil {
		return 2
	}
	_, _ = io.Copy(io.Discard, in) // until the watched process has ended
	did, err := netlink.RecoverDead(pid)
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, visible.String(fmt.Sprintf("xferhunt: watchdog: pid %d ended without restoring kernel audit; undoing its changes failed: %v (the next start retries)", pid, err)))
		return 1
	case did:
		fmt.Fprintf(os.Stderr, "xferhunt: watchdog: pid %d ended without restoring kernel audit; its rules and settings are restored\n", pid)
	}
	return 0
}
