package auditd

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xferhunt/xferhunt/ecs"
)

// Documents (SPEC §3): plan gathers one file event's values from the event
// and the tables (fileEvent), and doc builds its ECS document from those
// values alone, so Scan can build on another goroutine. objects.go shares
// repeated sub-objects between documents.

// fileEvent is everything a normalized event says, as plain values taken
// from the records and tables at the moment the event finished. Building
// the ECS maps from it needs no parser state, so Scan does it on another
// goroutine. An event with a sparse document (Options.Sparse) keeps
// nothing else: no planned values.
type fileEvent struct {
	key     string
	context bool // a story's context event (Event.Context)
	// sparse, when set, is the event's whole document: the fields the
	// consumer reads of an event no query matches (Options.Sparse).
	sparse ecs.Doc
	*planned
}

// planned is what a fileEvent says besides its key: most of its ~700
// bytes, made only for whole documents (a sparse event's were 0.8 MB of
// the mixed log's scan).
type planned struct {
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
	interactive          int8       // exec: 1 with a controlling terminal, -1 without, 0 unknown
	peer                 netip.Addr // connect/accept: the other end
	peerPort             int

	fpath, inode    string
	mode            uint32
	hasMode         bool
	ouid, ogid      int64
	owner, group    string
	origPath        string
	hasOrig         bool
	attributedBy    string
	loginSec        int64
	loginMsec       int64
	terminal        string
	leaderPid       int
	leaderExe, acct string
	hostname, addr  string
	ip              netip.Addr
	port            int
	related         []string
}

// ancestor is one known ancestor of the acting process.
type ancestor struct {
	pid, ppid int
	known     bool
	name, exe string
	args      []string // shared with the process table: never modified
}

// plan gathers one file event's values; see fileEvent.
// title is the PROCTITLE value as logged (decoded here only when used).
func (p *Parser) plan(ev *event, si sysInfo, cwd, parentDir string, title []byte, t fileTarget) *fileEvent {
	s := &ev.sys
	// Planned on the stack: a sparse event keeps none of it, a whole one
	// a copy (see planned).
	pl := planned{
		sec: ev.sec, msec: ev.msec, serial: ev.serial,
		hostID: p.opt.HostID, hostName: p.opt.HostName,
		action: t.action, typ: t.typ, syscall: si.name, auditKey: p.strs.str(s.keyVal()),
		pid: s.pid, ppid: s.ppid, cwd: cwd,
		uid: s.uid, euid: s.euid, auid: s.auid, gid: s.gid, ses: s.ses,
		loginSec: -1,
	}
	// Not fe.key: escape analysis does not tell fe's fields apart, so
	// the key leaving in the result would take pl to the heap.
	key := p.key(ev)
	fe := fileEvent{planned: &pl}
	if e := p.procLookup(s.pid); e != nil && e.commRaw == string(s.comm) && e.exeRaw == string(s.exe) {
		fe.comm, fe.exe = e.comm, e.exe // decoded once per process image
	} else {
		fe.comm, fe.exe = p.strs.str(s.comm), p.strs.str(s.exe)
	}
	var proctitle []byte // title decoded, once needed
	if e := p.procLookup(s.pid); e != nil && e.exe == fe.exe && e.argv.get(&p.argvs) != nil {
		fe.args, fe.argsShared = e.argv.get(&p.argvs), true
	} else {
		proctitle = decode(title)
		fe.args = splitTitle(proctitle)
	}
	fe.ouid, fe.ogid = -1, -1
	if it := t.it; it != nil {
		fe.fpath = absPath(it.name, cwd, parentDir)
		fe.mode, fe.hasMode = it.mode, it.hasMode
		fe.ouid, fe.ogid, fe.owner, fe.group = it.ouid, it.ogid, it.owner, it.group
	}
	if t.original != nil {
		fe.origPath, fe.hasOrig = absPath(t.original.name, cwd, parentDir), true
	}
	if sp := p.opt.Sparse; sp != nil && !p.opt.Story {
		// What the consumer reads of an event no query matches is known
		// by now: such an event (most of a scan's) needs neither its
		// original text, a copy of every record, nor the attribution.
		// (A story's context events are made from plan's result: never
		// sparse, so not with Story.)
		if d, ok := fe.sparseDoc(sp.Fields); ok && !sp.Whole(d) {
			return &fileEvent{key: key, sparse: d}
		}
	}
	// Values no sparse document holds (sparseValue), made for whole ones
	// only.
	if proctitle == nil {
		proctitle = decode(title)
	}
	if len(proctitle) > 0 {
		fe.title = strings.ReplaceAll(string(bytes.TrimRight(proctitle, "\x00")), "\x00", " ")
	}
	if it := t.it; it != nil {
		fe.inode = string(it.inodeRaw)
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
	whole := new(planned)
	*whole = pl
	return &fileEvent{key: key, planned: whole}
}

func (p *Parser) key(ev *event) string {
	// Built on the stack when it fits (a host id of up to ~30 bytes):
	// only the string is allocated, not a buffer for it too.
	var buf [64]byte
	b := append(buf[:0], p.opt.HostID...)
	b = append(b, ':')
	b = appendStamp(b, ev)
	return string(b)
}

func appendStamp(b []byte, ev *event) []byte {
	b = strconv.AppendInt(b, ev.sec, 10)
	b = append(b, '.')
	if ev.msec < 100 {
		b = append(b, '0')
	}
	if ev.msec < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, ev.msec, 10)
	b = append(b, ':')
	return strconv.AppendUint(b, ev.serial, 10)
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

// doc builds the ECS document (SPEC §3) of a planned event.
func (fe *fileEvent) doc(bx *boxes) ecs.Doc {
	if fe.sparse != nil {
		return fe.sparse
	}
	ts := any(stamp(fe.sec, fe.msec))
	event := make(map[string]any, 11)
	event["kind"] = "event"
	event["category"] = fe.category(bx)
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
	if fe.interactive != 0 {
		proc["interactive"] = fe.interactive > 0
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
	if !fe.context || fe.gid >= 0 || fe.gidName != "" {
		doc["group"] = bx.group(fe.gid, fe.gidName)
	}
	// A context event has a file when its record names one, or, for
	// fexecve (execveat AT_EMPTY_PATH: PATH item 0 is name=""), only
	// the inode of the file run: how a chain finds the upload it ran.
	if fe.fpath != "" || fe.inode != "" || !fe.context {
		doc["file"] = fe.fileObject(bx)
	}

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
	if fe.peer.IsValid() {
		fe.network(doc, bx)
	}
	x := make(map[string]any, 3)
	x["session"] = bx.session(sk)
	if anc != nil {
		x["ancestry"] = anc
	}
	x["audit"] = bx.audit(fe.syscall, fe.auditKey)
	if f := fe.rawPaths(); f != nil {
		x["file"] = f
	}
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

// rawPaths keeps the bytes of paths that are not valid UTF-8, hex-encoded
// (xferhunt.file.path_hex, .original_path_hex), nil when every path is
// valid. JSON strings are UTF-8: file.path shows invalid bytes as U+FFFD,
// so without these two files named "a\xff" and "a\xfe" would print the
// same, and the responder could not name the one on disk. Hex, as audit
// itself encodes such names; only when needed, so ordinary alerts stay
// as Elastic's.
func (fe *fileEvent) rawPaths() map[string]any {
	var f map[string]any
	add := func(key, p string) {
		if p == "" || utf8.ValidString(p) {
			return
		}
		if f == nil {
			f = make(map[string]any, 2)
		}
		f[key] = hex.EncodeToString([]byte(p))
	}
	add("path_hex", fe.fpath)
	if fe.hasOrig {
		add("original_path_hex", fe.origPath)
	}
	return f
}

// sparseDoc is the document of a file event (not a story's context event)
// holding only fields, dotted paths, with the values doc gives them:
// what Options.Sparse's consumer reads of an event no query matches. Its
// keys are the dotted paths themselves, which ecs.Doc reads as it reads
// nested objects: one small map instead of one per object (2.8 KB a
// document, most of a sparse scan's allocation, when it nested). It
// reports false when a field is not one it knows (the whole document is
// built then). TestSparseDocMatchesDoc holds every known field to doc.
func (fe *fileEvent) sparseDoc(fields []string) (ecs.Doc, bool) {
	if fe.context {
		return nil, false
	}
	d := make(ecs.Doc, len(fields))
	var ts any // one string for both time fields, as in doc
	for _, f := range fields {
		if f == "@timestamp" || f == "event.ingested" {
			if ts == nil {
				ts = stamp(fe.sec, fe.msec)
			}
			d[f] = ts
			continue
		}
		v, ok, known := fe.sparseValue(f)
		if !known {
			return nil, false
		}
		if ok {
			d[f] = v
		}
	}
	return d, true
}

// sparseValue is the value doc gives the field at path, ok false when doc
// leaves it out; known false for a field sparseDoc does not build. Not
// process.title nor file.inode: plan makes them after deciding, for whole
// documents only (no rule reads them).
func (fe *fileEvent) sparseValue(field string) (v any, ok, known bool) {
	some := func(v any, ok bool) (any, bool, bool) { return v, ok, true }
	switch field {
	case "event.kind":
		return some("event", true)
	case "event.category":
		if fe.action == ActionExec || fe.action == ActionConnect || fe.action == ActionAccept || fe.action == ActionLogOn || fe.action == ActionLogOff {
			return nil, false, false // story actions: see category
		}
		return some(categoryFile, true)
	case "event.type":
		return some(sharedEventType(fe.typ), true)
	case "event.action":
		return some(constant(fe.action), true)
	case "event.module":
		return some("auditd", true)
	case "event.dataset":
		return some("xferhunt.auditd", true)
	case "event.id":
		return some(strconv.FormatUint(fe.serial, 10), true)
	case "event.sequence":
		return some(int64(fe.serial), true)
	case "event.outcome":
		return some("success", true)
	case "host.os.type":
		return some("linux", true)
	case "host.id":
		return some(fe.hostID, fe.hostID != "")
	case "host.name":
		return some(fe.hostName, fe.hostName != "")
	case "process.pid":
		return some(fe.pid, true)
	case "process.name":
		return some(fe.comm, fe.comm != "")
	case "process.executable":
		return some(fe.exe, fe.exe != "")
	case "process.args":
		if len(fe.args) == 0 {
			return some(nil, false)
		}
		args := make([]any, len(fe.args))
		for i, a := range fe.args {
			args[i] = a
		}
		return some(args, true)
	case "process.args_count":
		return some(len(fe.args), len(fe.args) > 0)
	case "process.command_line":
		return some(strings.Join(fe.args, " "), len(fe.args) > 0)
	case "process.working_directory":
		return some(fe.cwd, fe.cwd != "")
	case "file.path":
		return some(fe.fpath, fe.fpath != "")
	case "file.name":
		return some(path.Base(fe.fpath), fe.fpath != "")
	case "file.directory":
		return some(path.Dir(fe.fpath), fe.fpath != "")
	case "file.extension":
		ext := extension(path.Base(fe.fpath))
		return some(ext, fe.fpath != "" && ext != "")
	case "file.mode":
		return some(octal4(fe.mode&0o7777), fe.hasMode)
	case "file.type":
		ft := fileType(fe.mode)
		return some(constant(ft), fe.hasMode && ft != "")
	case "file.uid":
		return some(idStr(fe.ouid), fe.ouid >= 0)
	case "file.gid":
		return some(idStr(fe.ogid), fe.ogid >= 0)
	case "file.owner":
		return some(fe.owner, fe.owner != "")
	case "file.group":
		return some(fe.group, fe.group != "")
	}
	return nil, false, false
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

// Values every document of a Scan shares (see boxes.obj).
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

func fileType(mode uint32) string {
	switch mode & 0o170000 {
	case 0o100000:
		return "file"
	case 0o040000:
		return "dir"
	case 0o120000:
		return "symlink"
	case 0o020000:
		return "char_device"
	case 0o060000:
		return "block_device"
	case 0o010000:
		return "fifo"
	case 0o140000:
		return "socket"
	}
	return ""
}

// extension is the text after the last dot of a file name, without the
// dot; dotfiles (".bashrc") and names ending in a dot have none.
func extension(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || i == len(name)-1 {
		return ""
	}
	return name[i+1:]
}

// octal4 renders permission bits as ECS file.mode does: "0644", "4755".
func octal4(m uint32) string {
	o := strconv.FormatUint(uint64(m), 8)
	for len(o) < 4 {
		o = "0" + o
	}
	return o
}

func idStr(v int64) string { return strconv.FormatInt(v, 10) }

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
