// Package enrich adds what a responder asks first to a live event that is
// about to become an alert (SPEC §4): who (user and group names from the
// host's database), from where (the SSH client from a process's
// environment, or the peers of its sockets), the process ancestry, and
// facts about the file that landed. Everything it reads is live host
// state, so it runs at alert time, within a time budget, and never
// overwrites what the audit records already said.
package enrich

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
)

// Options configure an Enricher.
type Options struct {
	// Proc is the procfs to read (default /proc).
	Proc Proc
	// Passwd and Group are the user databases (default /etc/passwd, /etc/group).
	Passwd, Group string
	// MaxHash is the largest file hashed (default 64 MiB).
	MaxHash int64
	// Budget bounds one Enrich call (default 500ms); hashing stops there.
	Budget time.Duration
	// MaxAncestry bounds the ancestry chain read (default 16).
	MaxAncestry int
}

// Enricher enriches documents; it is safe for concurrent use.
type Enricher struct {
	opt    Options
	users  *IDNames
	groups *IDNames

	mu    sync.Mutex
	procs map[int]procFacts
}

// New returns an Enricher.
func New(opt Options) *Enricher {
	if opt.Passwd == "" {
		opt.Passwd = "/etc/passwd"
	}
	if opt.Group == "" {
		opt.Group = "/etc/group"
	}
	if opt.MaxHash == 0 {
		opt.MaxHash = 64 << 20
	}
	if opt.Budget == 0 {
		opt.Budget = 500 * time.Millisecond
	}
	if opt.MaxAncestry == 0 {
		opt.MaxAncestry = 16
	}
	return &Enricher{opt: opt, users: NewIDNames(opt.Passwd), groups: NewIDNames(opt.Group), procs: map[int]procFacts{}}
}

// Names fills user and group names from ids where the records gave none.
// It reads only the (cached) user database, so it is cheap enough for
// every event.
func (e *Enricher) Names(d ecs.Doc) {
	for _, f := range []struct{ id, name string }{
		{"user.id", "user.name"}, {"user.effective.id", "user.effective.name"},
		{"user.audit.id", "user.audit.name"}, {"file.uid", "file.owner"},
	} {
		e.fillName(d, e.users, f.id, f.name)
	}
	e.fillName(d, e.groups, "group.id", "group.name")
	e.fillName(d, e.groups, "file.gid", "file.group")
	if n := d.Str("user.name"); n != "" && d.Get("related.user") == nil {
		d.Set("related.user", []any{n})
	}
}

func (e *Enricher) fillName(d ecs.Doc, db *IDNames, idField, nameField string) {
	if d.Str(nameField) != "" {
		return
	}
	id := d.Str(idField)
	if id == "" || id == "4294967295" {
		return
	}
	if n := db.Name(id); n != "" {
		d.Set(nameField, n)
	}
}

// Alert enriches a document about to become an alert: names, connection,
// ancestry and file facts, all within the time budget.
func (e *Enricher) Alert(ctx context.Context, d ecs.Doc) {
	ctx, cancel := context.WithTimeout(ctx, e.opt.Budget)
	defer cancel()
	e.Names(d)
	e.identity(d)
	e.process(d)
	if p := d.Str("file.path"); p != "" {
		e.file(ctx, d, p)
	}
}

// procTTL is how long what /proc said about one process is reused: a
// transfer process writing thousands of files is read once, not per file,
// while a reused pid is not mistaken for long.
const procTTL = 2 * time.Second

// procCacheMax bounds the cache; it is cleared when full.
const procCacheMax = 4096

// procFacts is what process() learns about one pid.
type procFacts struct {
	at    time.Time
	chain []Process
	// the connection, when the process tree tells it
	ip        string
	port, via int
	how       string
	// peers are the tree's established TCP peers, self first (asked for
	// with wantSource).
	peers []Peer
}

// lookup returns the facts for pid, reading /proc only when the cached
// ones are older than procTTL. wantSource asks for the connection too,
// which costs a walk over the tree's sockets.
func (e *Enricher) lookup(pid int, wantSource bool) procFacts {
	now := time.Now()
	e.mu.Lock()
	f, ok := e.procs[pid]
	e.mu.Unlock()
	if ok && now.Sub(f.at) < procTTL && (!wantSource || f.how != "") {
		return f
	}
	f = procFacts{at: now, chain: e.opt.Proc.Ancestry(pid, e.opt.MaxAncestry)}
	if len(f.chain) > 0 {
		if ip, port, via, ok := e.opt.Proc.SSHConnection(f.chain); ok {
			f.ip, f.port, f.via, f.how = ip.String(), port, via, "proc-environ"
		} else if wantSource {
			f.how = "none"
			f.peers = e.opt.Proc.SocketPeers(f.chain)
			for _, pe := range f.peers {
				f.ip, f.port, f.via, f.how = pe.Remote.Addr().String(), int(pe.Remote.Port()), pe.PID, "proc-socket"
				break
			}
		}
	}
	e.mu.Lock()
	if len(e.procs) >= procCacheMax {
		clear(e.procs)
	}
	e.procs[pid] = f
	e.mu.Unlock()
	return f
}

// process attributes the connection and ancestry from /proc when the
// records did not. The process may be gone: then nothing is added.
func (e *Enricher) process(d ecs.Doc) {
	pid, err := strconv.Atoi(d.Str("process.pid"))
	if err != nil || pid <= 0 {
		return
	}
	// The records may name the address (a PAM record) but not the port: the
	// connection was accepted before the rules were loaded.
	wantPort := d.Str("source.ip") != "" && d.Get("source.port") == nil
	f := e.lookup(pid, d.Str("source.ip") == "" || wantPort)
	chain := f.chain
	if len(chain) == 0 {
		return
	}
	anc := make([]any, 0, len(chain))
	for _, p := range chain {
		args := make([]any, len(p.Args))
		for i, a := range p.Args {
			args[i] = a
		}
		anc = append(anc, map[string]any{"pid": p.PID, "ppid": p.PPID, "name": p.Name, "executable": p.Exe, "args": args})
	}
	d.Set("xferhunt.process.ancestry", anc)
	if len(chain) > 1 && d.Get("process.parent.pid") == nil {
		d.Set("process.parent.pid", chain[1].PID)
	}
	if len(chain) > 1 && d.Str("process.parent.name") == "" {
		d.Set("process.parent.name", chain[1].Name)
		if chain[1].Exe != "" {
			d.Set("process.parent.executable", chain[1].Exe)
		}
	}
	if wantPort {
		e.fillPort(d, f)
		return
	}
	if d.Str("source.ip") != "" || f.ip == "" {
		return
	}
	e.setSource(d, f.ip, f.port, f.how, f.via)
}

// fillPort takes the port of the connection from the recorded address that
// the oldest process of the tree holds: a forking server's session process
// holds the control connection, its children also hold data connections
// from the same address.
func (e *Enricher) fillPort(d ecs.Doc, f procFacts) {
	ip := d.Str("source.ip")
	if f.how == "proc-environ" && f.ip == ip {
		d.Set("source.port", f.port)
		d.Set("xferhunt.connection.port_by", f.how)
		return
	}
	var best *Peer
	for i := range f.peers {
		if f.peers[i].Remote.Addr().String() == ip {
			best = &f.peers[i]
		}
	}
	if best != nil {
		d.Set("source.port", int(best.Remote.Port()))
		d.Set("xferhunt.connection.port_by", "proc-socket")
	}
}

func (e *Enricher) setSource(d ecs.Doc, ip string, port int, how string, pid int) {
	d.Set("source.ip", ip)
	d.Set("source.port", port)
	d.Set("xferhunt.connection.attributed_by", how)
	d.Set("xferhunt.connection.pid", pid)
	rel := d.Values("related.ip")
	d.Set("related.ip", append(rel, ip))
}

// file records the landed file's state under xferhunt.file.*: the
// event's own file.* fields describe the file at event time.
func (e *Enricher) file(ctx context.Context, d ecs.Doc, path string) {
	ff := StatFile(ctx, path, e.opt.MaxHash)
	d.Set("xferhunt.file.exists", ff.Exists)
	if !ff.Exists {
		return
	}
	if ff.Kind == behindSymlink {
		// Size, mode and owner would be zeros, and uid 0 would claim root
		// owns a file nobody looked at.
		d.Set("xferhunt.file.type", ff.Kind)
		d.Set("xferhunt.file.hash.skipped", ff.HashSkipped)
		return
	}
	d.Set("xferhunt.file.size", ff.Size)
	d.Set("xferhunt.file.mode", octalMode(ff.Mode))
	d.Set("xferhunt.file.uid", strconv.FormatUint(uint64(ff.UID), 10))
	d.Set("xferhunt.file.gid", strconv.FormatUint(uint64(ff.GID), 10))
	if n := e.users.Name(strconv.FormatUint(uint64(ff.UID), 10)); n != "" {
		d.Set("xferhunt.file.owner", n)
	}
	if n := e.groups.Name(strconv.FormatUint(uint64(ff.GID), 10)); n != "" {
		d.Set("xferhunt.file.group", n)
	}
	d.Set("xferhunt.file.type", ff.Kind)
	if ff.SHA256 != "" {
		d.Set("xferhunt.file.hash.sha256", ff.SHA256)
	}
	if ff.HashSkipped != "" {
		d.Set("xferhunt.file.hash.skipped", ff.HashSkipped)
	}
}

// octalMode renders a mode as chmod would take it, special bits included.
func octalMode(m os.FileMode) string {
	v := uint32(m.Perm())
	if m&os.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		v |= 0o1000
	}
	return fmt.Sprintf("%04o", v)
}
