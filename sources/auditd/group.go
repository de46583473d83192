package auditd

// Event grouping: records of one msg=audit(SEC.MSEC:SERIAL) become one
// event, which ends at its EOE record or, for logs without EOE, by the
// bounds below; finish (finish.go) then turns it into file events.

const (
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

// rec is one record of an event: its line, copied into the event's buffer
// or, while borrowed, still in the caller's read block.
type rec struct {
	kind         recKind
	nt           nameType // a PATH record's nametype, if read ahead
	borrowed     bool     // line is in the caller's read block, see Parser.borrow
	line         []byte   // the whole line, ENRICHED part included
	body, rawEnd int      // offsets in line: body start, end of the RAW part
}

func (r *rec) raw() []byte { return r.line[:r.rawEnd] }

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

func (p *Parser) eventRecord(k recKind, h *header, line []byte, hd *sysHead, sys *sysRec) {
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
	if k == rkSyscall {
		// The record is read where it lies (Scan's block, the caller's
		// line) and copied into the event only if it is kept: most
		// SYSCALL records of a busy host are not interesting, and
		// seeProcess copies what it keeps.
		if hd == nil {
			sys = &p.scratchSys
			sys.parse(h.body, p.opt.Story)
			sys.enriched = h.enriched
			hd = &sys.sysHead
		}
		p.seeProcess(hd, h.sec)
		if !hd.keep {
			ev.ignore, ev.done = true, true
			p.ignored[p.ignIdx] = ev.serial
			p.ignIdx = (p.ignIdx + 1) % len(p.ignored)
			ev.buf, ev.recs = ev.buf[:0], ev.recs[:0]
			p.drain()
			return
		}
	}
	r := rec{kind: k, nt: h.nt, rawEnd: len(h.raw)}
	r.body = r.rawEnd - len(h.body)
	if p.borrow {
		r.line, r.borrowed = line, true
	} else {
		r.line = ev.keep(line)
	}
	if k == rkSyscall {
		ev.hasSys, ev.sysIdx = true, len(ev.recs)
		ev.sys = *sys
		ev.sys.rebase(line, r.line)
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
