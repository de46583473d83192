package auditd

import (
	"bytes"
	"encoding/binary"
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
		action: t.action, typ: t.typ, syscall: si.name, auditKey: p.strs.str(s.keyVal()),
		pid: s.pid, ppid: s.ppid, cwd: cwd,
		uid: s.uid, euid: s.euid, auid: s.auid, gid: s.gid, ses: s.ses,
		loginSec: -1,
	}
	if e := p.procLookup(s.pid); e != nil && e.commRaw == string(s.comm) && e.exeRaw == string(s.exe) {
		fe.comm, fe.exe = e.comm, e.exe // decoded once per process image
	} else {
		fe.comm, fe.exe = p.strs.str(s.comm), p.strs.str(s.exe)
	}
	n := 0
	for _, r := range ev.recs {
		n += r.rawEnd + 1
	}
	var orig strings.Builder
	orig.Grow(n)
	for i, r := range ev.recs {
		if i > 0 {
			orig.WriteByte('\n')
		}
		orig.Write(r.raw())
	}
	fe.original = orig.String()

	if e := p.procLookup(s.pid); e != nil && e.exe == fe.exe && e.argv.get(&p.argvs) != nil {
		fe.args, fe.argsShared = e.argv.get(&p.argvs), true
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
			a.known, a.ppid, a.name, a.exe, a.args = true, e.ppid, e.comm, e.exe, e.argv.get(&p.argvs)
		}
		fe.chain[i] = a
	}

	if len(s.enriched) > 0 {
		fe.uidName = p.strs.str(field(s.enriched, "UID"))
		fe.euidName = p.strs.str(field(s.enriched, "EUID"))
		fe.auidName = p.strs.str(field(s.enriched, "AUID"))
		fe.gidName = p.strs.str(field(s.enriched, "GID"))
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

// stamp formats an audit time as RFC 3339 in UTC with the milliseconds
// trimmed of trailing zeros, as time.RFC3339Nano does. Every document
// needs one, so it writes the digits itself (time.Format costs several
// times more); years outside 0-9999 go through time.Format.
func stamp(sec, msec int64) string {
	t := time.Unix(sec, msec*int64(time.Millisecond)).UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.Format(time.RFC3339Nano)
	}
	hour, minute, second := t.Clock()
	var b [24]byte
	put := func(i, v, width int) {
		for j := i + width - 1; j >= i; j-- {
			b[j] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, year, 4)
	b[4] = '-'
	put(5, int(month), 2)
	b[7] = '-'
	put(8, day, 2)
	b[10] = 'T'
	put(11, hour, 2)
	b[13] = ':'
	put(14, minute, 2)
	b[16] = ':'
	put(17, second, 2)
	n := 19
	if ms := t.Nanosecond() / int(time.Millisecond); ms > 0 {
		b[n] = '.'
		put(n+1, ms, 3)
		n += 4
		for b[n-1] == '0' {
			n--
		}
	}
	b[n] = 'Z'
	return string(b[:n+1])
}

// Values every document of a Scan shares (see boxes.share).
// They are boxed once: storing a slice in a map[string]any allocates.
var (
	categoryFile any = []any{"file"}
	typeCreation any = []any{"creation"}
	typeChange   any = []any{"change"}
	typeDeletion any = []any{"deletion"}
)

// constant returns the interface value of one of the fixed strings of a
// document (actions, file types) without allocating: boxing a constant
// is free, boxing a variable string is not.
func constant(s string) any {
	switch s {
	case "creation":
		return "creation"
	case "change":
		return "change"
	case "deletion":
		return "deletion"
	case "rename":
		return "rename"
	case "overwrite":
		return "overwrite"
	case "file":
		return "file"
	case "dir":
		return "dir"
	case "symlink":
		return "symlink"
	}
	return s
}

// doc builds the ECS document (SPEC §3) of a planned event.
func (fe *fileEvent) doc(bx *boxes) ecs.Doc {
	ts := any(stamp(fe.sec, fe.msec))
	event := make(map[string]any, 11)
	event["kind"] = "event"
	event["category"] = bx.category()
	event["type"] = bx.eventType(fe.typ)
	event["action"] = constant(fe.action)
	event["module"] = "auditd"
	event["dataset"] = "xferhunt.auditd"
	event["id"] = strconv.FormatUint(fe.serial, 10)
	event["sequence"] = int64(fe.serial)
	event["original"] = fe.original
	event["outcome"] = "success"
	event["ingested"] = ts

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
			proc["command_line"] = bx.commandLine(fe.args)
		} else {
			proc["args"] = bx.list(fe.args)
			proc["command_line"] = strings.Join(fe.args, " ")
		}
		proc["args_count"] = len(fe.args)
	}
	if fe.title != "" {
		proc["title"] = bx.str(fe.title)
	}
	if fe.cwd != "" {
		proc["working_directory"] = bx.str(fe.cwd)
	}
	if fe.ppid > 0 {
		proc["parent"] = bx.parent(fe.ppid, fe.parentName, fe.parentExe)
	}
	var anc any
	if len(fe.chain) > 0 {
		proc["Ext"], anc = bx.ancestry(fe.chain)
	}

	doc := make(ecs.Doc, 10)
	doc["@timestamp"] = ts
	doc["event"] = event
	doc["host"] = bx.host(fe.hostID, fe.hostName)
	doc["process"] = proc
	doc["user"] = bx.user(userKey{fe.uid, fe.euid, fe.auid, fe.uidName, fe.euidName, fe.auidName})
	doc["group"] = bx.group(fe.gid, fe.gidName)
	doc["file"] = fe.fileObject(bx)

	sk := sessKey{by: fe.attributedBy, ses: fe.ses}
	if fe.attributedBy != "none" {
		sk.loginSec, sk.loginMsec, sk.terminal, sk.leaderPid = fe.loginSec, fe.loginMsec, fe.terminal, fe.leaderPid
		sk.acct, sk.hostname, sk.addr = fe.acct, fe.hostname, fe.addr
		if fe.leaderPid > 0 {
			proc["entry_leader"] = bx.leader(leaderKey{fe.leaderPid, fe.leaderExe, fe.terminal, fe.ip})
		}
	}
	if fe.ip.IsValid() {
		doc["source"] = bx.source(fe.ip, fe.port)
	}
	if fe.ip.IsValid() || len(fe.related) > 0 {
		doc["related"] = bx.related(fe.ip, fe.related)
	}
	x := make(map[string]any, 3)
	x["session"] = bx.session(sk)
	if anc != nil {
		x["ancestry"] = anc
	}
	x["audit"] = bx.audit(fe.syscall, fe.auditKey)
	doc["xferhunt"] = x
	return doc
}

// fileObject is the file field set of the event: unique to it, never shared.
func (fe *fileEvent) fileObject(bx *boxes) map[string]any {
	file := make(map[string]any, 12)
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
		file["mode"] = bx.str(octal4(fe.mode & 0o7777))
		if ft := fileType(fe.mode); ft != "" {
			file["type"] = constant(ft)
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
	return file
}

// Keys of the shared sub-objects: every input the object is built from.
type (
	parentKey struct {
		pid       int
		name, exe string
	}
	ancestorKey struct {
		pid, ppid int
		known     bool
		name, exe string
		args      *string // identity of the process table's argument list
		nargs     int
	}
	userKey struct {
		uid, euid, auid             int64
		uidName, euidName, auidName string
	}
	groupKey struct {
		gid  int64
		name string
	}
	leaderKey struct {
		pid           int
		exe, terminal string
		ip            netip.Addr
	}
	sessKey struct {
		by                       string
		ses, loginSec, loginMsec int64
		terminal                 string
		leaderPid                int
		acct, hostname, addr     string
	}
	sourceKey struct {
		ip   netip.Addr
		port int
	}
	relatedKey struct {
		ip    netip.Addr
		n     int
		users [4]string
	}
	auditKey struct{ syscall, key string }
)

// objects caches the sub-objects that repeat from event to event (the
// acting user, the parent, each ancestor, the session), so that a Scan
// builds each once instead of once per document. Documents then share
// these maps: a consumer that modifies a document must copy it first
// (the detection engine only reads; its alerts are deep copies).
type objects struct {
	host    map[string]any
	hostKey [2]string
	parents map[parentKey]map[string]any
	ancs    map[ancestorKey]ancestorObject
	lastID  uint64
	chains  map[string]chainObjects
	// scratch of ancestry
	chainKey  []byte
	chainMaps []map[string]any
	users     map[userKey]map[string]any
	groups    map[groupKey]map[string]any
	leaders   map[leaderKey]map[string]any
	sessions  map[sessKey]map[string]any
	sources   map[sourceKey]map[string]any
	related   map[relatedKey]map[string]any
	audits    map[auditKey]map[string]any
	cmdlines  map[*string]string
}

func newObjects() *objects {
	return &objects{
		parents:  map[parentKey]map[string]any{},
		ancs:     map[ancestorKey]ancestorObject{},
		chains:   map[string]chainObjects{},
		users:    map[userKey]map[string]any{},
		groups:   map[groupKey]map[string]any{},
		leaders:  map[leaderKey]map[string]any{},
		sessions: map[sessKey]map[string]any{},
		sources:  map[sourceKey]map[string]any{},
		related:  map[relatedKey]map[string]any{},
		audits:   map[auditKey]map[string]any{},
		cmdlines: map[*string]string{},
	}
}

// objectsMax bounds each cache of shared objects. Objects repeat within
// a process or a session, so the recent ones are what matters, and each
// entry holds whole maps.
const objectsMax = 1024

// remember stores v under k, clearing m first when it is full so that
// the caches stay bounded on endless input.
func remember[K comparable, V any](m map[K]V, k K, v V) V {
	if len(m) >= objectsMax {
		clear(m)
	}
	m[k] = v
	return v
}

func (b *boxes) category() any {
	if b.obj != nil {
		return categoryFile
	}
	return []any{"file"}
}

func (b *boxes) eventType(t string) any {
	if b.obj != nil {
		switch t {
		case "creation":
			return typeCreation
		case "change":
			return typeChange
		case "deletion":
			return typeDeletion
		}
	}
	return []any{t}
}

func (b *boxes) host(id, name string) map[string]any {
	if b.obj != nil && b.obj.host != nil && b.obj.hostKey == [2]string{id, name} {
		return b.obj.host
	}
	host := make(map[string]any, 3)
	host["os"] = map[string]any{"type": "linux"}
	if id != "" {
		host["id"] = id
	}
	if name != "" {
		host["name"] = name
	}
	if b.obj != nil {
		b.obj.host, b.obj.hostKey = host, [2]string{id, name}
	}
	return host
}

func (b *boxes) parent(pid int, name, exe string) map[string]any {
	k := parentKey{pid, name, exe}
	if b.obj != nil {
		if m, ok := b.obj.parents[k]; ok {
			return m
		}
	}
	parent := map[string]any{"pid": b.num(pid)}
	if name != "" {
		parent["name"] = b.str(name)
	}
	if exe != "" {
		parent["executable"] = b.str(exe)
	}
	if b.obj != nil {
		remember(b.obj.parents, k, parent)
	}
	return parent
}

// ancestry returns process.Ext (the ancestor pids) and the
// xferhunt.ancestry list of a chain. A Scan shares both between the
// events of processes with the same known ancestors, found by the ids of
// the shared ancestor objects.
func (b *boxes) ancestry(chain []ancestor) (ext, list any) {
	if b.obj == nil {
		pids := make([]any, len(chain))
		anc := make([]any, len(chain))
		for i := range chain {
			pids[i] = b.num(chain[i].pid)
			anc[i], _ = b.ancestor(&chain[i])
		}
		return map[string]any{"ancestry": pids}, anc
	}
	o := b.obj
	key := o.chainKey[:0]
	maps := o.chainMaps[:0]
	for i := range chain {
		m, id := b.ancestor(&chain[i])
		key = binary.AppendUvarint(key, id)
		maps = append(maps, m)
	}
	o.chainKey, o.chainMaps = key, maps[:0]
	if c, ok := o.chains[string(key)]; ok {
		return c.ext, c.list
	}
	pids := make([]any, len(chain))
	anc := make([]any, len(chain))
	for i := range chain {
		pids[i] = b.num(chain[i].pid)
		anc[i] = maps[i]
	}
	c := remember(o.chains, string(key), chainObjects{map[string]any{"ancestry": pids}, anc})
	clear(maps)
	return c.ext, c.list
}

// chainObjects are the shared objects of one ancestor chain.
type chainObjects struct{ ext, list any }

// ancestorObject is a shared ancestor object and its id: ids are never
// reused, so a chain's key stays unique after the cache is cleared.
type ancestorObject struct {
	m  map[string]any
	id uint64
}

// ancestor returns the xferhunt.ancestry object of one ancestor and, in a
// Scan, the id of the shared object (0 otherwise).
func (b *boxes) ancestor(a *ancestor) (map[string]any, uint64) {
	k := ancestorKey{pid: a.pid, ppid: a.ppid, known: a.known, name: a.name, exe: a.exe, nargs: len(a.args)}
	if len(a.args) > 0 {
		k.args = &a.args[0]
	}
	if b.obj != nil {
		if c, ok := b.obj.ancs[k]; ok {
			return c.m, c.id
		}
	}
	m := make(map[string]any, 5)
	m["pid"] = b.num(a.pid)
	if a.known {
		m["ppid"] = b.num(a.ppid)
		if a.name != "" {
			m["name"] = b.str(a.name)
		}
		if a.exe != "" {
			m["executable"] = b.str(a.exe)
		}
		if len(a.args) > 0 {
			m["args"] = b.args(a.args)
		}
	}
	if b.obj == nil {
		return m, 0
	}
	b.obj.lastID++
	remember(b.obj.ancs, k, ancestorObject{m, b.obj.lastID})
	return m, b.obj.lastID
}

func (b *boxes) user(k userKey) map[string]any {
	if b.obj != nil {
		if m, ok := b.obj.users[k]; ok {
			return m
		}
	}
	user := make(map[string]any, 4)
	if k.uid >= 0 {
		user["id"] = b.id(k.uid)
	}
	if k.uidName != "" {
		user["name"] = b.str(k.uidName)
	}
	if k.euid >= 0 {
		eff := map[string]any{"id": b.id(k.euid)}
		if k.euidName != "" {
			eff["name"] = b.str(k.euidName)
		}
		user["effective"] = eff
	}
	if k.auid >= 0 && k.auid != unset {
		au := map[string]any{"id": b.id(k.auid)}
		if k.auidName != "" {
			au["name"] = b.str(k.auidName)
		}
		user["audit"] = au
	}
	if b.obj != nil {
		remember(b.obj.users, k, user)
	}
	return user
}

func (b *boxes) group(gid int64, name string) map[string]any {
	k := groupKey{gid, name}
	if b.obj != nil {
		if m, ok := b.obj.groups[k]; ok {
			return m
		}
	}
	group := make(map[string]any, 2)
	if gid >= 0 {
		group["id"] = b.id(gid)
	}
	if name != "" {
		group["name"] = b.str(name)
	}
	if b.obj != nil {
		remember(b.obj.groups, k, group)
	}
	return group
}

func (b *boxes) leader(k leaderKey) map[string]any {
	if b.obj != nil {
		if m, ok := b.obj.leaders[k]; ok {
			return m
		}
	}
	leader := map[string]any{"pid": b.num(k.pid)}
	if k.exe != "" {
		leader["executable"] = b.str(k.exe)
		leader["name"] = b.str(path.Base(k.exe))
	}
	meta := map[string]any{}
	if k.terminal != "" {
		meta["type"] = b.str(k.terminal)
	}
	if k.ip.IsValid() {
		meta["source"] = map[string]any{"ip": k.ip.String()}
	}
	if len(meta) > 0 {
		leader["entry_meta"] = meta
	}
	if b.obj != nil {
		remember(b.obj.leaders, k, leader)
	}
	return leader
}

func (b *boxes) session(k sessKey) map[string]any {
	if b.obj != nil {
		if m, ok := b.obj.sessions[k]; ok {
			return m
		}
	}
	sess := make(map[string]any, 8)
	sess["attributed_by"] = b.str(k.by)
	if k.ses >= 0 && k.ses != unset {
		sess["id"] = k.ses
	}
	if k.by != "none" {
		if k.loginSec >= 0 {
			sess["login_time"] = stamp(k.loginSec, k.loginMsec)
		}
		if k.terminal != "" {
			sess["terminal"] = b.str(k.terminal)
		}
		if k.leaderPid > 0 {
			sess["sshd_pid"] = b.num(k.leaderPid)
		}
		if k.acct != "" {
			sess["user"] = b.str(k.acct)
		}
		if k.hostname != "" {
			sess["hostname"] = b.str(k.hostname)
		}
		if k.addr != "" {
			sess["addr"] = b.str(k.addr)
		}
	}
	if b.obj != nil {
		remember(b.obj.sessions, k, sess)
	}
	return sess
}

func (b *boxes) source(ip netip.Addr, port int) map[string]any {
	k := sourceKey{ip, port}
	if b.obj != nil {
		if m, ok := b.obj.sources[k]; ok {
			return m
		}
	}
	src := map[string]any{"ip": ip.String()}
	if port > 0 {
		src["port"] = port
	}
	if b.obj != nil {
		remember(b.obj.sources, k, src)
	}
	return src
}

// related is the related field set: the peer's address and every user
// name of the event (at most four, see plan).
func (b *boxes) related(ip netip.Addr, users []string) map[string]any {
	k := relatedKey{ip: ip, n: len(users)}
	cacheable := b.obj != nil && len(users) <= len(k.users)
	if cacheable {
		copy(k.users[:], users)
		if m, ok := b.obj.related[k]; ok {
			return m
		}
	}
	related := make(map[string]any, 2)
	if ip.IsValid() {
		related["ip"] = []any{ip.String()}
	}
	if len(users) > 0 {
		related["user"] = b.list(users)
	}
	if cacheable {
		remember(b.obj.related, k, related)
	}
	return related
}

func (b *boxes) audit(syscall, key string) map[string]any {
	k := auditKey{syscall, key}
	if b.obj != nil {
		if m, ok := b.obj.audits[k]; ok {
			return m
		}
	}
	audit := make(map[string]any, 2)
	if syscall != "" {
		audit["syscall"] = b.str(syscall)
	}
	if key != "" {
		audit["key"] = b.str(key)
	}
	if b.obj != nil {
		remember(b.obj.audits, k, audit)
	}
	return audit
}

// commandLine joins a process table's argument list once per list.
func (b *boxes) commandLine(ss []string) string {
	if b.obj == nil || len(ss) == 0 {
		return strings.Join(ss, " ")
	}
	k := &ss[0]
	if s, ok := b.obj.cmdlines[k]; ok {
		return s
	}
	return remember(b.obj.cmdlines, k, strings.Join(ss, " "))
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
	argv map[*string]boxedArgs
	// obj, when set, shares whole sub-objects between documents (Scan,
	// whose consumer only reads); nil builds fresh maps per document,
	// for consumers that may modify them (the live enricher).
	obj *objects
}

const boxesMax = 4096

func newBoxes() *boxes {
	return &boxes{ids: map[int64]any{}, nums: map[int]any{}, strs: map[string]any{}, argv: map[*string]boxedArgs{}}
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

// args boxes an argument list, as an interface holding a []any. Lists
// from the process table are shared slices, so the address of the first
// element identifies them.
func (b *boxes) args(ss []string) any {
	if len(ss) == 0 {
		return nil
	}
	k := &ss[0]
	if x, ok := b.argv[k]; ok && x.n == len(ss) {
		return x.v
	}
	if len(b.argv) >= boxesMax {
		clear(b.argv)
	}
	x := make([]any, len(ss))
	for i, v := range ss {
		x[i] = b.str(v)
	}
	b.argv[k] = boxedArgs{x, len(ss)}
	return x
}

// boxedArgs is a boxed argument list and its length.
type boxedArgs struct {
	v any
	n int
}

// list boxes a fresh list of strings.
func (b *boxes) list(ss []string) []any {
	x := make([]any, len(ss))
	for i, v := range ss {
		x[i] = b.str(v)
	}
	return x
}
