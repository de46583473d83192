// Package procid tells whether a pid still names the same process: its
// start time (field 22 of /proc/PID/stat, clock ticks since boot, which
// no later process holding the same pid can share) and its executable.
// Enrichment records them on a live alert; a kill re-reads them and
// refuses on any difference, so a pid reused since the event is never
// signalled.
package procid

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Ticks is USER_HZ, the unit of /proc/PID/stat times: 100 on every Linux
// ABI (the kernel converts from HZ for user space).
const Ticks = 100

// Root is a procfs mount; "" is /proc.
type Root string

func (r Root) path(parts ...string) string {
	root := string(r)
	if root == "" {
		root = "/proc"
	}
	return filepath.Join(append([]string{root}, parts...)...)
}

// Identity is what tells one process from a later one with its pid.
type Identity struct {
	PID   int
	PPID  int
	Start uint64 // clock ticks since boot
	Exe   string // the executable, " (deleted)" removed
	Name  string // comm
	State byte   // R, S, D, Z (zombie) …
}

// ErrGone is returned when no process holds the pid.
var ErrGone = errors.New("no such process")

// Read returns the identity of pid now.
func (r Root) Read(pid int) (Identity, error) {
	if pid <= 0 {
		return Identity{}, fmt.Errorf("pid %d: %w", pid, ErrGone)
	}
	stat, err := os.ReadFile(r.path(strconv.Itoa(pid), "stat"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, errSRCH) {
			return Identity{}, fmt.Errorf("pid %d: %w", pid, ErrGone)
		}
		return Identity{}, err
	}
	id, err := ParseStat(stat)
	if err != nil {
		return Identity{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	if id.State == 'Z' || id.State == 'X' {
		// Dead, not yet reaped: nothing left to signal or to compare.
		return Identity{}, fmt.Errorf("pid %d (exited): %w", pid, ErrGone)
	}
	id.PID = pid
	exe, err := os.Readlink(r.path(strconv.Itoa(pid), "exe"))
	if err == nil {
		id.Exe = strings.TrimSuffix(exe, " (deleted)")
	}
	return id, nil
}

// ParseStat reads comm, ppid and starttime from a /proc/PID/stat line.
func ParseStat(stat []byte) (Identity, error) {
	// comm may hold spaces and parentheses: it ends at the last ')'.
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return Identity{}, errors.New("unreadable stat")
	}
	f := strings.Fields(string(stat[end+1:]))
	// f[0] is field 3 (state); starttime is field 22.
	if len(f) < 20 {
		return Identity{}, errors.New("short stat")
	}
	ppid, err1 := strconv.Atoi(f[1])
	start, err2 := strconv.ParseUint(f[19], 10, 64)
	if err1 != nil || err2 != nil {
		return Identity{}, errors.New("unreadable stat")
	}
	return Identity{PPID: ppid, Start: start, Name: string(stat[open+1 : end]), State: f[0][0]}, nil
}

// BootTime is the boot time /proc/stat gives (whole seconds).
func (r Root) BootTime() (time.Time, error) {
	b, err := os.ReadFile(r.path("stat"))
	if err != nil {
		return time.Time{}, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, err
			}
			return time.Unix(n, 0), nil
		}
	}
	return time.Time{}, errors.New("no btime in /proc/stat")
}

// StartTime is a start in ticks as wall-clock time (to about a second:
// btime is whole seconds).
func StartTime(boot time.Time, ticks uint64) time.Time {
	return boot.Add(time.Duration(ticks) * (time.Second / Ticks))
}

// Slack is how far a start computed from btime may be off.
const Slack = time.Second

// Check compares the process holding want.PID now with the recorded
// identity: nil when it is the same process, else why not.
func (r Root) Check(want Identity) error {
	got, err := r.Read(want.PID)
	if err != nil {
		return err
	}
	if got.Start != want.Start {
		return fmt.Errorf("pid %d is another process now: it started at tick %d, the event's at tick %d (the pid was reused)", want.PID, got.Start, want.Start)
	}
	if want.Exe != "" && got.Exe != want.Exe {
		return fmt.Errorf("pid %d runs %s now, the event's process ran %s", want.PID, got.Exe, want.Exe)
	}
	return nil
}

// Sessionid is the audit session id of pid ("4294967295" when unset).
func (r Root) Sessionid(pid int) string {
	b, err := os.ReadFile(r.path(strconv.Itoa(pid), "sessionid"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Children maps every live pid's parent to its children, read once.
func (r Root) Children() map[int][]int {
	ents, err := os.ReadDir(r.path())
	if err != nil {
		return nil
	}
	out := map[int][]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(r.path(e.Name(), "stat"))
		if err != nil {
			continue
		}
		id, err := ParseStat(b)
		if err != nil {
			continue
		}
		out[id.PPID] = append(out[id.PPID], pid)
	}
	return out
}
