package auditd

import (
	"bytes"
	"encoding/binary"
	"path"
	"strconv"
	"strings"
)

// Finishing an event: its PATH, CWD, EXECVE, PROCTITLE and SOCKADDR
// records become the file events to emit (fileTarget) and updates of the
// attribution tables; document.go plans and builds each one.

// mayEmit is a byte-level look at the PATH records that rules out, before
// any decoding, the many syscall events that yield no file event (reads,
// opens of existing files, execs of the same binaries).
func (p *Parser) mayEmit(ev *event, si sysInfo, known bool) bool {
	trunc := known && si.class == sysOpen && ev.sys.exit >= 0 && rewrites(si, &ev.sys.a)
	for _, r := range ev.recs {
		if r.kind != rkPath {
			continue
		}
		nt := r.nt
		if nt == ntUnread {
			nt = nameTypeOf(r.text())
		}
		switch nt {
		case ntCreate:
			return true
		case ntDelete:
			if si.class == sysRename || si.class == sysDelete {
				return true
			}
		case ntNormal:
			if trunc || si.class == sysRename {
				return true
			}
		}
	}
	return false
}

// nameType is what mayEmit reads of a PATH record's nametype.
type nameType uint8

const (
	ntUnread nameType = iota
	ntCreate
	ntDelete
	ntNormal
	ntOther // any other value, or none
)

// nameTypeOf reads the nametype of a PATH record's body. Scan's splitters
// read it ahead, so that deciding whether an event can emit (mayEmit, for
// every finished syscall event) does not search PATH records in the
// in-order stage.
func nameTypeOf(body []byte) nameType {
	switch string(field(body, "nametype")) {
	case "CREATE":
		return ntCreate
	case "DELETE":
		return ntDelete
	case "NORMAL":
		return ntNormal
	}
	return ntOther
}

// fileTarget is one file event to emit from a syscall event.
type fileTarget struct {
	action, typ string
	it          *pathItem
	original    *pathItem
}

// finish turns a complete event into file events and table updates.
func (p *Parser) finish(ev *event) {
	if !ev.hasSys {
		return
	}
	s := &ev.sys
	if s.failed(p.opt.Story) {
		return
	}
	si, known := s.info()
	if si.class == sysFork {
		p.seeFork(s.pid, s.exit, ev.serial)
		return
	}
	story := p.opt.Story
	switch si.class {
	case sysExec, sysAccept:
	case sysChmod, sysConnect:
		if !story {
			return
		}
	default:
		if !p.mayEmit(ev, si, known) {
			return
		}
	}
	var (
		cwd   string
		items = p.scratchItems[:0]
		title []byte // the PROCTITLE value, still encoded
		execs = p.scratchExec[:0]
		saddr []byte
	)
	for _, r := range ev.recs {
		body := r.text()
		switch r.kind {
		case rkCwd:
			cwd = p.strs.str(field(body, "cwd"))
		case rkPath:
			if si.class == sysExec && !story {
				continue
			}
			items = append(items, parsePath(body, r.enriched()))
		case rkProctitle:
			title = field(body, "proctitle")
		case rkExecve:
			execs = append(append(execs, body...), '\n')
		case rkSockaddr:
			saddr = field(body, "saddr")
		}
	}
	switch si.class {
	case sysExec:
		p.seeProcess(&s.sysHead, ev.sec)
		if e := p.procLookup(s.pid); e != nil {
			e.argv, e.cwd = p.argvs.lazy(execs, title), cwd
		}
		p.scratchExec = execs[:0]
		if story {
			p.storyExec(ev, si, cwd, items, title)
		}
		p.scratchItems = items[:0]
		return
	case sysAccept, sysConnect:
		if si.class == sysAccept && len(saddr) > 0 {
			p.seeAccept(s.pid, saddr, ev.sec, ev.msec, ev.serial)
		}
		if story && len(saddr) > 0 {
			p.storyPeer(ev, si, cwd, saddr, title)
		}
		return
	case sysChmod:
		p.placeAt(si, &s.a, items, cwd, parentDirOf(items))
		p.storyChmod(ev, si, cwd, items, title)
		p.scratchItems = items[:0]
		return
	}
	if e := p.procLookup(s.pid); e != nil && cwd != "" {
		e.cwd = cwd
	}
	p.placeAt(si, &s.a, items, cwd, parentDirOf(items))
	defer func() { p.scratchItems = items[:0] }()
	targets := p.scratchTargets[:0]
	defer func() { p.scratchTargets = targets[:0] }()
	switch si.class {
	case sysRename:
		var src, dst *pathItem
		for i := range items {
			switch items[i].nametype {
			case "DELETE":
				if src == nil {
					src = &items[i]
				}
			case "CREATE":
				if dst == nil {
					dst = &items[i]
				}
			}
		}
		if dst == nil {
			for i := len(items) - 1; i >= 0; i-- {
				if items[i].nametype != "PARENT" && &items[i] != src {
					dst = &items[i]
					break
				}
			}
		}
		if dst != nil {
			targets = append(targets, fileTarget{"rename", "change", dst, src})
		}
	case sysDelete:
		for i := range items {
			if items[i].nametype == "DELETE" {
				targets = append(targets, fileTarget{"deletion", "deletion", &items[i], nil})
			}
		}
	default:
		for i := range items {
			if items[i].nametype == "CREATE" {
				targets = append(targets, fileTarget{"creation", "creation", &items[i], nil})
			}
		}
		if len(targets) == 0 && known && si.class == sysOpen && s.exit >= 0 {
			if rewrites(si, &s.a) {
				for i := range items {
					if items[i].nametype == "NORMAL" && (!items[i].hasMode || items[i].mode&0o170000 == 0o100000) {
						targets = append(targets, fileTarget{"overwrite", "change", &items[i], nil})
						break
					}
				}
			}
		}
	}
	if len(targets) == 0 {
		return
	}
	parentDir := parentDirOf(items)
	for _, t := range targets {
		p.emit(p.plan(ev, si, cwd, parentDir, title, t))
	}
}

// pathItem is one PATH record.
type pathItem struct {
	item       int
	name       string
	nametype   string
	inodeRaw   []byte // points into the event's buffer
	devRaw     []byte // "fe:00", likewise
	mode       uint32
	hasMode    bool
	ouid, ogid int64
	owner      string // ENRICHED OUID name
	group      string // ENRICHED OGID name
}

// nametypeStr returns the kernel's nametype values as constants, so that
// parsing a PATH record does not allocate for them.
func nametypeStr(v []byte) string {
	switch string(v) {
	case "CREATE":
		return "CREATE"
	case "PARENT":
		return "PARENT"
	case "NORMAL":
		return "NORMAL"
	case "DELETE":
		return "DELETE"
	case "UNKNOWN":
		return "UNKNOWN"
	}
	return string(v)
}

func parsePath(body, enriched []byte) pathItem {
	it := pathItem{ouid: -1, ogid: -1, item: -1}
	t := kv{b: body}
	// The kernel writes each field once, the capability fields last: stop
	// once every field used here has been read.
	const all = 1<<8 - 1
	seen := 0
	for seen != all {
		k, v, ok := t.next()
		if !ok {
			break
		}
		switch string(k) {
		case "item":
			n, _ := atoiAll(v)
			it.item = int(n)
			seen |= 1 << 0
		case "name":
			if string(v) != "(null)" {
				it.name = string(decode(v))
			}
			seen |= 1 << 1
		case "inode":
			it.inodeRaw = v
			seen |= 1 << 2
		case "dev":
			it.devRaw = v
			seen |= 1 << 7
		case "mode":
			if m, err := strconv.ParseUint(string(v), 8, 32); err == nil {
				it.mode, it.hasMode = uint32(m), true
			}
			seen |= 1 << 3
		case "ouid":
			it.ouid = idVal(v)
			seen |= 1 << 4
		case "ogid":
			it.ogid = idVal(v)
			seen |= 1 << 5
		case "nametype":
			it.nametype = nametypeStr(v)
			seen |= 1 << 6
		}
	}
	if len(enriched) > 0 {
		it.owner = decodeStr(field(enriched, "OUID"))
		it.group = decodeStr(field(enriched, "OGID"))
	}
	return it
}

// parentDirOf is the first absolute PARENT item's name: relative names of
// the event are joined with it when the CWD record is missing.
func parentDirOf(items []pathItem) string {
	for i := range items {
		if items[i].nametype == "PARENT" && strings.HasPrefix(items[i].name, "/") {
			return items[i].name
		}
	}
	return ""
}

// absPath makes a logged name absolute: relative names are joined with
// the CWD record, else with the PARENT item's directory.
func absPath(name, cwd, parentDir string) string {
	if name == "" {
		return ""
	}
	if name[0] != '/' {
		base := cwd
		if base == "" {
			base = parentDir
		}
		if base == "" || base[0] != '/' {
			return name
		}
		name = base + "/" + name
	}
	return path.Clean(name)
}

// parseExecve adds one EXECVE record's arguments (a0=…, long ones split as
// a1_len=N a1[0]=… a1[1]=…, any of them hex) to args.
func parseExecve(body []byte, args *[]string) {
	t := kv{b: body}
	for {
		k, v, ok := t.next()
		if !ok {
			return
		}
		if string(k) == "argc" {
			n, _ := atoiAll(v)
			if n > 0 && n <= 1<<16 && len(*args) < int(n) {
				*args = append(*args, make([]string, int(n)-len(*args))...)
			}
			continue
		}
		if len(k) < 2 || k[0] != 'a' {
			continue
		}
		idx, n := atoi(k[1:])
		if n == 0 || idx > 1<<16 {
			continue
		}
		rest := k[1+n:]
		if len(rest) > 0 && rest[0] != '[' {
			continue // a1_len=
		}
		for int(idx) >= len(*args) {
			*args = append(*args, "")
		}
		if len(rest) == 0 {
			(*args)[idx] = string(decode(v))
		} else {
			(*args)[idx] += string(decode(v))
		}
	}
}

// splitTitle splits a PROCTITLE (NUL-separated argv, possibly truncated).
func splitTitle(t []byte) []string {
	if len(t) == 0 {
		return nil
	}
	t = bytes.TrimRight(t, "\x00")
	parts := bytes.Split(t, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}

// lazyArgs is the argument list of an exec, kept as logged and decoded on
// first use: most processes never act in a file event nor parent one, and
// decoding every exec's arguments was a large share of the parse.
type lazyArgs struct {
	raw   string // EXECVE bodies, each ended by '\n', then the PROCTITLE value
	split int    // raw[:split] is the EXECVE part
	args  []string
	done  bool
}

// get decodes the list once: the EXECVE arguments, else the PROCTITLE's,
// as the one slice in lists for those arguments. The result is shared:
// never modify it.
func (l *lazyArgs) get(lists *argLists) []string {
	if l == nil {
		return nil
	}
	if !l.done {
		var args []string
		raw := []byte(l.raw) // decoding reads bytes; once per list
		for b := raw[:l.split]; len(b) > 0; {
			i := bytes.IndexByte(b, '\n')
			parseExecve(b[:i], &args)
			b = b[i+1:]
		}
		if args == nil {
			args = splitTitle(decode(raw[l.split:]))
		}
		l.args, l.raw, l.done = lists.canonical(args), "", true
	}
	return l.args
}

// argLists hands out one slice per distinct argument list. A shell loop or
// a session that runs the same command again logs the same arguments each
// time; sharing the slice lets the document builder, which keys its caches
// on a list's identity, box and join them once.
type argLists struct {
	m   map[string][]string
	key []byte
	// raws holds the lazyArgs of recent execs by their raw text (EXECVE
	// bodies, then PROCTITLE), so that an exec logged alike again (a cron
	// job, a monitoring agent, a shell loop) costs no copy: copying every
	// exec's records was a tenth of a scan's allocation, and fresh memory
	// costs a page fault per 4 KiB. Bounded like an interner (rawBytes).
	raws     map[string]*lazyArgs
	rawBytes int
	rawKey   []byte
}

// maxSharedRaw bounds the raw text of an exec that argLists shares, so
// that one huge exec does not push out the many ordinary ones (the held
// text is bounded by internBytes). Long lists repeat too: a job's Java
// command line, the mixed log's 7.6 and 16.7 KB execs (45 times each).
const maxSharedRaw = 64 << 10

// lazy returns the lazyArgs of an exec's EXECVE bodies (each ended by
// '\n') and PROCTITLE value: the one of an exec logged alike before, if
// still held, else a new one holding a copy of them. Processes may share
// one: decoding is the same for all, and the list is never modified.
func (al *argLists) lazy(execs, title []byte) *lazyArgs {
	k := append(append(al.rawKey[:0], execs...), title...)
	al.rawKey = k[:0]
	had, ok := al.raws[string(k)]
	if ok && had.split == len(execs) {
		return had
	}
	l := &lazyArgs{raw: string(k), split: len(execs)}
	if len(k) > maxSharedRaw {
		return l
	}
	if !ok { // else the same text, split otherwise, is replaced
		if al.raws == nil || len(al.raws) >= internMax || al.rawBytes+len(k) > internBytes {
			al.raws, al.rawBytes = make(map[string]*lazyArgs, 256), 0
		}
		al.rawBytes += len(k)
	}
	al.raws[l.raw] = l
	return l
}

// canonical returns the list already seen with the same arguments, else
// args itself, remembered.
func (al *argLists) canonical(args []string) []string {
	if len(args) == 0 {
		return args
	}
	// Length-prefixed, so that no two different lists share a key.
	k := al.key[:0]
	for _, a := range args {
		k = binary.AppendUvarint(k, uint64(len(a)))
		k = append(k, a...)
	}
	al.key = k
	if c, ok := al.m[string(k)]; ok {
		return c
	}
	if al.m == nil || len(al.m) >= internMax {
		al.m = make(map[string][]string, 256)
	}
	al.m[string(k)] = args
	return args
}
