// Package crash gives internal errors their own exit status. Go exits 2 on
// an unrecovered panic, which is also xferhunt's code for bad input, so a
// script could not tell "your file is unusable" from "xferhunt has a bug".
// Panics in the goroutines xferhunt starts are recovered here, reported
// with their stack, and exit with Code.
//
// Go's fatal runtime errors (out of memory, concurrent map writes) cannot
// be recovered in-process and still exit 2; telling them apart would need
// a supervising parent process, which would change the pid that kernel
// audit and operators see. The kernel audit changes of such a run are
// undone by its watchdog process instead (cmd xferhunt, watchdog.go).
package crash

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/xferhunt/xferhunt/internal/visible"
)

// Code is the exit status of an internal error (a panic: a bug).
const Code = 3

// Report writes an internal error: one escaped line saying what panicked,
// then the stack for the bug report.
func Report(w io.Writer, v any, stack []byte) {
	fmt.Fprintf(w, "xferhunt: internal error (a bug; exit %d): panic: %s\n%s", Code, visible.String(fmt.Sprint(v)), stack)
}

// Guard, deferred in a goroutine after the defers that signal other
// goroutines (so it runs before them), turns a panic in it into an
// internal error: reported on stderr, exit Code.
func Guard() {
	if v := recover(); v != nil {
		Report(os.Stderr, v, debug.Stack())
		os.Exit(Code)
	}
}

// Protect runs fn and returns its exit status, or Code after reporting a
// panic to w: for the main goroutine, whose deferred cleanups then still
// run up the stack before the process exits.
func Protect(w io.Writer, fn func() int) (code int) {
	defer func() {
		if v := recover(); v != nil {
			Report(w, v, debug.Stack())
			code = Code
		}
	}()
	return fn()
}
