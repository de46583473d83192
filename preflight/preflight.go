// Package preflight is `xferhunt doctor`: before a responder starts the live
// run on a host they do not trust, it says what will work there and why not,
// one line per check, with the flag or action to use instead.
//
// It is split in two so that every verdict can be tested without the host
// being in that state: Gather observes the host (reads only, changes
// nothing: no rule, no audit setting, no state directory is created), and
// Interpret turns those Facts into verdicts as a pure function. States this
// machine must never be put in (immutable audit, `-e 2`) or cannot easily be
// in (a container, an old kernel) are tested through Interpret.
package preflight

import (
	"fmt"
	"io"
	"strings"
)

// Verdict is the outcome of one check.
type Verdict int

// Verdicts, from good to bad.
const (
	// OK: this part works as the live run needs.
	OK Verdict = iota
	// Warn: works, but with a limitation the responder should know.
	Warn
	// Fail: this part does not work here.
	Fail
)

// String is the word printed at the start of a check's line.
func (v Verdict) String() string {
	switch v {
	case OK:
		return "ok"
	case Warn:
		return "warn"
	case Fail:
		return "fail"
	}
	return fmt.Sprintf("verdict(%d)", int(v))
}

// Check is one line of the report.
type Check struct {
	// Name is the short subject of the check ("root", "audit", …).
	Name string
	// Verdict is ok, warn or fail.
	Verdict Verdict
	// Detail says what was found, in one line.
	Detail string
	// Instead is the flag or action to use when this part does not work;
	// empty when there is nothing to do.
	Instead string
}

// Source is what `xferhunt` with the default --source auto will read here.
type Source int

// Sources the live run can end up with.
const (
	// Offline: no live source; only `xferhunt scan` of copied logs.
	Offline Source = iota
	// NetlinkUnicast: xferhunt registers as the audit daemon (none holds it).
	NetlinkUnicast
	// NetlinkMulticast: xferhunt reads beside the daemon holding the audit pid.
	NetlinkMulticast
	// LogTail: no netlink; auto follows a readable audit log instead.
	LogTail
)

// Report is the outcome of every check and the decision they lead to.
type Report struct {
	Checks []Check
	// Source is what the live run will read; Offline when none.
	Source Source
	// SourceDetail names the source ("netlink multicast beside auditd",
	// "/var/log/audit/audit.log").
	SourceDetail string
	// StateOK is false when the state directory would make the live run
	// fail at start (and --ephemeral was not given).
	StateOK bool
}

// Live reports whether the live run will start: a live source and a usable
// state directory. `xferhunt doctor` exits 0 exactly when this holds.
func (r Report) Live() bool { return r.Source != Offline && r.StateOK }

// FirstFailure returns the first check that failed, in report order
// (privileges before kernel audit before logs), for the live run's error.
func (r Report) FirstFailure() (Check, bool) {
	for _, c := range r.Checks {
		if c.Verdict == Fail {
			return c, true
		}
	}
	return Check{}, false
}

// Write prints one line per check and a last line with the decision. The
// caller escapes host strings on the way out (main wraps w in
// visible.Lines): a process name or a path may carry escape sequences.
func (r Report) Write(w io.Writer) error {
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	var b strings.Builder
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%-4s  %-*s  %s", c.Verdict, width, c.Name, c.Detail)
		if c.Instead != "" {
			fmt.Fprintf(&b, " → %s", c.Instead)
		}
		b.WriteByte('\n')
	}
	switch {
	case r.Live():
		fmt.Fprintf(&b, "live mode will work: %s (exit 0)\n", r.SourceDetail)
	case r.Source != Offline:
		fmt.Fprintf(&b, "live mode will not start with these flags: the state directory (above); add --ephemeral or --state DIR (exit 1)\n")
	default:
		fmt.Fprintf(&b, "offline only: copy the audit logs off this host and run `xferhunt scan PATH...` (exit 1)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
