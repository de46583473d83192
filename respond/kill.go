package respond

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/xferhunt/xferhunt/internal/procid"
)

// Doc is the read side of an alert document (ecs.Doc satisfies it).
type Doc interface {
	Str(field string) string
	Get(field string) any
}

// Fields of the alert a kill reads.
const (
	fieldStartTicks = "xferhunt.process.start_ticks" // enrich.FieldStartTicks
	fieldIdentity   = "xferhunt.process.identity"    // enrich.FieldIdentity
	fieldSession    = "xferhunt.session.id"
)

// unsetSession is the audit session id of a process outside any login.
const unsetSession = "4294967295"

// KillPlan is what K offers for one alert, read from /proc when the key is
// pressed: the event's process, proved to be the same process (start time
// and executable against the alert), and the login session it ran in
// (every process of the audit session, the session's sshd process first).
// Either may be refused, with the reason.
type KillPlan struct {
	Process    procid.Identity
	ProcessErr string
	Ses        string
	Session    []procid.Identity // root (the sshd of the login) first
	SessionErr string
}

// PlanKill reads what a kill of the alert's process or session would
// signal. It signals nothing.
func PlanKill(d Doc, root procid.Root) KillPlan {
	var p KillPlan
	p.Process, p.ProcessErr = planProcess(d, root)
	p.Ses = d.Str(fieldSession)
	p.Session, p.SessionErr = planSession(p.Ses, root)
	return p
}

func planProcess(d Doc, root procid.Root) (procid.Identity, string) {
	pid, err := strconv.Atoi(d.Str("process.pid"))
	if err != nil || pid <= 1 {
		return procid.Identity{}, "the alert names no killable process id"
	}
	if pid == os.Getpid() {
		return procid.Identity{}, "pid " + strconv.Itoa(pid) + " is xferhunt itself"
	}
	ticks, err := strconv.ParseUint(d.Str(fieldStartTicks), 10, 64)
	if err != nil {
		why := d.Str(fieldIdentity)
		if why == "" {
			why = "not recorded"
		}
		return procid.Identity{PID: pid}, fmt.Sprintf("pid %d: the event's process start time is unknown (%s): cannot prove the pid is still that process", pid, why)
	}
	want := procid.Identity{PID: pid, Start: ticks, Exe: d.Str("process.executable")}
	if err := root.Check(want); err != nil {
		if errors.Is(err, procid.ErrGone) {
			return want, fmt.Sprintf("pid %d has exited", pid)
		}
		return want, err.Error()
	}
	got, err := root.Read(pid)
	if err != nil {
		return want, err.Error()
	}
	return got, ""
}

// planSession lists every process of audit session ses now. Session ids
// are never reused before a reboot (and liveness refuses alerts of an
// earlier boot), so the id names that login alone. Its root is the
// process whose parent is outside the session: sshd's per-login process,
// which holds the connection.
func planSession(ses string, root procid.Root) ([]procid.Identity, string) {
	if ses == "" || ses == unsetSession {
		return nil, "the event has no login session (ses): an FTP upload or a service"
	}
	if own := root.Sessionid(os.Getpid()); own == ses {
		return nil, "session " + ses + " is your own login (xferhunt runs in it)"
	}
	children := root.Children()
	var members []procid.Identity
	in := map[int]bool{}
	for _, kids := range children {
		for _, pid := range kids {
			if root.Sessionid(pid) != ses {
				continue
			}
			id, err := root.Read(pid)
			if err != nil {
				continue
			}
			members = append(members, id)
			in[pid] = true
		}
	}
	if len(members) == 0 {
		return nil, "session " + ses + " has no process left (the login ended)"
	}
	var roots []procid.Identity
	for _, m := range members {
		if !in[m.PPID] {
			roots = append(roots, m)
		}
	}
	if len(roots) != 1 {
		return nil, fmt.Sprintf("session %s has %d top processes, not one login: refused", ses, len(roots))
	}
	r := roots[0]
	if b := filepath.Base(r.Exe); b != "sshd" && b != "sshd-session" {
		return nil, fmt.Sprintf("session %s starts at pid %d (%s), not an sshd login process: refused", ses, r.PID, r.Exe)
	}
	// Tree order: the root, then each process under its parent.
	byParent := map[int][]procid.Identity{}
	for _, m := range members {
		byParent[m.PPID] = append(byParent[m.PPID], m)
	}
	var out []procid.Identity
	var walk func(id procid.Identity)
	walk = func(id procid.Identity) {
		out = append(out, id)
		kids := byParent[id.PID]
		sort.Slice(kids, func(i, j int) bool { return kids[i].PID < kids[j].PID })
		for _, k := range kids {
			walk(k)
		}
	}
	walk(r)
	// Members whose parent left the session's tree (re-parented) come last.
	if len(out) < len(members) {
		seen := map[int]bool{}
		for _, o := range out {
			seen[o.PID] = true
		}
		for _, m := range members {
			if !seen[m.PID] {
				out = append(out, m)
			}
		}
	}
	return out, ""
}

// Tree renders the session as the confirmation shows it, one process a
// line, indented under its parent (escape it before display).
func Tree(ids []procid.Identity) string {
	depth := map[int]int{}
	var b strings.Builder
	for _, id := range ids {
		d, ok := depth[id.PPID]
		if ok {
			d++
		}
		depth[id.PID] = d
		fmt.Fprintf(&b, "%s%d %s (%s)\n", strings.Repeat("  ", d), id.PID, id.Name, id.Exe)
	}
	return b.String()
}

// Signal sends SIGKILL to each target that is still the process it was
// when planned: the pid is pinned with a pidfd, its start time and
// executable read again, and the signal goes to the pidfd, so a pid freed
// and reused at any moment is never signalled. It returns one line of
// what happened to each.
func Signal(targets []procid.Identity, root procid.Root) (killed int, results []string) {
	for _, t := range targets {
		err := signalOne(t, root)
		if err != nil {
			results = append(results, fmt.Sprintf("%d: %v", t.PID, err))
			continue
		}
		killed++
		results = append(results, fmt.Sprintf("%d: killed", t.PID))
	}
	return killed, results
}

func signalOne(t procid.Identity, root procid.Root) error {
	if t.PID <= 1 || t.PID == os.Getpid() {
		return fmt.Errorf("refusing to kill pid %d", t.PID)
	}
	fd, err := unix.PidfdOpen(t.PID, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return errors.New("already gone")
		}
		return fmt.Errorf("pidfd_open: %w", err)
	}
	defer unix.Close(fd)
	// The pidfd names the process that held the pid when it was opened;
	// the one /proc shows now started no earlier, so a matching start time
	// proves both are the planned process.
	if err := root.Check(t); err != nil {
		if errors.Is(err, procid.ErrGone) {
			return errors.New("already gone")
		}
		return err
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return errors.New("already gone")
		}
		return fmt.Errorf("pidfd_send_signal: %w", err)
	}
	return nil
}
