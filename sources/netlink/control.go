package netlink

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"

	libaudit "github.com/elastic/go-libaudit/v2"
	"github.com/elastic/go-libaudit/v2/rule"
)

// Settings are the kernel audit settings xferhunt may change and must put
// back as it found them.
type Settings struct {
	Enabled         uint32
	PID             uint32
	BacklogLimit    uint32
	BacklogWaitTime uint32
	Lost            uint32
}

// controller owns the kernel-side changes of one netlink source: the rules
// it added and the settings it changed. restore is idempotent and safe to
// call from any goroutine, so signal handlers and deferred cleanups can race.
type controller struct {
	mu       sync.Mutex
	client   *libaudit.AuditClient
	before   Settings
	added    [][]byte // wire format of each rule we added, in order
	enabled  bool     // we switched audit on
	backlog  bool     // we changed backlog_limit
	waitTime bool     // we changed backlog_wait_time
	pidSet   bool     // we registered as the audit daemon
	restored bool
}

// active holds every controller that has changed kernel state and not yet
// restored it, so RestoreAll can clean up on paths that skip Run's defer.
var active = struct {
	sync.Mutex
	set map[*controller]struct{}
}{set: map[*controller]struct{}{}}

// RestoreAll removes the rules of every running netlink source and restores
// the audit settings they changed. main defers it and calls it on a fatal
// path (e.g. before os.Exit); it is idempotent and concurrency-safe.
func RestoreAll() error {
	active.Lock()
	cs := make([]*controller, 0, len(active.set))
	for c := range active.set {
		cs = append(cs, c)
	}
	active.Unlock()
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.restore())
	}
	return errors.Join(errs...)
}

func newController(client *libaudit.AuditClient) (*controller, error) {
	// What a killed xferhunt left behind is undone first, so that "before"
	// is the kernel as the administrator set it. A failure here is not
	// fatal: the source still runs, and the journal stays for next time.
	_, _ = RecoverStale(client)
	st, err := client.GetStatus()
	if err != nil {
		return nil, fmt.Errorf("audit status: %w", err)
	}
	c := &controller{client: client, before: settingsOf(st)}
	active.Lock()
	active.set[c] = struct{}{}
	active.Unlock()
	return c, nil
}

func settingsOf(st *libaudit.AuditStatus) Settings {
	return Settings{Enabled: st.Enabled, PID: st.PID, BacklogLimit: st.BacklogLimit,
		BacklogWaitTime: st.BacklogWaitTime, Lost: st.Lost}
}

// prepare enables audit and, for unicast, raises the backlog and sets the
// backlog wait time to 0. With a wait time, a full backlog makes every audited
// process on the host sleep in the kernel until the reader drains it (auditd's
// default is a minute); with 0 the kernel drops the record and counts it as
// lost, which the watcher reports. A responder's tool must never stall the
// host it is looking at. Multicast leaves the daemon's tuning alone and only
// switches audit on if it is off.
func (c *controller) prepare(unicast bool, backlog uint32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.before.Enabled == 2 {
		return errors.New("kernel audit configuration is immutable (enabled=2); rules cannot be added until reboot")
	}
	if BeforeChange != nil {
		BeforeChange()
	}
	if c.before.Enabled == 0 {
		c.enabled = true
		c.writeJournal()
		if err := c.client.SetEnabled(true, libaudit.WaitForReply); err != nil {
			return fmt.Errorf("enable audit: %w", err)
		}
	}
	if !unicast {
		return nil
	}
	if c.before.BacklogLimit < backlog {
		c.backlog = true
		c.writeJournal()
		if err := c.client.SetBacklogLimit(backlog, libaudit.WaitForReply); err != nil {
			return fmt.Errorf("set backlog limit: %w", err)
		}
	}
	if c.before.BacklogWaitTime != 0 {
		c.waitTime = true
		c.writeJournal()
		if err := c.client.SetBacklogWaitTime(0, libaudit.WaitForReply); err != nil {
			return fmt.Errorf("set backlog wait time: %w", err)
		}
	}
	return nil
}

// BuildRules turns auditctl rule lines into kernel wire format. Lines that
// name a syscall this architecture lacks are skipped and returned as
// warnings, since the canonical set lists both arches' syscalls.
func BuildRules(lines []string) (wires [][]byte, skipped []string, err error) {
	for _, l := range lines {
		r, err := parseRule(l)
		if err != nil {
			return nil, nil, fmt.Errorf("audit rule %q: %w", l, err)
		}
		w, err := rule.Build(r)
		if err != nil {
			if strings.Contains(err.Error(), "unknown syscall") || strings.Contains(err.Error(), "invalid syscall") {
				skipped = append(skipped, fmt.Sprintf("%s: %v", l, err))
				continue
			}
			return nil, nil, fmt.Errorf("audit rule %q: %w", l, err)
		}
		wires = append(wires, w)
	}
	return wires, skipped, nil
}

// install adds each rule; a rule the kernel already holds (another daemon
// loaded the same line) is not ours and is left out of the cleanup list.
func (c *controller) install(wires [][]byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.restored {
		return errors.New("audit rules already restored")
	}
	for _, w := range wires {
		if err := c.client.AddRule(w); err != nil {
			if err.Error() == "rule exists" {
				continue
			}
			return fmt.Errorf("add audit rule: %w", err)
		}
		c.added = append(c.added, w)
	}
	c.writeJournal()
	return nil
}

// markPID records that the reader socket registered as the audit daemon.
func (c *controller) markPID() {
	c.mu.Lock()
	c.pidSet = true
	c.writeJournal()
	c.mu.Unlock()
}

// restore removes exactly the rules we added and puts back each setting we
// changed. It keeps going after an error so one failure does not leave the
// rest in place.
func (c *controller) restore() error {
	// Another instance may be choosing its mode from the settings we are
	// about to put back; wait for it. Restoring without the lock beats not
	// restoring.
	if unlock, err := lockHost(); err == nil {
		defer unlock()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.restored {
		return nil
	}
	c.restored = true
	defer func() {
		active.Lock()
		delete(active.set, c)
		active.Unlock()
	}()
	var errs []error
	for i := len(c.added) - 1; i >= 0; i-- {
		if err := c.client.DeleteRule(c.added[i]); err != nil && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("delete audit rule: %w", err))
		}
	}
	c.added = nil
	if c.pidSet {
		// A stale PID of a dead daemon is not worth restoring: the kernel
		// drops it on the next send anyway, so a live value wins.
		pid := c.before.PID
		if pid != 0 && !processAlive(pid) {
			pid = 0
		}
		if err := c.setPID(pid); err != nil {
			errs = append(errs, fmt.Errorf("restore audit pid: %w", err))
		}
	}
	if c.waitTime {
		if err := c.client.SetBacklogWaitTime(int32(c.before.BacklogWaitTime), libaudit.WaitForReply); err != nil {
			errs = append(errs, fmt.Errorf("restore backlog wait time: %w", err))
		}
	}
	if c.backlog {
		if err := c.client.SetBacklogLimit(c.before.BacklogLimit, libaudit.WaitForReply); err != nil {
			errs = append(errs, fmt.Errorf("restore backlog limit: %w", err))
		}
	}
	if c.enabled {
		if err := c.client.SetEnabled(false, libaudit.WaitForReply); err != nil {
			errs = append(errs, fmt.Errorf("restore audit enabled flag: %w", err))
		}
	}
	if len(errs) == 0 {
		removeJournal()
	}
	return errors.Join(errs...)
}

// setPID sets the audit daemon PID to an arbitrary value, which go-libaudit
// can only do for the calling process.
func (c *controller) setPID(pid uint32) error {
	st := libaudit.AuditStatus{Mask: libaudit.AuditStatusPID, PID: pid}
	data := make([]byte, 0, 44)
	for _, v := range []uint32{uint32(st.Mask), st.Enabled, st.Failure, st.PID, st.RateLimit,
		st.BacklogLimit, st.Lost, st.Backlog, st.FeatureBitmap, st.BacklogWaitTime, st.BacklogWaitTimeActual} {
		data = nativeAppend(data, v)
	}
	seq, err := c.client.Netlink.Send(syscall.NetlinkMessage{
		Header: syscall.NlMsghdr{Type: libaudit.AuditSet, Flags: syscall.NLM_F_REQUEST | syscall.NLM_F_ACK},
		Data:   data,
	})
	if err != nil {
		return err
	}
	return c.waitAck(seq)
}

// waitAck reads replies on the control socket until the one for seq.
func (c *controller) waitAck(seq uint32) error {
	for range 50 {
		msgs, err := c.client.Netlink.Receive(false, parseAudit)
		if err != nil {
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
				continue
			}
			return err
		}
		m := msgs[0]
		if m.Header.Seq != seq {
			continue
		}
		if m.Header.Type == syscall.NLMSG_ERROR {
			return libaudit.ParseNetlinkError(m.Data)
		}
		return nil
	}
	return errors.New("no reply from kernel audit")
}

func processAlive(pid uint32) bool {
	err := syscall.Kill(int(pid), 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
