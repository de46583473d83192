// Package auditd turns auditd's text log (RAW and ENRICHED) into normalized
// file events (SPEC §3) and attributes them to a login session, a PAM
// conversation or an accepted connection from the records alone (SPEC §4).
//
// The parser works on bytes: it finds the record type, timestamp and serial
// of every line, and fully reads only the records of events that can produce
// an output or feed attribution. It never calls a general-purpose audit
// parser (go-libaudit's auparse costs several times more per line).
//
// Records are grouped by msg=audit(SEC.MSEC:SERIAL). An event ends at its
// EOE record or, for logs without EOE (auditd 3 writes none for most
// events), when maxPending newer events have opened or the log has moved
// graceSec past it; records arriving after that are counted as Gaps.
package auditd

import (
	"slices"

	"github.com/xferhunt/xferhunt/sources"
)

// Stats counts what the parser saw. It is the shared sources.Stats so that
// every recorded-file scanner reports the same counters.
type Stats = sources.Stats

// Options configures a Parser or a Scan.
type Options struct {
	HostID, HostName string
	// Emit receives each normalized event, in log order. Parser.Line calls
	// it on the caller's goroutine; Scan with two workers calls it from
	// the goroutine that builds documents, never concurrently. Documents
	// may share immutable values (argument lists, boxed strings): replace
	// a field rather than modifying a slice inside a Doc. Scan's documents
	// also share whole sub-objects (user, group, parent, ancestors,
	// session) with one another: copy a document before modifying it.
	Emit func(ev sources.Event)
	// Workers bounds the goroutines Scan uses: 1 does everything on the
	// caller's goroutine; 0 (GOMAXPROCS) or more pipelines the scan on
	// three (read and split, parse and attribute, build and emit).
	Workers int
	// Story also emits the events a story needs besides file events:
	// execs, connects and accepts, attribute changes, logins and logouts.
	// They are marked sources.Event.Context: detection never sees them,
	// so a rule's output is the same with or without.
	Story bool
}

// Bounds of the attribution tables (entries). Each is a two-generation map,
// so memory stays flat however long the log is.
const (
	maxProcs    = 32768
	maxSessions = 4096
	maxPAM      = 4096
	maxAccepts  = 4096
	// maxPending is how many open events may wait for their last record;
	// beyond it the oldest is finished as is (logs without EOE records end
	// events this way). auditd rarely interleaves more than a few events.
	maxPending = 8
	// graceSec finishes an open event once the log has moved two seconds
	// past the moment it opened. The log's clock is the newest record time
	// seen: a blocking syscall (accept) is stamped at entry, seconds before
	// it is logged, so its own time says nothing about its completeness.
	graceSec = 2
)

type recKind uint8

const (
	rkOther recKind = iota
	rkSyscall
	rkCwd
	rkPath
	rkProctitle
	rkExecve
	rkSockaddr
	rkEOE
	rkUserStart // USER_START: a session opens (its records attribute)
	rkUserLogin // USER_LOGIN: a session record too, not its opening
	rkLogin     // LOGIN: the kernel assigns a session id (a new session)
	rkCredAcq   // CRED_ACQ: both session and PAM-by-pid
	rkPAM       // USER_AUTH, USER_ACCT
	rkUserEnd   // USER_END: a login session closes
)

func kindOf(t []byte) recKind {
	switch string(t) {
	case "SYSCALL":
		return rkSyscall
	case "CWD":
		return rkCwd
	case "PATH":
		return rkPath
	case "PROCTITLE":
		return rkProctitle
	case "EXECVE":
		return rkExecve
	case "SOCKADDR":
		return rkSockaddr
	case "EOE":
		return rkEOE
	case "USER_START":
		return rkUserStart
	case "USER_LOGIN":
		return rkUserLogin
	case "LOGIN":
		return rkLogin
	case "CRED_ACQ":
		return rkCredAcq
	case "USER_AUTH", "USER_ACCT":
		return rkPAM
	case "USER_END":
		return rkUserEnd
	}
	return rkOther
}

// rec is one record of an event: its line, copied into the event's buffer
// or, while borrowed, still in the caller's read block.
type rec struct {
	kind         recKind
	borrowed     bool   // line is in the caller's read block, see Parser.borrow
	line         []byte // the whole line, ENRICHED part included
	body, rawEnd int    // offsets in line: body start, end of the RAW part
}

func (r *rec) raw() []byte  { return r.line[:r.rawEnd] }
func (r *rec) text() []byte { return r.line[r.body:r.rawEnd] }

// enriched is the ENRICHED part of the line, nil in RAW logs.
func (r *rec) enriched() []byte {
	if len(r.line) > r.rawEnd {
		return r.line[r.rawEnd+1:]
	}
	return nil
}

// event is an audit event being assembled from its records.
type event struct {
	sec, msec int64
	serial    uint64
	opened    int64  // the log's clock (newest second seen) when it opened
	buf       []byte // copies of the records' lines
	recs      []rec
	sys       sysRec
	sysIdx    int // the record sys was read from
	hasSys    bool
	ignore    bool // nothing to emit or learn: drop further records
	done      bool // EOE seen
}

// Parser groups records into events, keeps attribution tables and emits
// normalized events. It is not safe for concurrent use. The tables are
// bounded (see maxProcs and friends), so memory stays flat on endless
// input. A live caller that feeds whole events should call Flush when the
// input goes idle, or the last events wait for newer records.
type Parser struct {
	opt Options
	st  Stats
	// out, when set, receives planned events instead of Emit; Scan uses it
	// to build documents on another goroutine.
	out func(*fileEvent)
	// borrow says the lines given to record stay valid until detach is
	// called (Scan's read blocks), so events keep them without copying.
	borrow  bool
	bx      *boxes
	pending []*event
	free    []*event
	ignored [16]uint64 // serials of recently dropped events
	ignIdx  int
	// finished holds serials of recently finished events: a record that
	// arrives for one of them came too late (a reassembly gap).
	finished [16]uint64
	finIdx   int
	now      int64 // newest record second seen

	// Scratch slices reused by finish, so that the common case allocates
	// only what leaves the parser.
	scratchItems   []pathItem
	scratchTargets []fileTarget
	scratchChain   []int
	scratchPids    []int
	scratchExec    []byte
	strs           interner
	argvs          argLists

	procs    *table[int, *procEntry]
	sessions *table[uint32, *sessEntry]
	pam      *table[int, *pamEntry]
	accepts  *table[int, acceptEntry]
	conns    *table[int, acceptEntry] // forked child → the connection it serves
	forked   *table[int, uint64]      // forked child → serial of its fork record
	dirs     *table[dirKey, string]   // directory (device, inode) → path, for names relative to a dirfd
	recent   [64]acceptEntry          // newest accepts from any pid, for IP matching
	recentN  int

	// nodes holds one parser per node= name (see forNode): records of
	// different hosts never share an event or an attribution table.
	nodes   map[string]*nodeParser
	useTick uint64
	isNode  bool // this is a node's parser: records are its own
}

// nodeParser is the parser of one node of a multi-host log and when it
// was last used (for eviction).
type nodeParser struct {
	p    *Parser
	used uint64
}

// maxNodes bounds the per-node parsers: a hostile log naming a new node on
// every line must not grow memory without limit. Beyond it the parser
// least recently used is flushed (its open events emitted) and forgotten.
const maxNodes = 256

// NewParser returns a parser that emits through opt.Emit.
func NewParser(opt Options) *Parser {
	return &Parser{
		opt:      opt,
		bx:       newBoxes(),
		procs:    newTable[int, *procEntry](maxProcs),
		sessions: newTable[uint32, *sessEntry](maxSessions),
		pam:      newTable[int, *pamEntry](maxPAM),
		accepts:  newTable[int, acceptEntry](maxAccepts),
		conns:    newTable[int, acceptEntry](maxAccepts),
		forked:   newTable[int, uint64](maxAccepts),
		dirs:     newTable[dirKey, string](maxDirs),
	}
}

// Stats returns the counters so far, the per-node parsers' included.
func (p *Parser) Stats() Stats {
	st := p.st
	for _, n := range p.nodes {
		st.Add(n.p.st)
	}
	return st
}

// forNode returns the parser of the host a node= prefix names. auditd's
// name_format writes node=NAME on every record when logs of several hosts
// are gathered in one file; their (time:serial) pairs are independent, so
// grouping by serial alone merged events of different hosts, and their
// pids and sessions collide too. Each node therefore gets a parser of its
// own, sharing the output, whose events carry host.name and host.id NAME:
// the text log carries no other host identity, and the scanning host's
// machine id would make every node one host for new_terms.
func (p *Parser) forNode(node []byte) *Parser {
	p.useTick++
	if n := p.nodes[string(node)]; n != nil {
		n.used = p.useTick
		return n.p
	}
	if p.nodes == nil {
		p.nodes = map[string]*nodeParser{}
	}
	if len(p.nodes) >= maxNodes {
		var oldest string
		var at uint64
		for name, n := range p.nodes {
			if oldest == "" || n.used < at {
				oldest, at = name, n.used
			}
		}
		n := p.nodes[oldest]
		n.p.Flush()
		p.st.Add(n.p.st) // its counts stay in the totals
		delete(p.nodes, oldest)
	}
	name := string(node)
	opt := p.opt
	opt.HostName, opt.HostID = name, name
	q := NewParser(opt)
	q.out, q.borrow, q.bx, q.isNode = p.out, p.borrow, p.bx, true
	p.nodes[name] = &nodeParser{p: q, used: p.useTick}
	return q
}

// Line feeds one log line, with or without its trailing newline. Lines that
// are not audit records are counted as malformed and skipped.
func (p *Parser) Line(line []byte) {
	p.st.Lines++
	line = trimEOL(line)
	if len(line) == 0 {
		return
	}
	h, ok := parseHeader(line)
	if !ok {
		p.st.Malformed++
		return
	}
	p.record(line, &h, kindOf(h.typ), nil)
}

// trimEOL drops the line's trailing newline and carriage returns.
func trimEOL(line []byte) []byte {
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	return line
}

// record handles one audit record whose header is already split. sys, when
// not nil, is the SYSCALL body parsed ahead (by Scan's reading goroutine)
// from this very line; nil parses it here.
func (p *Parser) record(line []byte, h *header, k recKind, sys *sysRec) {
	if len(h.node) > 0 && !p.isNode {
		p.forNode(h.node).record(line, h, k, sys)
		return
	}
	p.st.Records++
	switch k {
	case rkEOE:
		if ev := p.find(h); ev != nil {
			ev.done = true
			p.drain()
		}
	case rkUserStart, rkUserLogin, rkLogin, rkCredAcq, rkPAM, rkUserEnd:
		p.userRecord(k, h)
		p.expire(h.sec)
	case rkSyscall, rkCwd, rkPath, rkProctitle, rkExecve, rkSockaddr:
		p.eventRecord(k, h, line, sys)
	default:
		p.expire(h.sec)
	}
}

// Flush finishes every open event (end of input), every node's too.
func (p *Parser) Flush() {
	for len(p.pending) > 0 {
		p.finishHead()
	}
	// In name order, so the output of a multi-host log is reproducible.
	names := make([]string, 0, len(p.nodes))
	for name := range p.nodes {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p.nodes[name].p.Flush()
	}
}

func (p *Parser) find(h *header) *event {
	for i := len(p.pending) - 1; i >= 0; i-- {
		ev := p.pending[i]
		if ev.serial == h.serial && ev.sec == h.sec {
			return ev
		}
	}
	return nil
}

func (p *Parser) wasIgnored(serial uint64) bool {
	for _, s := range p.ignored {
		if s == serial && s != 0 {
			return true
		}
	}
	return false
}

func (p *Parser) wasFinished(serial uint64) bool {
	for _, s := range p.finished {
		if s == serial && s != 0 {
			return true
		}
	}
	return false
}

func (p *Parser) eventRecord(k recKind, h *header, line []byte, sys *sysRec) {
	ev := p.find(h)
	if ev == nil {
		if p.wasIgnored(h.serial) {
			return
		}
		if p.wasFinished(h.serial) {
			p.st.Gaps++
			return
		}
		p.expire(h.sec)
		for len(p.pending) >= maxPending {
			p.finishHead()
		}
		ev = p.alloc()
		ev.sec, ev.msec, ev.serial = h.sec, h.msec, h.serial
		ev.opened = max(p.now, h.sec)
		p.pending = append(p.pending, ev)
	}
	if ev.ignore {
		return
	}
	r := rec{kind: k, rawEnd: len(h.raw)}
	r.body = r.rawEnd - len(h.body)
	if p.borrow {
		r.line, r.borrowed = line, true
	} else {
		r.line = ev.keep(line)
	}
	if k == rkSyscall {
		ev.hasSys, ev.sysIdx = true, len(ev.recs)
		if sys != nil {
			ev.sys = *sys
			ev.sys.rebase(line, r.line)
		} else {
			ev.sys.parse(r.text())
		}
		ev.sys.enriched = r.enriched()
		p.seeProcess(&ev.sys, h.sec)
		if !ev.sys.interesting(p.opt.Story) {
			ev.ignore, ev.done = true, true
			p.ignored[p.ignIdx] = ev.serial
			p.ignIdx = (p.ignIdx + 1) % len(p.ignored)
			ev.buf, ev.recs = ev.buf[:0], ev.recs[:0]
			p.drain()
			return
		}
	}
	ev.recs = append(ev.recs, r)
}

// keep copies a line into the event's buffer. A buffer that grows leaves
// the lines kept before in the old array, which stays valid: lines are
// never modified.
func (ev *event) keep(line []byte) []byte {
	start := len(ev.buf)
	ev.buf = append(ev.buf, line...)
	return ev.buf[start:len(ev.buf):len(ev.buf)]
}

// detach copies the lines that open events borrow from the caller's read
// block into their own buffers, so that the block can be reused. Scan
// calls it after each block: most events finish within their block, so
// most lines are never copied.
func (p *Parser) detach() {
	for _, n := range p.nodes {
		n.p.detach()
	}
	for _, ev := range p.pending {
		for i := range ev.recs {
			r := &ev.recs[i]
			if !r.borrowed {
				continue
			}
			line := ev.keep(r.line)
			if ev.hasSys && i == ev.sysIdx {
				ev.sys.rebase(r.line, line)
			}
			r.line, r.borrowed = line, false
		}
	}
}

// expire finishes open events the log has left graceSec behind.
func (p *Parser) expire(sec int64) {
	if sec > p.now {
		p.now = sec
	}
	for len(p.pending) > 0 && p.pending[0].opened+graceSec < p.now {
		p.finishHead()
	}
}

// drain emits finished events at the head, keeping log order.
func (p *Parser) drain() {
	for len(p.pending) > 0 && p.pending[0].done {
		p.finishHead()
	}
}

func (p *Parser) finishHead() {
	ev := p.pending[0]
	copy(p.pending, p.pending[1:])
	p.pending[len(p.pending)-1] = nil
	p.pending = p.pending[:len(p.pending)-1]
	if !ev.ignore {
		p.finished[p.finIdx] = ev.serial
		p.finIdx = (p.finIdx + 1) % len(p.finished)
		p.finish(ev)
	}
	p.release(ev)
}

func (p *Parser) alloc() *event {
	if n := len(p.free); n > 0 {
		ev := p.free[n-1]
		p.free = p.free[:n-1]
		return ev
	}
	return &event{buf: make([]byte, 0, 4096)}
}

func (p *Parser) release(ev *event) {
	buf, recs := ev.buf[:0], ev.recs[:0]
	if cap(buf) > 1<<20 {
		buf = nil // one huge EXECVE must not pin memory forever
	}
	*ev = event{buf: buf, recs: recs}
	p.free = append(p.free, ev)
}
