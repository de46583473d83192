// Package capture records and scrubs the committed audit captures in testdata/capture:
// real uploads to real sshd and vsftpd servers, logged by a real auditd, then reduced
// to the events of the servers' process trees so that the files hold nothing from the
// rest of the host.
package capture

import (
	"regexp"
	"strconv"
	"strings"
)

// Tree names the processes whose events a scrub keeps.
type Tree struct {
	// Roots are the pids of the server listeners; their descendants are kept too.
	Roots []int
	// UIDs are accounts (matched against auid, uid and euid) whose events are kept:
	// they cover session processes whose parent never made an audited syscall.
	UIDs []int
}

var (
	eventID  = regexp.MustCompile(`msg=audit\((\d+\.\d+:\d+)\)`)
	typeRe   = regexp.MustCompile(`^type=(\S+)`)
	intField = regexp.MustCompile(`(?:^| )(pid|ppid|auid|uid|euid)=(\d+)`)
)

type event struct {
	id      string
	lines   []string
	pid     int
	ppid    int
	ids     []int // auid, uid, euid values seen in any record
	daemon  bool  // auditd's own bookkeeping (DAEMON_*, CONFIG_CHANGE)
	visited bool
}

// Scrub keeps, in their original order, the lines of every event (all records sharing
// one audit(timestamp:serial)) that belongs to tree, plus auditd's own DAEMON_* and
// CONFIG_CHANGE records. A process belongs to the tree when its pid is a root, its
// parent belongs to it, or it runs under one of the tree's UIDs. Lines without an
// audit id are dropped.
func Scrub(lines []string, tree Tree) []string {
	var order []*event
	byID := map[string]*event{}
	for _, l := range lines {
		m := eventID.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		ev := byID[m[1]]
		if ev == nil {
			ev = &event{id: m[1], pid: -1, ppid: -1}
			byID[m[1]] = ev
			order = append(order, ev)
		}
		ev.lines = append(ev.lines, l)
		if t := typeRe.FindStringSubmatch(l); t != nil && (strings.HasPrefix(t[1], "DAEMON_") || t[1] == "CONFIG_CHANGE") {
			ev.daemon = true
		}
		// Enriched logs append translated fields after \x1d; only the raw part counts.
		raw, _, _ := strings.Cut(l, "\x1d")
		for _, f := range intField.FindAllStringSubmatch(raw, -1) {
			n, err := strconv.Atoi(f[2])
			if err != nil {
				continue
			}
			switch f[1] {
			case "pid":
				if ev.pid < 0 {
					ev.pid = n
				}
			case "ppid":
				if ev.ppid < 0 {
					ev.ppid = n
				}
			default:
				ev.ids = append(ev.ids, n)
			}
		}
	}
	pids := map[int]bool{}
	for _, p := range tree.Roots {
		pids[p] = true
	}
	uids := map[int]bool{}
	for _, u := range tree.UIDs {
		uids[u] = true
	}
	keep := func(ev *event) bool {
		if ev.daemon || (ev.pid >= 0 && pids[ev.pid]) || (ev.ppid >= 0 && pids[ev.ppid]) {
			return true
		}
		for _, id := range ev.ids {
			if uids[id] {
				return true
			}
		}
		return false
	}
	// A child may log before its parent is known to be in the tree (e.g. a pid first
	// seen through its own execve), so iterate until no event joins.
	for changed := true; changed; {
		changed = false
		for _, ev := range order {
			if ev.visited || !keep(ev) {
				continue
			}
			ev.visited, changed = true, true
			if ev.pid >= 0 && !ev.daemon {
				pids[ev.pid] = true
			}
		}
	}
	var out []string
	for _, l := range lines {
		m := eventID.FindStringSubmatch(l)
		if m != nil && byID[m[1]].visited {
			out = append(out, l)
		}
	}
	return out
}
