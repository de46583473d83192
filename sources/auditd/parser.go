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
	// Follow says the log is read as it is written (a tailed file): the
	// parser then tracks the syscall events still being written, for
	// Awaiting. Off, Line pays nothing for it.
	Follow bool
	// Sparse, when set, makes the document of a file event no query
	// matches only the fields the consumer reads (sources.Sparse): most
	// events of a scan, whose whole documents were most of its
	// allocation.
	Sparse *sources.Sparse
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
	scratchSys     sysRec // a SYSCALL record Line reads, until it is kept
	scratchRaw     []byte // seeProcess's comm and exe, before they become one string
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

	open openEvents // with Options.Follow: events being written, see Awaiting
}

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
	if p.opt.Follow {
		p.open.see(line)
	}
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
	p.record(line, &h, kindOf(h.typ), nil, nil, nil)
}

// trimEOL drops the line's trailing newline and carriage returns.
func trimEOL(line []byte) []byte {
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	return line
}

// record handles one audit record whose header is already split. hd and
// usr, when not nil, are the SYSCALL record's head (and sys the whole
// record, if kept) or the user-space fields read ahead (by Scan's
// splitters) from this very line; nil reads them here.
func (p *Parser) record(line []byte, h *header, k recKind, hd *sysHead, sys *sysRec, usr *userVals) {
	if len(h.node) > 0 && !p.isNode {
		p.forNode(h.node).record(line, h, k, hd, sys, usr)
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
		p.userRecord(k, h, usr)
		p.expire(h.sec)
	case rkSyscall, rkCwd, rkPath, rkProctitle, rkExecve, rkSockaddr:
		p.eventRecord(k, h, line, hd, sys)
	default:
		p.expire(h.sec)
	}
}

// Flush finishes every open event (end of input), every node's too.
func (p *Parser) Flush() {
	p.open.reset()
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

// emit hands a planned event to Scan's builder or to Emit, counting it.
func (p *Parser) emit(fe *fileEvent) {
	if fe.context {
		p.st.Context++
	} else {
		p.st.Events++
	}
	if p.out != nil {
		p.out(fe)
	} else if p.opt.Emit != nil {
		p.opt.Emit(sources.Event{Doc: fe.doc(p.bx), Key: fe.key, Context: fe.context})
	}
}
