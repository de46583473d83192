package auditd

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// Attribution (SPEC §4): the tables the records feed (processes from every
// SYSCALL, sessions and PAM conversations from user-space records, accepted
// connections and forks from finished events) and the lookup that tells
// who and where an event came from.

// Bounds of the attribution tables (entries). Each is a two-generation map,
// so memory stays flat however long the log is.
const (
	maxProcs    = 32768
	maxSessions = 4096
	maxPAM      = 4096
	maxAccepts  = 4096
)

// procEntry is what the records tell about one process.
type procEntry struct {
	ppid            int
	commRaw, exeRaw string // as logged, to notice change without decoding
	ident           uint64 // identOf(commRaw, exeRaw) when the record had it (sysHead.ident), else 0
	comm, exe       string
	argv            *lazyArgs // of the last exec, decoded on demand
	cwd             string
	sec             int64
}

// seeProcess feeds the process table from every SYSCALL record; it
// allocates only when a process appears or changes image.
func (p *Parser) seeProcess(s *sysHead, sec int64) {
	if s.pid <= 0 {
		return
	}
	e, ok := p.procs.cur[s.pid]
	if !ok {
		e, ok = p.procs.prev[s.pid]
		if ok {
			p.procs.put(s.pid, e)
		}
	}
	if ok && e.ppid == s.ppid && e.sameImage(s) {
		e.sec = sec
		return
	}
	// One string holds both raw values: a process appears or changes
	// image on a good part of a busy log's SYSCALL records.
	buf := append(append(p.scratchRaw[:0], s.comm...), s.exe...)
	raw := string(buf)
	p.scratchRaw = buf[:0]
	n := &procEntry{ppid: s.ppid, commRaw: raw[:len(s.comm)], exeRaw: raw[len(s.comm):], ident: s.ident, sec: sec}
	n.comm = p.strs.str(s.comm)
	n.exe = p.strs.str(s.exe)
	if ok && e.exeRaw == n.exeRaw {
		n.argv, n.cwd = e.argv, e.cwd
	}
	p.procs.put(s.pid, n)
}

// sameImage reports whether the record shows the process with the comm
// and exe the entry has.
func (e *procEntry) sameImage(s *sysHead) bool {
	if s.ident != 0 && e.ident != 0 {
		return e.ident == s.ident && len(e.commRaw) == len(s.comm) && len(e.exeRaw) == len(s.exe)
	}
	return e.commRaw == string(s.comm) && e.exeRaw == string(s.exe)
}

// procLookup returns the process entry for pid, if known.
func (p *Parser) procLookup(pid int) *procEntry {
	e, _ := p.procs.get(pid)
	return e
}

// ancestry lists the known ancestors of a process starting with its parent.
// The result is scratch space, valid until the next call.
func (p *Parser) ancestry(ppid int) []int {
	out := p.scratchChain[:0]
	defer func() { p.scratchChain = out[:0] }()
	for pid := ppid; pid > 0 && len(out) < 16; {
		for _, seen := range out {
			if seen == pid {
				return out
			}
		}
		out = append(out, pid)
		e := p.procLookup(pid)
		if e == nil {
			break
		}
		pid = e.ppid
	}
	return out
}

// userRec is what attribution reads of a user-space record (USER_START,
// CRED_ACQ, USER_AUTH...); nil for an absent field.
type userRec struct {
	res, pid, acct, addr, hostname, terminal, exe, ses []byte
}

// userFields reads a user-space record's fields in one pass, by field's
// rules (the first key= that starts the body or follows a space or a
// quote, inside msg='...' too). These records are long; one pass costs a
// fraction of eight searches. Each word start j is read a word at a time:
// the word at j tells the key (its first byte, then a compare under a
// mask) and holds, mostly, the next space or quote, where the next word
// starts and an unquoted value ends. The body's last bytes, where no word
// fits, are read byte by byte.
//
// It fills u rather than returning a userRec: the caller's copy of a
// returned one stalled on every record (wide loads of narrow stores).
func userFields(b []byte, u *userRec) {
	const all = 1<<len(userKeys) - 1
	var found uint
	var f [len(userKeys)][]byte // by userKeys' index
	w := b[:len(b):len(b)]      // words are sliced w[j:j+8]: checked against its length alone
	for j := 0; j < len(b) && found != all; {
		if j+8 > len(b) {
			if k := userKeyAt(b, j); k >= 0 && found&(1<<k) == 0 {
				f[k] = fieldValue(b, j+userKeys[k].n)
				found |= 1 << k
			}
			j = scanTo(b, j, ' ', '\'') + 1
			continue
		}
		x := binary.LittleEndian.Uint64(w[j : j+8])
		// The next space or quote at or after j (swarZero: the lowest
		// mark is exact).
		e := j
		m := swarZero(x^swarOnes*' ') | swarZero(x^swarOnes*'\'')
		for m == 0 {
			e += 8
			if e+8 > len(b) {
				e = scanTo(b, e, ' ', '\'')
				break
			}
			y := binary.LittleEndian.Uint64(w[e : e+8])
			m = swarZero(y^swarOnes*' ') | swarZero(y^swarOnes*'\'')
		}
		if m != 0 {
			e += bits.TrailingZeros64(m) >> 3
		}
		// The first byte tells the one key to compare.
		k := -1
		switch byte(x) {
		case 'r':
			k = 0
		case 'p':
			k = 1
		case 'a':
			k = 2
			if byte(x>>8) == 'd' {
				k = 3
			}
		case 'h':
			k = 4
		case 't':
			k = 5
		case 'e':
			k = 6
		case 's':
			k = 7
		}
		if k >= 0 && found&(1<<k) == 0 {
			uk := &userKeys[k]
			if x&uk.m == uk.w && (uk.n <= 8 || j+uk.n <= len(b) && b[j+uk.n-1] == '=') {
				// A key has no space or quote: e is past it, and ends
				// the value unless the value is quoted.
				vs := j + uk.n
				if vs < len(b) && (b[vs] == '"' || b[vs] == '\'') {
					f[k] = fieldValue(b, vs)
				} else {
					f[k] = b[vs:max(vs, e)]
				}
				found |= 1 << k
			}
		}
		j = e + 1
	}
	*u = userRec{res: f[0], pid: f[1], acct: f[2], addr: f[3], hostname: f[4], terminal: f[5], exe: f[6], ses: f[7]}
}

// userKeys are the keys userFields reads, "key=" as a little-endian word
// under a mask (the first eight bytes of the longer ones, whose '=' is
// checked apart), in userRec's order.
var userKeys = func() (out [8]orderedKey) {
	for i, k := range []string{"res", "pid", "acct", "addr", "hostname", "terminal", "exe", "ses"} {
		out[i] = keyWord(k + "=")
	}
	return out
}()

// userKeyAt is the index of the userKeys key that b[j:] starts with, or
// -1, compared byte by byte.
func userKeyAt(b []byte, j int) int {
	for i := range userKeys {
		n := userKeys[i].n
		if len(b)-j >= n && b[j+n-1] == '=' {
			var kw [8]byte
			binary.LittleEndian.PutUint64(kw[:], userKeys[i].w)
			if string(b[j:j+min(n, 8)]) == string(kw[:min(n, 8)]) {
				return i
			}
		}
	}
	return -1
}

// feeds reports whether a user-space record of kind k can change the
// tables or make a story's event: a failed one (res=failed) cannot, nor
// can a USER_END without stories. Scan's splitters ask, so that such
// records cost the grouper nothing but the log's clock.
func (u *userRec) feeds(k recKind, story bool) bool {
	if res := u.res; len(res) > 0 && string(res) != "success" && string(res) != "1" {
		return false
	}
	return story || k != rkUserEnd
}

// sessEntry is a login session (audit ses) as its user-space records tell.
type sessEntry struct {
	acct, addr, hostname, terminal, exe string
	ip                                  netip.Addr
	sec, msec                           int64
	pid                                 int
}

// pamEntry is a PAM conversation by the process that ran it.
type pamEntry struct {
	acct, addr, hostname, terminal, exe string
	ip                                  netip.Addr
	sec, msec                           int64
}

// userVals is a user-space record's fields decoded, as userRecord reads
// them. Decoding does not depend on other records, so Scan's splitters do
// it in parallel, each with its own interner; the tables stay the
// grouper's.
type userVals struct {
	pid, ses                    int64
	acct, addr, host, term, exe string
	ip                          netip.Addr
}

// values decodes the fields into v, which must be zero, strings through
// in (filling v where it lies, as userFields does, spares a copy).
func (u *userRec) values(in *interner, v *userVals) {
	v.acct, v.addr, v.host = in.str(u.acct), in.str(u.addr), in.str(u.hostname)
	v.term, v.exe, v.ses = in.str(u.terminal), in.str(u.exe), idVal(u.ses)
	v.pid, _ = atoiAll(u.pid)
	if v.addr != "" {
		// Most records say addr=? (""): ParseAddr would allocate the
		// error it returns for every one of them.
		v.ip, _ = netip.ParseAddr(v.addr)
	}
}

// userRecord feeds the session and PAM tables. v, when not nil, is the
// record's fields, decoded ahead from a record that feeds (userRec.feeds).
func (p *Parser) userRecord(k recKind, h *header, v *userVals) {
	if v == nil {
		var u userRec
		userFields(h.body, &u)
		if !u.feeds(k, p.opt.Story) {
			return
		}
		var d userVals
		u.values(&p.strs, &d)
		v = &d
	}
	pid, acct, addr, host, term, exe, ip, ses := v.pid, v.acct, v.addr, v.host, v.term, v.exe, v.ip, v.ses
	if p.opt.Story {
		switch {
		case k == rkUserEnd:
			p.storyLogin(h, ActionLogOff, ses, int(pid), acct, addr, host, term, exe)
		case k == rkUserStart:
			p.storyLogin(h, ActionLogOn, ses, int(pid), acct, addr, host, term, exe)
		case k == rkCredAcq && (ses < 0 || ses == unset) && term == "ftp":
			// An FTP login opens no audit session (vsftpd runs no
			// pam_loginuid): its credentials are the login.
			p.storyLogin(h, ActionLogOn, ses, int(pid), acct, addr, host, term, exe)
		}
	}
	if k == rkUserEnd {
		return
	}
	if k == rkUserStart || k == rkUserLogin || k == rkLogin || k == rkCredAcq {
		if ses >= 0 && ses != unset {
			s, ok := p.sessions.get(uint32(ses))
			// Session ids are reused (they restart at boot, and a log can
			// span boots), so a record that starts a login replaces what
			// an older session of the same id left: the kernel's LOGIN
			// (it assigns the id), or a login record from another address.
			// Records of one login only fill gaps, so a sudo inside the
			// session (acct=root addr=?) never rewrites who logged in.
			if !ok || k == rkLogin || newPeer(s.ip, ip) {
				s = renew(s, sessEntry{sec: h.sec, msec: h.msec, pid: int(pid)})
				p.sessions.put(uint32(ses), s)
			}
			fill(&s.acct, acct)
			fill(&s.addr, addr)
			fill(&s.hostname, host)
			fill(&s.terminal, term)
			fill(&s.exe, exe)
			if !s.ip.IsValid() {
				s.ip = ip
			}
			if s.pid == 0 {
				s.pid = int(pid)
			}
		}
	}
	if (k == rkPAM || k == rkCredAcq || k == rkUserStart || k == rkUserLogin || k == rkLogin) && pid > 0 && (acct != "" || addr != "") {
		e, ok := p.pam.get(int(pid))
		// Pids are reused too: a conversation from another address is
		// another process's.
		if !ok || newPeer(e.ip, ip) {
			e = renew(e, pamEntry{sec: h.sec, msec: h.msec})
			p.pam.put(int(pid), e)
		}
		fill(&e.acct, acct)
		fill(&e.addr, addr)
		fill(&e.hostname, host)
		fill(&e.terminal, term)
		fill(&e.exe, exe)
		if !e.ip.IsValid() {
			e.ip = ip
		}
	}
}

// renew makes the entry of a new login (or PAM conversation) in the
// place of old, the entry of an earlier one under the same key, or anew
// when there was none. Nothing holds an entry past the record that reads
// it (attribute's result is read at once), so the old one is rewritten
// instead of replaced: a log whose session ids repeat (one spanning boots;
// the benchmark's mixed log: 22k LOGIN records, 250 ids) made one
// allocation per login record, a tenth of a scan's, and fresh memory costs
// a page fault per 4 KiB.
func renew[E any](old *E, fresh E) *E {
	if old == nil {
		old = new(E) // not &fresh: that would allocate on every call
	}
	*old = fresh
	return old
}

// newPeer reports whether a record's address says it belongs to another
// login than the one an entry holds: both known, and different.
func newPeer(have, rec netip.Addr) bool {
	return have.IsValid() && rec.IsValid() && have != rec
}

// fill keeps the first known value of a field across a session's records.
func fill(dst *string, v string) {
	if *dst == "" && v != "" {
		*dst = v
	}
}

// acceptEntry is the peer of an accepted connection.
type acceptEntry struct {
	pid  int
	ip   netip.Addr
	port int
	// ms is when the accept began (audit stamps a syscall at entry), in
	// Unix milliseconds: a session's own data connections are accepted
	// after its login, the control connection before.
	ms int64
	// serial orders it against the fork records: an accept recorded after
	// the fork of a session process cannot be that session's connection.
	serial uint64
}

// seeAccept records the peer of a successful accept.
func (p *Parser) seeAccept(pid int, saddr []byte, sec, msec int64, serial uint64) {
	ip, port, ok := parseSockaddr(saddr)
	if !ok {
		return
	}
	a := acceptEntry{pid: pid, ip: ip, port: port, ms: sec*1000 + msec, serial: serial}
	p.accepts.put(pid, a)
	p.recent[p.recentN%len(p.recent)] = a
	p.recentN++
}

// seeFork hands the child of a fork the newest connection its parent
// accepted. A listener that accepts and forks one session process per
// connection (vsftpd, inetd-style servers) does exactly that in turn, so the
// child's connection is known even when several sessions from one address
// overlap, where "the listener's newest accept" would be another session's.
func (p *Parser) seeFork(parent int, child int64, serial uint64) {
	if child <= 0 || child > 1<<22 {
		return
	}
	p.forked.put(int(child), serial)
	if a, ok := p.accepts.get(parent); ok {
		p.conns.put(int(child), a)
	}
}

// parseSockaddr decodes a SOCKADDR saddr (hex struct sockaddr, family in
// host byte order, port and address in network order).
func parseSockaddr(hexv []byte) (netip.Addr, int, bool) {
	if !isHex(hexv) {
		return netip.Addr{}, 0, false
	}
	b := decode(hexv)
	if len(b) < 8 {
		return netip.Addr{}, 0, false
	}
	fam := int(b[0]) | int(b[1])<<8
	port := int(b[2])<<8 | int(b[3])
	switch fam {
	case 2:
		return netip.AddrFrom4([4]byte{b[4], b[5], b[6], b[7]}), port, true
	case 10:
		if len(b) < 24 {
			return netip.Addr{}, 0, false
		}
		var a [16]byte
		copy(a[:], b[8:24])
		return netip.AddrFrom16(a).Unmap(), port, true
	}
	return netip.Addr{}, 0, false
}

// attribution is who and where an event came from.
type attribution struct {
	by       string // "session", "ancestry" or "none"
	ses      *sessEntry
	pam      *pamEntry
	pamPid   int
	ip       netip.Addr
	port     int
	accepted *acceptEntry
}

// attribute follows SPEC §4: the audit session first, then the PAM record
// of the nearest ancestor, then the accept of an ancestor for the port.
func (p *Parser) attribute(s *sysRec, chain []int) attribution {
	a := attribution{by: "none"}
	pids := append(append(p.scratchPids[:0], s.pid), chain...)
	defer func() { p.scratchPids = pids[:0] }()
	var addrWant netip.Addr
	var loginMs int64 = -1
	if s.ses >= 0 && s.ses != unset {
		if e, ok := p.sessions.get(uint32(s.ses)); ok {
			a.by, a.ses = "session", e
			a.ip, addrWant, loginMs = e.ip, e.ip, e.sec*1000+e.msec
		}
	}
	if a.ses == nil {
		for _, pid := range pids {
			if e, ok := p.pam.get(pid); ok {
				a.by, a.pam, a.pamPid = "ancestry", e, pid
				a.ip, addrWant, loginMs = e.ip, e.ip, e.sec*1000+e.msec
				break
			}
		}
	}
	// The connection is the accept of the oldest ancestor (the listener
	// that forked the session; a session's own later accepts are data
	// connections), from the same peer and not after the login. Failing
	// that, the newest such accept from any process.
	// An accept by a chain member recorded after that member forked the
	// next one down the chain came too late to be this session's: the
	// listener moved on to the next connection. (Audit stamps a syscall
	// when it begins, so a listener already waiting in accept() has a
	// stamp from before the login it did not serve; the record order is
	// what tells.)
	tooLate := func(e acceptEntry) bool {
		for rank := 1; rank < len(pids); rank++ {
			if pids[rank] == e.pid {
				fs, ok := p.forked.get(pids[rank-1])
				return ok && e.serial > fs
			}
		}
		return false
	}
	fits := func(e acceptEntry) bool {
		return (!addrWant.IsValid() || e.ip == addrWant) && (loginMs < 0 || e.ms <= loginMs) && !tooLate(e)
	}
	best, bestRank := acceptEntry{}, -1
	// A connection handed to a forked ancestor is exact. The oldest such
	// ancestor wins: it was forked by the listener for the control
	// connection, while a session process that later accepts a data
	// connection (vsftpd's privileged parent does, for PASV) and forks
	// again hands that one down.
	for i := len(pids) - 1; i >= 0; i-- {
		if e, ok := p.conns.get(pids[i]); ok && fits(e) {
			best, bestRank = e, len(pids)
			break
		}
	}
	consider := func(e acceptEntry, newest bool) {
		if bestRank == len(pids) {
			return
		}
		if !fits(e) {
			return
		}
		for rank, pid := range pids {
			if pid == e.pid && (rank > bestRank || (rank == bestRank && e.ms > best.ms && newest)) {
				best, bestRank = e, rank
			}
		}
	}
	for _, pid := range pids {
		if e, ok := p.accepts.get(pid); ok {
			consider(e, true)
		}
	}
	n := min(p.recentN, len(p.recent))
	for i := 1; i <= n; i++ {
		consider(p.recent[(p.recentN-i)%len(p.recent)], false)
	}
	if bestRank < 0 && addrWant.IsValid() {
		for i := 1; i <= n; i++ {
			if e := p.recent[(p.recentN-i)%len(p.recent)]; fits(e) {
				best, bestRank = e, 0
				break
			}
		}
	}
	if bestRank >= 0 {
		a.accepted = &best
	}
	if a.accepted != nil {
		a.port = a.accepted.port
		if !a.ip.IsValid() {
			a.ip = a.accepted.ip
		}
	}
	return a
}
