package netlink

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	libaudit "github.com/elastic/go-libaudit/v2"

	"github.com/xferhunt/xferhunt/internal/safefile"
)

// JournalDir is where a running netlink source writes down what it changed
// in the kernel, so that the next start can undo what a `kill -9` (or a
// power-cut of the process) left behind. /run is a tmpfs: it is emptied at
// boot, exactly when the kernel forgets audit rules too.
var JournalDir = "/run/xferhunt"

// journal is one process's record of its kernel changes.
type journal struct {
	PID      int      `json:"pid"`
	Before   Settings `json:"before"`
	Added    [][]byte `json:"added"` // wire-format rules, base64 in JSON
	Enabled  bool     `json:"enabled"`
	Backlog  bool     `json:"backlog"`
	WaitTime bool     `json:"wait_time"`
	PIDSet   bool     `json:"pid_set"`
}

func journalPath(pid int) string {
	return filepath.Join(JournalDir, "netlink-"+strconv.Itoa(pid)+".json")
}

// writeJournal records c's current changes; the caller holds c.mu. It is
// best effort: a source that cannot write it still runs, it only loses
// crash recovery.
func (c *controller) writeJournal() {
	j := journal{PID: os.Getpid(), Before: c.before, Added: c.added, Enabled: c.enabled,
		Backlog: c.backlog, WaitTime: c.waitTime, PIDSet: c.pidSet}
	b, err := json.Marshal(j)
	if err != nil {
		return
	}
	d, err := journalDir()
	if err != nil {
		return
	}
	defer d.Close()
	// Replaced whole (a new file renamed over the old): a kill mid-write
	// leaves the previous journal, and nothing planted is written through.
	_ = d.WriteFile(filepath.Base(journalPath(j.PID)), b)
}

// BeforeChange, when set, is called before a source first changes kernel
// audit (settings or rules): the program starts its watchdog there (cmd
// xferhunt), before its own rules exist to record that exec. Tests of
// this package leave it nil.
var BeforeChange func()

// RecoverDead undoes what the netlink sources of process pid changed, as
// its journal says, when pid is known to have ended: its watchdog saw it
// exit (a Go fatal error or a signal skips every deferred restore). Unlike
// RecoverStale it does not ask whether pid still lives: a process that
// has exited but not been reaped still answers kill(pid, 0). It returns
// false when pid left no journal (it restored everything itself).
func RecoverDead(pid int) (bool, error) {
	b, err := readJournal(journalPath(pid))
	if err != nil {
		return false, nil
	}
	var j journal
	if json.Unmarshal(b, &j) != nil || j.PID != pid {
		return false, fmt.Errorf("journal of pid %d is not readable", pid)
	}
	sock, err := newSocket(0, 0)
	if err != nil {
		return true, err
	}
	defer sock.Close()
	client := &libaudit.AuditClient{Netlink: sock}
	paths, _ := filepath.Glob(filepath.Join(JournalDir, "netlink-*.json"))
	live := 0
	for _, p := range paths {
		if ob, err := readJournal(p); err == nil {
			var o journal
			if json.Unmarshal(ob, &o) == nil && o.PID != pid && o.PID != os.Getpid() && isXferhunt(o.PID) {
				live++
			}
		}
	}
	if err := recoverOne(client, j, live > 0); err != nil {
		return true, err
	}
	_ = os.Remove(journalPath(pid))
	return true, nil
}

func removeJournal() {
	if d, err := journalDir(); err == nil {
		_ = d.Remove(filepath.Base(journalPath(os.Getpid())))
		d.Close()
	}
}

// journalDir opens JournalDir, creating it private: a directory under /run
// that is a link, another user's or open to others is refused.
func journalDir() (*safefile.Dir, error) { return safefile.MkdirAll(JournalDir) }

// maxJournal caps what is read of one journal: a few hundred rules.
const maxJournal = 1 << 20

// readJournal reads one journal file without following links.
func readJournal(path string) ([]byte, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	return io.ReadAll(io.LimitReader(f, maxJournal))
}

// RecoverStale undoes the kernel changes of netlink sources whose process
// is gone without restoring them (killed with SIGKILL, or crashed hard):
// it deletes exactly their rules and puts back what they changed, unless
// someone else has taken over since (another daemon now holds the audit
// pid, or another xferhunt is running). It returns how many journals it
// recovered.
func RecoverStale(client *libaudit.AuditClient) (int, error) {
	paths, _ := filepath.Glob(filepath.Join(JournalDir, "netlink-*.json"))
	var stale []journal
	live := 0
	for _, p := range paths {
		b, err := readJournal(p)
		if err != nil {
			continue
		}
		var j journal
		if json.Unmarshal(b, &j) != nil || j.PID <= 0 {
			_ = os.Remove(p)
			continue
		}
		if j.PID == os.Getpid() {
			continue
		}
		if isXferhunt(j.PID) {
			live++
			continue
		}
		stale = append(stale, j)
	}
	var errs []error
	for _, j := range stale {
		if err := recoverOne(client, j, live > 0); err != nil {
			errs = append(errs, fmt.Errorf("undo what xferhunt pid %d left in kernel audit: %w", j.PID, err))
			continue
		}
		_ = os.Remove(journalPath(j.PID))
	}
	return len(stale), errors.Join(errs...)
}

func recoverOne(client *libaudit.AuditClient, j journal, othersLive bool) error {
	var errs []error
	for i := len(j.Added) - 1; i >= 0; i-- {
		if err := client.DeleteRule(j.Added[i]); err != nil && !errors.Is(err, syscall.ENOENT) &&
			!strings.Contains(err.Error(), "no such file") {
			errs = append(errs, fmt.Errorf("delete audit rule: %w", err))
		}
	}
	if othersLive {
		// Settings are shared: another running xferhunt owns them now,
		// and restores them itself.
		return errors.Join(errs...)
	}
	st, err := client.GetStatus()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	// The dead process held the audit pid; the kernel keeps the number
	// until its next send fails. Give it back to the daemon that had it,
	// if that one still lives, else to nobody.
	ownerGone := st.PID == uint32(j.PID) || (st.PID != 0 && !processAlive(st.PID))
	if j.PIDSet && ownerGone {
		pid := j.Before.PID
		if pid != 0 && !processAlive(pid) {
			pid = 0
		}
		c := &controller{client: client}
		if err := c.setPID(pid); err != nil {
			errs = append(errs, fmt.Errorf("restore audit pid: %w", err))
		}
		st.PID = pid
	}
	// Only when no daemon runs now: one that started meanwhile chose its
	// own backlog and enabled flag.
	if st.PID == 0 || ownerGone {
		if j.WaitTime {
			if err := client.SetBacklogWaitTime(int32(j.Before.BacklogWaitTime), libaudit.WaitForReply); err != nil {
				errs = append(errs, err)
			}
		}
		if j.Backlog {
			if err := client.SetBacklogLimit(j.Before.BacklogLimit, libaudit.WaitForReply); err != nil {
				errs = append(errs, err)
			}
		}
		if j.Enabled && st.PID == 0 {
			if err := client.SetEnabled(false, libaudit.WaitForReply); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// isXferhunt reports whether pid is a live process of this program.
func isXferhunt(pid int) bool {
	if !processAlive(uint32(pid)) {
		return false
	}
	self, err1 := os.Readlink("/proc/self/exe")
	other, err2 := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err1 != nil || err2 != nil {
		// Cannot tell (another user's process): assume it is one, so
		// nothing live is disturbed.
		return true
	}
	return filepath.Base(strings.TrimSuffix(other, " (deleted)")) == filepath.Base(strings.TrimSuffix(self, " (deleted)"))
}
