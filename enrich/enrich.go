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
	"syscall"
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
	// SettleWait bounds how long Settle waits for the writer to close the
	// file (default 10 minutes: a large upload over a slow link).
	SettleWait time.Duration
	// SettleBudget bounds hashing in Settle and Recheck (default 30s).
	SettleBudget time.Duration
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
	if opt.SettleWait == 0 {
		opt.SettleWait = 10 * time.Minute
	}
	if opt.SettleBudget == 0 {
		opt.SettleBudget = 30 * time.Second
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
// ancestry and file facts, all within the time budget. It returns true
// when the file facts are pending (the writer still has the file open):
// the caller should then Settle the document and send it again.
func (e *Enricher) Alert(ctx context.Context, d ecs.Doc) (pending bool) {
	ctx, cancel := context.WithTimeout(ctx, e.opt.Budget)
	defer cancel()
	e.Names(d)
	e.identity(d)
	e.process(d)
	if p := d.Str("file.path"); p != "" {
		return e.file(ctx, d, p)
	}
	return false
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
	// ancestry is chain as the alert field (ProcessAncestry), built once:
	// the alerts of one transfer process within procTTL share it. It is
	// read-only, like a rule's fields in an alert (detect.alertBase): an
	// alert changed after it went out is a Clone.
	ancestry []any
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
	f.ancestry = ancestryField(f.chain)
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
	d.Set(ProcessAncestry, f.ancestry)
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

// ancestryField is a chain as the alert's ProcessAncestry value.
func ancestryField(chain []Process) []any {
	anc := make([]any, 0, len(chain))
	for _, p := range chain {
		args := make([]any, len(p.Args))
		for i, a := range p.Args {
			args[i] = a
		}
		anc = append(anc, map[string]any{"pid": p.PID, "ppid": p.PPID, "name": p.Name, "executable": p.Exe, "args": args})
	}
	return anc
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

// file records the landed file's state under xferhunt.file.* (the event's
// own file.* fields describe the file at event time). While the event's
// process still holds the file open the upload is not done: facts taken
// now would describe a file still being written (size 0, the hash of
// nothing), so only FileFactsState = FactsPending is recorded and true
// returned; Settle takes them later.
func (e *Enricher) file(ctx context.Context, d ecs.Doc, path string) (pending bool) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && e.writerHolds(d, uint64(st.Dev), st.Ino) {
			clearFacts(d)
			d.Set(FileExists, true)
			d.Set(FileFactsState, FactsPending)
			d.Set(FileFactsAt, time.Now().UTC().Format(time.RFC3339Nano))
			return true
		}
	}
	e.record(d, StatFile(ctx, path, e.opt.MaxHash), FactsFinal)
	return false
}

// writerHolds reports whether the event's process still has dev/ino open.
func (e *Enricher) writerHolds(d ecs.Doc, dev, ino uint64) bool {
	pid, err := strconv.Atoi(d.Str("process.pid"))
	if err != nil || pid <= 0 {
		return false
	}
	held, _ := e.opt.Proc.Holds(pid, dev, ino)
	return held
}

// Settle waits until the event's process has closed the file or exited,
// polling at most wait (Options.SettleWait when 0), then records the
// facts: FactsFinal, or FactsPartial when the wait ran out or ctx ended
// first. It blocks: callers run it off the detection path.
func (e *Enricher) Settle(ctx context.Context, d ecs.Doc, wait time.Duration) {
	path := d.Str("file.path")
	if path == "" {
		return
	}
	if wait <= 0 {
		wait = e.opt.SettleWait
	}
	deadline := time.Now().Add(wait)
	poll := 50 * time.Millisecond
	state := FactsFinal
	for {
		fi, err := os.Lstat(path)
		if err != nil || !fi.Mode().IsRegular() {
			break // gone or replaced: nothing left to wait for
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || !e.writerHolds(d, uint64(st.Dev), st.Ino) {
			break
		}
		if !time.Now().Before(deadline) || ctx.Err() != nil {
			state = FactsPartial
			break
		}
		t := time.NewTimer(min(poll, time.Until(deadline)))
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		poll = min(poll*2, time.Second)
	}
	// The hash of a finished upload is worth a longer budget than alert
	// time allows; this runs off the detection path.
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.opt.SettleBudget)
	defer cancel()
	e.record(d, StatFile(hctx, path, e.opt.MaxHash), state)
}

// Recheck records the file's facts as they are now (the TUI's re-check):
// FactsPartial while the event's process still holds the file open,
// FactsFinal otherwise.
func (e *Enricher) Recheck(ctx context.Context, d ecs.Doc) {
	path := d.Str("file.path")
	if path == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, e.opt.SettleBudget)
	defer cancel()
	ff := StatFile(ctx, path, e.opt.MaxHash)
	state := FactsFinal
	if ff.Exists && ff.Ino != 0 && e.writerHolds(d, ff.Dev, ff.Ino) {
		state = FactsPartial
	}
	e.record(d, ff, state)
}

// clearFacts removes earlier facts, so an update never mixes a new size
// with an old hash.
func clearFacts(d ecs.Doc) {
	for _, f := range FileFactFields {
		d.Delete(f)
	}
	d.Delete(FileFactsState)
	d.Delete(FileFactsAt)
}

// record writes ff into d with its state.
func (e *Enricher) record(d ecs.Doc, ff FileFacts, state string) {
	clearFacts(d)
	d.Set(FileFactsState, state)
	d.Set(FileFactsAt, time.Now().UTC().Format(time.RFC3339Nano))
	d.Set(FileExists, ff.Exists)
	if !ff.Exists {
		return
	}
	if rec := d.Str("file.inode"); rec != "" && ff.Ino != 0 && rec != strconv.FormatUint(ff.Ino, 10) {
		// The path names another file than the event's: say so beside
		// facts that are not the uploaded file's.
		d.Set(FileReplaced, true)
	}
	if ff.Kind == behindSymlink {
		// Size, mode and owner would be zeros, and uid 0 would claim root
		// owns a file nobody looked at.
		d.Set(FileType, ff.Kind)
		d.Set(FileHashSkipped, ff.HashSkipped)
		return
	}
	d.Set(FileSize, ff.Size)
	d.Set(FileMode, octalMode(ff.Mode))
	d.Set(FileUID, strconv.FormatUint(uint64(ff.UID), 10))
	d.Set(FileGID, strconv.FormatUint(uint64(ff.GID), 10))
	if n := e.users.Name(strconv.FormatUint(uint64(ff.UID), 10)); n != "" {
		d.Set(FileOwner, n)
	}
	if n := e.groups.Name(strconv.FormatUint(uint64(ff.GID), 10)); n != "" {
		d.Set(FileGroup, n)
	}
	d.Set(FileType, ff.Kind)
	if ff.SHA256 != "" {
		d.Set(FileSHA256, ff.SHA256)
	}
	if ff.HashSkipped != "" {
		d.Set(FileHashSkipped, ff.HashSkipped)
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
