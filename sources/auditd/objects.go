package auditd

import (
	"encoding/binary"
	"net/netip"
	"path"
	"strings"
)

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

// share returns the sub-object a Scan already built for k, or builds it
// (and, in a Scan, remembers it). cache picks the Scan's cache for the
// kind; neither it nor build captures anything, so the per-event path
// allocates no closures. Without a cache (the live parser, whose consumers
// enrich documents in place) every document gets its own object.
func share[K comparable](b *boxes, cache func(*objects) map[K]map[string]any, k K, build func(*boxes, K) map[string]any) map[string]any {
	if b.obj == nil {
		return build(b, k)
	}
	m := cache(b.obj)
	if v, ok := m[k]; ok {
		return v
	}
	return remember(m, k, build(b, k))
}

func (b *boxes) category() any {
	if b.obj != nil {
		return categoryFile
	}
	return []any{"file"}
}

func (b *boxes) eventType(t string) any {
	if b.obj != nil {
		return sharedEventType(t)
	}
	return []any{t}
}

// sharedEventType is event.type's value, shared between documents for the
// usual types.
func sharedEventType(t string) any {
	switch t {
	case "creation":
		return typeCreation
	case "change":
		return typeChange
	case "deletion":
		return typeDeletion
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
	return share(b, func(o *objects) map[parentKey]map[string]any { return o.parents }, k, buildParent)
}

func buildParent(b *boxes, k parentKey) map[string]any {
	pid, name, exe := k.pid, k.name, k.exe
	parent := map[string]any{"pid": b.num(pid)}
	if name != "" {
		parent["name"] = b.str(name)
	}
	if exe != "" {
		parent["executable"] = b.str(exe)
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
	return share(b, func(o *objects) map[userKey]map[string]any { return o.users }, k, buildUser)
}

func buildUser(b *boxes, k userKey) map[string]any {
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
	return user
}

func (b *boxes) group(gid int64, name string) map[string]any {
	k := groupKey{gid, name}
	return share(b, func(o *objects) map[groupKey]map[string]any { return o.groups }, k, buildGroup)
}

func buildGroup(b *boxes, k groupKey) map[string]any {
	gid, name := k.gid, k.name
	group := make(map[string]any, 2)
	if gid >= 0 {
		group["id"] = b.id(gid)
	}
	if name != "" {
		group["name"] = b.str(name)
	}
	return group
}

func (b *boxes) leader(k leaderKey) map[string]any {
	return share(b, func(o *objects) map[leaderKey]map[string]any { return o.leaders }, k, buildLeader)
}

func buildLeader(b *boxes, k leaderKey) map[string]any {
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
	return leader
}

func (b *boxes) session(k sessKey) map[string]any {
	return share(b, func(o *objects) map[sessKey]map[string]any { return o.sessions }, k, buildSession)
}

func buildSession(b *boxes, k sessKey) map[string]any {
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
	return sess
}

func (b *boxes) source(ip netip.Addr, port int) map[string]any {
	k := sourceKey{ip, port}
	return share(b, func(o *objects) map[sourceKey]map[string]any { return o.sources }, k, buildSource)
}

func buildSource(b *boxes, k sourceKey) map[string]any {
	ip, port := k.ip, k.port
	src := map[string]any{"ip": ip.String()}
	if port > 0 {
		src["port"] = port
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
	return share(b, func(o *objects) map[auditKey]map[string]any { return o.audits }, k, buildAudit)
}

func buildAudit(b *boxes, k auditKey) map[string]any {
	syscall, key := k.syscall, k.key
	audit := make(map[string]any, 2)
	if syscall != "" {
		audit["syscall"] = b.str(syscall)
	}
	if key != "" {
		audit["key"] = b.str(key)
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
