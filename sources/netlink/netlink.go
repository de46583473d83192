// Package netlink reads kernel audit records over netlink, as the audit
// daemon (unicast) or beside one (multicast), installs xferhunt's tagged
// rules and puts the kernel back as it found it on every exit path.
package netlink

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	libaudit "github.com/elastic/go-libaudit/v2"
	"github.com/elastic/go-libaudit/v2/auparse"

	"github.com/xferhunt/xferhunt/sources"
)

// Mode selects how the source attaches to kernel audit.
type Mode int

const (
	// Auto picks Multicast when a live audit daemon holds the audit PID,
	// Unicast otherwise.
	Auto Mode = iota
	// Unicast registers xferhunt as the audit daemon.
	Unicast
	// Multicast reads the read-only log group beside a running daemon.
	Multicast
)

// String names the mode as in --source netlink:MODE.
func (m Mode) String() string {
	switch m {
	case Unicast:
		return "unicast"
	case Multicast:
		return "multicast"
	}
	return "auto"
}

// LineParser turns auditd text lines into events; sources/auditd's Parser
// satisfies it. The netlink source rebuilds each kernel record as the line
// auditd would have logged so every input shares one normalization path.
type LineParser interface {
	Line(line []byte)
	Flush()
}

// Options configure a netlink source.
type Options struct {
	Mode Mode
	// Rules are auditctl rule lines; every one must carry the xferhunt key.
	Rules []string
	// NewParser builds the parser fed with rebuilt record lines; its emit
	// callback receives normalized events.
	NewParser func(emit func(sources.Event)) LineParser
	// BacklogLimit is the minimum kernel backlog in unicast mode (default
	// 16384): room for a burst while the reader catches up.
	BacklogLimit uint32
	// LossFlagFor is how long after a loss the events carry xferhunt.loss
	// (default 2s).
	LossFlagFor time.Duration
	// PollEvery is how often the kernel's audit status is read for lost
	// records and for a feed that stopped (default 250ms).
	PollEvery time.Duration
	// Refresh, when set, is asked every RefreshEvery (default 30s) for the
	// rule lines that should be installed now; lines not yet installed are
	// added. Narrow coverage uses it to cover a transfer program installed
	// after the start.
	Refresh      func() []string
	RefreshEvery time.Duration
}

// Source is the netlink audit source.
type Source struct {
	opt Options

	mu     sync.Mutex
	health sources.Health
	// errAt is when a transient error (a receive buffer overflow) was
	// last seen; the watcher clears it once quiet for errQuiet.
	errAt     time.Time
	transient bool
	mode      Mode
	ready     chan struct{}
	once      sync.Once
	// lossUntil (Unix ns) flags the events read before it with
	// xferhunt.loss: set by the reader and by the status watcher.
	lossUntil atomic.Int64
}

// New returns a netlink source; nothing touches the kernel until Run.
func New(opt Options) *Source {
	if opt.BacklogLimit == 0 {
		opt.BacklogLimit = 16384
	}
	if opt.LossFlagFor == 0 {
		opt.LossFlagFor = 2 * time.Second
	}
	if opt.PollEvery == 0 {
		opt.PollEvery = 250 * time.Millisecond
	}
	if opt.RefreshEvery == 0 {
		opt.RefreshEvery = 30 * time.Second
	}
	return &Source{opt: opt, mode: opt.Mode, ready: make(chan struct{}),
		health: sources.Health{Name: "netlink:" + opt.Mode.String()}}
}

// Name reports the source and, once Run has chosen, its mode.
func (s *Source) Name() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.health.Name
}

// Mode reports the attach mode; Auto until Run has chosen.
func (s *Source) Mode() Mode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode
}

// Ready is closed once the rules are installed and records flow.
func (s *Source) Ready() <-chan struct{} { return s.ready }

// Health returns a snapshot of the counters.
func (s *Source) Health() sources.Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.health
}

func (s *Source) update(f func(h *sources.Health)) {
	s.mu.Lock()
	f(&s.health)
	s.mu.Unlock()
}

// markLoss flags the events of the next LossFlagFor as read around a loss.
func (s *Source) markLoss() {
	s.lossUntil.Store(time.Now().Add(s.opt.LossFlagFor).UnixNano())
}

// Available reports whether kernel audit can be driven from here: root
// (CAP_AUDIT_CONTROL), a kernel with audit, rules not locked. It changes
// nothing.
func Available() error {
	st, err := Status()
	if err != nil {
		return err
	}
	if st.Enabled == 2 {
		return errors.New("kernel audit configuration is immutable (enabled=2)")
	}
	return nil
}

// Status reads the kernel's audit settings on a socket of its own, whose
// reads time out. It changes nothing.
func Status() (Settings, error) {
	sock, err := newSocket(0, 0)
	if err != nil {
		return Settings{}, err
	}
	defer sock.Close()
	st, err := (&libaudit.AuditClient{Netlink: sock}).GetStatus()
	if err != nil {
		return Settings{}, fmt.Errorf("kernel audit status: %w", err)
	}
	return settingsOf(st), nil
}

// DaemonPID returns the PID of a live audit daemon holding the audit
// socket, or 0.
func DaemonPID() (uint32, error) {
	st, err := Status()
	if err != nil {
		return 0, err
	}
	return liveDaemon(st.PID), nil
}

// liveDaemon returns pid when it is a live audit daemon other than this
// process, else 0: the kernel keeps a dead daemon's pid until its next send
// fails.
func liveDaemon(pid uint32) uint32 {
	if pid == 0 || pid == uint32(os.Getpid()) || !processAlive(pid) {
		return 0
	}
	return pid
}

// recvBuffer is the reader socket's receive buffer: a burst the reader has
// not yet drained waits here instead of in the kernel's backlog.
const recvBuffer = 32 << 20

// Run attaches to kernel audit, installs the rules and emits events until
// ctx ends. Whatever way it returns — including a panic in emit — the
// kernel's rules and settings are restored before it does. When the feed
// stops under it (the unicast daemon it read beside left, audit was
// switched off, its own registration was taken), it says so in Health,
// puts back what it changed and attaches again.
func (s *Source) Run(ctx context.Context, emit func([]sources.Event)) error {
	if s.opt.NewParser == nil {
		return errors.New("netlink source: no parser configured")
	}
	wires, _, err := BuildRules(s.opt.Rules)
	if err != nil {
		return err
	}
	if len(wires) == 0 {
		return errors.New("netlink source: no audit rule to install (no transfer program found for narrow coverage? try --coverage broad)")
	}
	for {
		err := s.attach(ctx, wires, emit)
		var fl *feedLost
		if !errors.As(err, &fl) || ctx.Err() != nil {
			return err
		}
		s.update(func(h *sources.Health) {
			h.Live = false
			h.Err = fl.Error() + "; attaching again"
		})
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// feedLost ends one attachment: the records stopped coming for a reason the
// status watcher saw.
type feedLost struct{ why string }

func (f *feedLost) Error() string { return "audit feed stopped: " + f.why }

// attach is one attachment: set up under the host lock, read until ctx ends
// or the feed stops, restore.
func (s *Source) attach(ctx context.Context, wires [][]byte, emit func([]sources.Event)) (err error) {
	ctlSock, err := newSocket(0, 0)
	if err != nil {
		return err
	}
	defer ctlSock.Close()
	unlock, err := lockHost()
	if err != nil {
		return err
	}
	defer unlock()
	ctl, err := newController(&libaudit.AuditClient{Netlink: ctlSock})
	if err != nil {
		return err
	}
	var (
		recvSock *socket
		printed  *printedLog
	)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("netlink source panic: %v", r)
		}
		unlock() // restore takes the lock itself
		if rerr := ctl.restore(); rerr != nil {
			err = errors.Join(err, rerr)
		}
		s.countPrinted(printed)
		if recvSock != nil {
			recvSock.Close()
		}
		var fl *feedLost
		if err != nil && !errors.As(err, &fl) {
			s.update(func(h *sources.Health) { h.Live = false; h.Err = err.Error() })
		}
	}()

	mode := s.opt.Mode
	daemon := liveDaemon(ctl.before.PID)
	if mode == Auto {
		mode = Unicast
		if daemon != 0 {
			mode = Multicast
		}
	}
	if mode == Unicast && daemon != 0 {
		return fmt.Errorf("netlink unicast: audit daemon pid %d holds the audit socket; use netlink:multicast", daemon)
	}
	s.mu.Lock()
	s.mode = mode
	s.health.Name = "netlink:" + mode.String()
	s.mu.Unlock()

	if err := ctl.prepare(mode == Unicast, s.opt.BacklogLimit); err != nil {
		return err
	}
	owner := daemon
	if mode == Unicast {
		if recvSock, err = newSocket(0, recvBuffer); err != nil {
			return err
		}
		ctl.markPID()
		// Opened before registering, positioned at the log's end, counting
		// from now: what the kernel prints from here on instead of
		// delivering is our loss.
		printed = openPrintedLog(time.Now())
		if err := (&libaudit.AuditClient{Netlink: recvSock}).SetPID(libaudit.WaitForReply); err != nil {
			return fmt.Errorf("register as audit daemon: %w", err)
		}
		owner = uint32(os.Getpid())
	} else {
		if recvSock, err = newSocket(libaudit.NetlinkGroupReadLog, recvBuffer); err != nil {
			return fmt.Errorf("join audit multicast group: %w", err)
		}
	}
	if err := ctl.install(wires); err != nil {
		return err
	}
	unlock()
	pollSock, err := newSocket(0, 0)
	if err != nil {
		return err
	}
	defer pollSock.Close()
	poll := &libaudit.AuditClient{Netlink: pollSock}
	status := func() (Settings, error) {
		st, err := poll.GetStatus()
		if err != nil {
			return Settings{}, err
		}
		return settingsOf(st), nil
	}

	s.update(func(h *sources.Health) { h.Live = true; h.Err = "" })
	s.once.Do(func() { close(s.ready) })

	// The status watcher runs beside the reader, never on its goroutine: a
	// request to kernel audit can wait in the kernel while the backlog is
	// full, and a reader waiting there drains nothing.
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watched := make(chan struct{}, 2)
	go func() {
		defer func() { watched <- struct{}{} }()
		s.watch(rctx, cancel, status, watchFor{lost: ctl.before.Lost, owner: owner, printed: printed})
	}()
	go func() {
		defer func() { watched <- struct{}{} }()
		s.refresh(rctx, ctl, wires)
	}()
	err = s.read(rctx, recvSock, emit)
	cancel(nil)
	<-watched
	<-watched
	var fl *feedLost
	if cause := context.Cause(rctx); errors.As(cause, &fl) && err == nil {
		return fl
	}
	return err
}

// read is the receive loop: one record per datagram, reassembled into
// events, rebuilt as text lines for the parser.
func (s *Source) read(ctx context.Context, sock libaudit.NetlinkReceiver, emit func([]sources.Event)) error {
	var pending []sources.Event
	parser := s.opt.NewParser(func(ev sources.Event) { pending = append(pending, ev) })
	// flush runs after the reassembler's callbacks for one record, so an
	// event that revealed a gap is flagged along with those after it.
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if time.Now().UnixNano() < s.lossUntil.Load() {
			for _, ev := range pending {
				if ev.Doc != nil {
					ev.Doc.Set("xferhunt.loss", true)
				}
			}
		}
		batch := pending
		pending = nil
		s.update(func(h *sources.Health) { h.Events += sources.FileEvents(batch) })
		emit(batch)
	}
	var line []byte
	feed := func(m *auparse.AuditMessage) {
		line = append(line[:0], "type="...)
		line = append(line, m.RecordType.String()...)
		line = append(line, " msg="...)
		line = append(line, m.RawData...)
		parser.Line(line)
	}
	stream := &streamFunc{
		complete: func(msgs []*auparse.AuditMessage) {
			for _, m := range msgs {
				feed(m)
			}
			parser.Flush()
		},
		lost: func(n int) {
			// go-libaudit computes the gap in uint32: a late record of an
			// event it already handed on (a split, not a loss) comes out
			// as 2^32-1 or 2^32-2. Count it as one gap, flag nothing.
			if n <= 0 || n >= 1<<31-1 {
				s.update(func(h *sources.Health) { h.Gaps++ })
				return
			}
			s.markLoss()
			s.update(func(h *sources.Health) { h.Gaps += uint64(n) })
		},
	}
	// Kernel events end with an EOE record; the timeout only bounds how
	// long a record without one delays the events queued behind it.
	reasm, err := libaudit.NewReassembler(64, 250*time.Millisecond, stream)
	if err != nil {
		return err
	}
	// Not deferred: after a panic in emit, nothing more is handed to the
	// consumer; Run's recover restores the kernel.
	err = s.loop(ctx, sock, reasm, flush)
	reasm.Close()
	parser.Flush()
	flush()
	return err
}

// loop receives until ctx ends or the socket fails. It sends nothing to the
// kernel: a request could wait in the kernel's backlog wait while the queue
// it should be draining is full.
func (s *Source) loop(ctx context.Context, sock libaudit.NetlinkReceiver, reasm *libaudit.Reassembler, flush func()) error {
	var one [1]syscall.NetlinkMessage
	parse := func(buf []byte) ([]syscall.NetlinkMessage, error) {
		m, err := parseOne(buf)
		if err != nil {
			return nil, err
		}
		one[0] = m
		return one[:], nil
	}
	// handle feeds one received datagram to the reassembler. It returns
	// false when err ends the loop.
	var fatal error
	handle := func(msgs []syscall.NetlinkMessage, err error, now time.Time) bool {
		if err != nil {
			switch {
			case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
				return true
			case errors.Is(err, syscall.ENOBUFS):
				// Our socket overflowed: records are gone without a
				// kernel lost count (at least one each time), so flag and
				// count them ourselves. The error clears once quiet.
				s.markLoss()
				s.mu.Lock()
				s.health.Lost++
				s.health.Overruns++
				s.health.Err = "netlink receive buffer overflow: records lost"
				s.errAt, s.transient = now, true
				s.mu.Unlock()
				return true
			}
			fatal = fmt.Errorf("netlink receive: %w", err)
			return false
		}
		m := msgs[0]
		typ := auparse.AuditMessageType(m.Header.Type)
		if typ < auparse.AUDIT_USER_AUTH {
			return true // control replies, not records
		}
		am, perr := auparse.Parse(typ, string(m.Data))
		if perr != nil {
			s.update(func(h *sources.Health) { h.Records++; h.Malformed++ })
			return true
		}
		lag := now.Sub(am.Timestamp)
		s.update(func(h *sources.Health) { h.Records++; h.Lag = lag })
		reasm.PushMessage(am)
		if standalone(typ) {
			// Userspace records (PAM, logins) never get an EOE; closing them
			// at once keeps them from holding back the events behind them.
			reasm.PushMessage(&auparse.AuditMessage{RecordType: auparse.AUDIT_EOE, Sequence: am.Sequence})
		}
		flush()
		return true
	}
	lastMaintain := time.Now()
	for ctx.Err() == nil {
		msgs, err := sock.Receive(false, parse)
		now := time.Now()
		if !handle(msgs, err, now) {
			return fatal
		}
		if now.Sub(lastMaintain) >= 100*time.Millisecond {
			// Read what is already queued before expiring incomplete
			// events: after a stall, the rest of an event may be waiting
			// in the socket, and expiring first would split it.
			// Bounded, so a socket that never drains cannot postpone expiry
			// forever.
			for range 4096 {
				msgs, err := sock.Receive(true, parse)
				if errors.Is(err, syscall.EAGAIN) {
					break
				}
				if !handle(msgs, err, time.Now()) {
					return fatal
				}
			}
			lastMaintain = time.Now()
			reasm.Maintain()
			flush()
		}
	}
	return nil
}

// standalone reports record types userspace sends one at a time.
func standalone(t auparse.AuditMessageType) bool {
	return t >= 1100 && t < 1300 || t >= 2100 && t < 3000
}

// streamFunc adapts two funcs to go-libaudit's reassembler Stream.
type streamFunc struct {
	complete func([]*auparse.AuditMessage)
	lost     func(int)
}

// ReassemblyComplete receives one whole event.
func (f *streamFunc) ReassemblyComplete(msgs []*auparse.AuditMessage) { f.complete(msgs) }

// EventsLost receives the size of a sequence gap.
func (f *streamFunc) EventsLost(n int) { f.lost(n) }
