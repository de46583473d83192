package auditd

import (
	"bytes"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
)

// ancestor is one known ancestor of the acting process.
type ancestor struct {
	pid, ppid int
	known     bool
	name, exe string
	args      []string // shared with the process table: never modified
}

// fileEvent is everything a normalized event says, as plain values taken
// from the records and tables at the moment the event finished. Building
// the ECS maps from it needs no parser state, so Scan does it on another
// goroutine.
type fileEvent struct {
	key                  string
	sec, msec            int64
	serial               uint64
	original             string
	hostID, hostName     string
	action, typ          string
	syscall, auditKey    string
	pid, ppid            int
	comm, exe, cwd       string
	title                string
	args                 []string
	argsShared           bool // args is the process table's slice
	parentName           string
	parentExe            string
	chain                []ancestor
	uid, euid, auid, gid int64
	uidName, euidName    string
	auidName, gidName    string
	ses                  int64

	fpath, inode      string
	mode              uint32
	hasMode           bool
	ouid, ogid        int64
	owner, group      string
	origPath          string
	hasOrig           bool
	attributedBy      string
	loginSec          int64
	loginMsec         int64
	terminal          string
	leaderPid         int
	leaderExe, acct   string
	hostname, addr    string
	ip                netip.Addr
	port              int
	related           []string
	hasSession, hasIP bool
}

// plan gathers one file event's values; see fileEvent.
func (p *Parser) plan(ev *event, si sysInfo, cwd, parentDir string, proctitle []byte, t fileTarget) *fileEvent {
	s := &ev.sys
	fe := &fileEvent{
		key: p.key(ev), sec: ev.sec, msec: ev.msec, serial: ev.serial,
		hostID: p.opt.HostID, hostName: p.opt.HostName,
		action: t.action, typ: t.typ, syscall: si.name, auditKey: decodeStr(s.keyVal()),
		pid: s.pid, ppid: s.ppid, cwd: cwd,
		uid: s.uid, euid: s.euid, auid: s.auid, gid: s.gid, ses: s.ses,
		loginSec: -1,
	}
	if e := p.procLookup(s.pid); e != nil && e.commRaw == string(s.comm) && e.exeRaw == string(s.exe) {
		fe.comm, fe.exe = e.comm, e.exe // decoded once per process image
	} else {
		fe.comm, fe.exe = decodeStr(s.comm), decodeStr(s.exe)
	}
	n := 0
	for _, r := range ev.recs {
		n += r.rawEnd - r.start + 1
	}
	var orig strings.Builder
	orig.Grow(n)
	for i, r := range ev.recs {
		if i > 0 {
			orig.WriteByte('\n')
		}
		orig.Write(ev.buf[r.start:r.rawEnd])
	}
	fe.original = orig.String()

	if e := p.procLookup(s.pid); e != nil && e.args != nil && e.exe == fe.exe {
		fe.args, fe.argsShared = e.args, true
	} else {
		fe.args = splitTitle(proctitle)
	}
	if len(proctitle) > 0 {
		fe.title = strings.ReplaceAll(string(bytes.TrimRight(proctitle, "\x00")), "\x00", " ")
	}
	chain := p.ancestry(s.ppid)
	if e := p.procLookup(s.ppid); e != nil {
		fe.parentName, fe.parentExe = e.comm, e.exe
	}
	fe.chain = make([]ancestor, len(chain))
	for i, pid := range chain {
		a := ancestor{pid: pid}
		if e := p.procLookup(pid); e != nil {
			a.known, a.ppid, a.name, a.exe, a.args = true, e.ppid, e.comm, e.exe, e.args
		}
		fe.chain[i] = a
	}

	if len(s.enriched) > 0 {
		fe.uidName = decodeStr(field(s.enriched, "UID"))
		fe.euidName = decodeStr(field(s.enriched, "EUID"))
		fe.auidName = decodeStr(field(s.enriched, "AUID"))
		fe.gidName = decodeStr(field(s.enriched, "GID"))
		if fe.auidName == "unset" {
			fe.auidName = ""
		}
	}
	a := p.attribute(s, chain)
	if fe.uidName == "" && a.by == "ancestry" && a.pam != nil && s.uid > 0 && a.pamPid != s.pid {
		// vsftpd runs the upload as the logged-in user without an audit
		// session; its PAM record names the account.
		fe.uidName = a.pam.acct
	}
	if fe.auidName == "" && a.ses != nil && s.auid >= 0 && s.auid != unset {
		fe.auidName = a.ses.acct
	}
	// The login account names the auid; any other id holding the same
	// number is the same account, which gives RAW logs user names too.
	if fe.auidName != "" && s.auid != unset {
		if fe.uidName == "" && s.uid == s.auid {
			fe.uidName = fe.auidName
		}
		if fe.euidName == "" && s.euid == s.auid {
			fe.euidName = fe.auidName
		}
	}

	it := t.it
	fe.fpath = absPath(it.name, cwd, parentDir)
	fe.inode, fe.mode, fe.hasMode = string(it.inodeRaw), it.mode, it.hasMode
	fe.ouid, fe.ogid, fe.owner, fe.group = it.ouid, it.ogid, it.owner, it.group
	if t.original != nil {
		fe.origPath, fe.hasOrig = absPath(t.original.name, cwd, parentDir), true
	}

	fe.attributedBy = a.by
	switch {
	case a.ses != nil:
		fe.leaderPid, fe.leaderExe, fe.acct, fe.terminal, fe.hostname, fe.addr = a.ses.pid, a.ses.exe, a.ses.acct, a.ses.terminal, a.ses.hostname, a.ses.addr
		fe.loginSec, fe.loginMsec = a.ses.sec, a.ses.msec
	case a.pam != nil:
		fe.leaderPid, fe.leaderExe, fe.acct, fe.terminal, fe.hostname, fe.addr = a.pamPid, a.pam.exe, a.pam.acct, a.pam.terminal, a.pam.hostname, a.pam.addr
		fe.loginSec, fe.loginMsec = a.pam.sec, a.pam.msec
	}
	fe.ip, fe.port = a.ip, a.port
	for _, n := range []string{fe.uidName, fe.euidName, fe.auidName, fe.acct} {
		if n != "" && !contains(fe.related, n) {
			fe.related = append(fe.related, n)
		}
	}
	return fe
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

func stamp(sec, msec int64) string {
	return time.Unix(sec, msec*int64(time.Millisecond)).UTC().Format(time.RFC3339Nano)
}

// doc builds the ECS document (SPEC §3) of a planned event.
func (fe *fileEvent) doc(bx *boxes) ecs.Doc {
	ts := stamp(fe.sec, fe.msec)
	event := make(map[string]any, 12)
	event["kind"] = "event"
	event["category"] = []any{"file"}
	event["type"] = []any{fe.typ}
	event["action"] = fe.action
	event["module"] = "auditd"
	event["dataset"] = "xferhunt.auditd"
	event["id"] = strconv.FormatUint(fe.serial, 10)
	event["sequence"] = int64(fe.serial)
	event["original"] = fe.original
	event["outcome"] = "success"
	event["ingested"] = ts

	host := make(map[string]any, 3)
	host["os"] = map[string]any{"type": "linux"}
	if fe.hostID != "" {
		host["id"] = fe.hostID
	}
	if fe.hostName != "" {
		host["name"] = fe.hostName
	}

	proc := make(map[string]any, 12)
	proc["pid"] = bx.num(fe.pid)
	if fe.comm != "" {
		proc["name"] = bx.str(fe.comm)
	}
	if fe.exe != "" {
		proc["executable"] = bx.str(fe.exe)
	}
	if len(fe.args) > 0 {
		if fe.argsShared {
			proc["args"] = bx.args(fe.args)
		} else {
			proc["args"] = bx.list(fe.args)
		}
		proc["args_count"] = len(fe.args)
		proc["command_line"] = strings.Join(fe.args, " ")
	}
	if fe.title != "" {
		proc["title"] = bx.str(fe.title)
	}
	if fe.cwd != "" {
		proc["working_directory"] = bx.str(fe.cwd)
	}
	if fe.ppid > 0 {
		parent := map[string]any{"pid": bx.num(fe.ppid)}
		if fe.parentName != "" {
			parent["name"] = bx.str(fe.parentName)
		}
		if fe.parentExe != "" {
			parent["executable"] = bx.str(fe.parentExe)
		}
		proc["parent"] = parent
	}
	var anc []any
	if len(fe.chain) > 0 {
		pids := make([]any, len(fe.chain))
		anc = make([]any, len(fe.chain))
		for i, a := range fe.chain {
			pids[i] = bx.num(a.pid)
			m := make(map[string]any, 5)
			m["pid"] = bx.num(a.pid)
			if a.known {
				m["ppid"] = bx.num(a.ppid)
				if a.name != "" {
					m["name"] = bx.str(a.name)
				}
				if a.exe != "" {
					m["executable"] = bx.str(a.exe)
				}
				if len(a.args) > 0 {
					m["args"] = bx.args(a.args)
				}
			}
			anc[i] = m
		}
		proc["Ext"] = map[string]any{"ancestry": pids}
	}

	user := make(map[string]any, 4)
	if fe.uid >= 0 {
		user["id"] = bx.id(fe.uid)
	}
	if fe.uidName != "" {
		user["name"] = bx.str(fe.uidName)
	}
	if fe.euid >= 0 {
		eff := map[string]any{"id": bx.id(fe.euid)}
		if fe.euidName != "" {
			eff["name"] = bx.str(fe.euidName)
		}
		user["effective"] = eff
	}
	if fe.auid >= 0 && fe.auid != unset {
		au := map[string]any{"id": bx.id(fe.auid)}
		if fe.auidName != "" {
			au["name"] = bx.str(fe.auidName)
		}
		user["audit"] = au
	}
	group := make(map[string]any, 2)
	if fe.gid >= 0 {
		group["id"] = bx.id(fe.gid)
	}
	if fe.gidName != "" {
		group["name"] = bx.str(fe.gidName)
	}

	file := make(map[string]any, 14)
	if fe.fpath != "" {
		file["path"] = fe.fpath
		name := path.Base(fe.fpath)
		file["name"] = name
		file["directory"] = bx.str(path.Dir(fe.fpath))
		if ext := extension(name); ext != "" {
			file["extension"] = ext
		}
	}
	if fe.inode != "" {
		file["inode"] = fe.inode
	}
	if fe.hasMode {
		file["mode"] = octal4(fe.mode & 0o7777)
		if ft := fileType(fe.mode); ft != "" {
			file["type"] = ft
		}
	}
	if fe.ouid >= 0 {
		file["uid"] = bx.id(fe.ouid)
	}
	if fe.ogid >= 0 {
		file["gid"] = bx.id(fe.ogid)
	}
	if fe.owner != "" {
		file["owner"] = bx.str(fe.owner)
	}
	if fe.group != "" {
		file["group"] = bx.str(fe.group)
	}
	if fe.hasOrig {
		o := map[string]any{"path": fe.origPath, "name": path.Base(fe.origPath)}
		if ext := extension(path.Base(fe.origPath)); ext != "" {
			o["extension"] = ext
		}
		file["Ext"] = map[string]any{"original": o}
	}

	doc := make(ecs.Doc, 12)
	doc["@timestamp"] = ts
	doc["event"] = event
	doc["host"] = host
	doc["process"] = proc
	doc["user"] = user
	doc["group"] = group
	doc["file"] = file

	sess := make(map[string]any, 9)
	sess["attributed_by"] = bx.str(fe.attributedBy)
	if fe.ses >= 0 && fe.ses != unset {
		sess["id"] = fe.ses
	}
	if fe.attributedBy != "none" {
		if fe.loginSec >= 0 {
			sess["login_time"] = stamp(fe.loginSec, fe.loginMsec)
		}
		if fe.terminal != "" {
			sess["terminal"] = bx.str(fe.terminal)
		}
		if fe.leaderPid > 0 {
			sess["sshd_pid"] = bx.num(fe.leaderPid)
		}
		if fe.acct != "" {
			sess["user"] = bx.str(fe.acct)
		}
		if fe.hostname != "" {
			sess["hostname"] = bx.str(fe.hostname)
		}
		if fe.addr != "" {
			sess["addr"] = bx.str(fe.addr)
		}
		if fe.leaderPid > 0 {
			leader := map[string]any{"pid": bx.num(fe.leaderPid)}
			if fe.leaderExe != "" {
				leader["executable"] = bx.str(fe.leaderExe)
				leader["name"] = bx.str(path.Base(fe.leaderExe))
			}
			meta := map[string]any{}
			if fe.terminal != "" {
				meta["type"] = bx.str(fe.terminal)
			}
			if fe.ip.IsValid() {
				meta["source"] = map[string]any{"ip": fe.ip.String()}
			}
			if len(meta) > 0 {
				leader["entry_meta"] = meta
			}
			proc["entry_leader"] = leader
		}
	}
	var related map[string]any
	if fe.ip.IsValid() {
		ip := fe.ip.String()
		src := map[string]any{"ip": ip}
		if fe.port > 0 {
			src["port"] = fe.port
		}
		doc["source"] = src
		related = map[string]any{"ip": []any{ip}}
	}
	if len(fe.related) > 0 {
		if related == nil {
			related = map[string]any{}
		}
		related["user"] = bx.list(fe.related)
	}
	if related != nil {
		doc["related"] = related
	}
	x := map[string]any{"session": sess}
	if anc != nil {
		x["ancestry"] = anc
	}
	audit := make(map[string]any, 2)
	if fe.syscall != "" {
		audit["syscall"] = bx.str(fe.syscall)
	}
	if fe.auditKey != "" {
		audit["key"] = bx.str(fe.auditKey)
	}
	x["audit"] = audit
	doc["xferhunt"] = x
	return doc
}

// boxes caches values already converted to interfaces. Storing a string or
// a large int in a map[string]any allocates; most values of file events
// (ids, names, executables, argument lists) repeat from event to event, so
// the builder reuses their boxes. Each cache is cleared when it fills up,
// which keeps it bounded. The boxed values are immutable, so documents may
// share them (an args []any must never be modified by a consumer).
type boxes struct {
	ids  map[int64]any
	nums map[int]any
	strs map[string]any
	argv map[*string][]any
}

const boxesMax = 4096

func newBoxes() *boxes {
	return &boxes{ids: map[int64]any{}, nums: map[int]any{}, strs: map[string]any{}, argv: map[*string][]any{}}
}

func (b *boxes) id(v int64) any {
	if x, ok := b.ids[v]; ok {
		return x
	}
	if len(b.ids) >= boxesMax {
		clear(b.ids)
	}
	x := any(idStr(v))
	b.ids[v] = x
	return x
}

func (b *boxes) num(v int) any {
	if x, ok := b.nums[v]; ok {
		return x
	}
	if len(b.nums) >= boxesMax {
		clear(b.nums)
	}
	x := any(v)
	b.nums[v] = x
	return x
}

func (b *boxes) str(s string) any {
	if len(s) > 256 {
		return s // long values rarely repeat
	}
	if x, ok := b.strs[s]; ok {
		return x
	}
	if len(b.strs) >= boxesMax {
		clear(b.strs)
	}
	x := any(s)
	b.strs[s] = x
	return x
}

// args boxes an argument list. Lists from the process table are shared
// slices, so the address of the first element identifies them.
func (b *boxes) args(ss []string) []any {
	if len(ss) == 0 {
		return nil
	}
	k := &ss[0]
	if x, ok := b.argv[k]; ok && len(x) == len(ss) {
		return x
	}
	if len(b.argv) >= boxesMax {
		clear(b.argv)
	}
	x := make([]any, len(ss))
	for i, v := range ss {
		x[i] = b.str(v)
	}
	b.argv[k] = x
	return x
}

// list boxes a fresh list of strings.
func (b *boxes) list(ss []string) []any {
	x := make([]any, len(ss))
	for i, v := range ss {
		x[i] = b.str(v)
	}
	return x
}
