package auditd

import (
	"net/netip"

	"github.com/xferhunt/xferhunt/ecs"
)

// The event.action values of the context events a story adds to the file
// events (Options.Story). Names follow Elastic Defend where it has one.
const (
	ActionExec      = "exec"                 // a process image started
	ActionConnect   = "connection_attempted" // connect to a peer
	ActionAccept    = "connection_accepted"  // accept from a peer
	ActionChmod     = "attributes_modified"  // chmod family: file.mode is the new mode
	ActionLogOn     = "log_on"               // a login session opened (USER_START)
	ActionLogOff    = "log_off"              // a login session closed (USER_END)
	categoryProcess = "process"
	categoryNetwork = "network"
	categorySession = "session"
)

// storyExec emits the exec of a process: its new image, args, cwd,
// whether it has a terminal (process.interactive), and the file the kernel
// ran (PATH item 0: for a #! script the script itself, while exe names its
// interpreter), so an uploaded script run through its interpreter still
// names the upload.
func (p *Parser) storyExec(ev *event, si sysInfo, cwd string, items []pathItem, title []byte) {
	t := fileTarget{action: ActionExec, typ: "start"}
	for i := range items {
		if items[i].item == 0 || (t.it == nil && items[i].nametype != "PARENT") {
			t.it = &items[i]
			if items[i].item == 0 {
				break
			}
		}
	}
	fe := p.plan(ev, si, cwd, parentDirOf(items), title, t)
	fe.context = true
	fe.interactive = interactive(ev.sys.tty)
	p.emit(fe)
}

// interactive reads the SYSCALL record's tty field as Elastic Defend's
// process.interactive: a process with a controlling terminal (pts0, tty1)
// is interactive, one without (`(none)`) is not. ssh runs a command it is
// given without a terminal unless asked (-t), and a login shell with one.
// Only exec events carry it, as in Defend (file events do not): the
// documents the seed rule alerts on stay as they were.
func interactive(tty []byte) int8 {
	switch {
	case len(tty) == 0:
		return 0
	case string(tty) == "(none)":
		return -1
	}
	return 1
}

// storyPeer emits a connect or accept with the peer's address. Local
// (AF_UNIX) and unknown families name no peer and are not told.
func (p *Parser) storyPeer(ev *event, si sysInfo, cwd string, saddr, title []byte) {
	ip, port, ok := parseSockaddr(saddr)
	if !ok {
		return
	}
	action := ActionConnect
	if si.class == sysAccept {
		action = ActionAccept
	}
	fe := p.plan(ev, si, cwd, "", title, fileTarget{action: action, typ: "start"})
	fe.peer, fe.peerPort, fe.context = ip, port, true
	p.emit(fe)
}

// storyChmod emits a change of permissions with the new mode (the PATH
// record holds the mode before the call). fchmod names no path: nothing
// to tell a story about.
func (p *Parser) storyChmod(ev *event, si sysInfo, cwd string, items []pathItem, title []byte) {
	var it *pathItem
	for i := range items {
		if items[i].nametype != "PARENT" {
			it = &items[i]
			break
		}
	}
	if it == nil || si.flagArg < 0 {
		return
	}
	changed := *it
	changed.mode = it.mode&^0o7777 | uint32(ev.sys.a[si.flagArg])&0o7777
	changed.hasMode = true
	fe := p.plan(ev, si, cwd, parentDirOf(items), title, fileTarget{action: ActionChmod, typ: "change", it: &changed})
	fe.context = true
	p.emit(fe)
}

// storyLogin emits a login (USER_START, or a PAM login that opens no
// audit session, as vsftpd's) or a logout (USER_END) from the record's
// own fields.
func (p *Parser) storyLogin(h *header, action string, ses int64, pid int, acct, addr, hostname, terminal, exe string) {
	fe := &fileEvent{key: p.loginKey(h), context: true, planned: &planned{
		sec: h.sec, msec: h.msec, serial: h.serial,
		original: string(h.raw), hostID: p.opt.HostID, hostName: p.opt.HostName,
		action: action, typ: "start", pid: pid, ses: ses, loginSec: h.sec, loginMsec: h.msec,
		uid: -1, euid: -1, auid: -1, gid: -1, ouid: -1, ogid: -1,
		acct: acct, addr: addr, hostname: hostname, terminal: terminal, leaderPid: pid, leaderExe: exe,
		exe: exe, attributedBy: "session",
	}}
	if action == ActionLogOff {
		fe.typ = "end"
	}
	// The login's time is the session's, as its other events carry it
	// (xferhunt.session.login_time: the kernel's LOGIN record, which
	// starts the session before PAM's USER_START): it tells two logins
	// that reused one session id apart.
	if ses >= 0 && ses != unset {
		if e, ok := p.sessions.get(uint32(ses)); ok {
			fe.loginSec, fe.loginMsec = e.sec, e.msec
		}
	}
	if ses < 0 || ses == unset {
		fe.attributedBy = "ancestry"
	}
	fe.ip, _ = netip.ParseAddr(addr)
	if acct != "" {
		fe.uidName = acct
		fe.related = []string{acct}
	}
	p.emit(fe)
}

func (p *Parser) loginKey(h *header) string {
	return p.key(&event{sec: h.sec, msec: h.msec, serial: h.serial})
}

// category is the event.category of a planned event.
func (fe *fileEvent) category(bx *boxes) any {
	switch fe.action {
	case ActionExec:
		return []any{categoryProcess}
	case ActionConnect, ActionAccept:
		return []any{categoryNetwork}
	case ActionLogOn, ActionLogOff:
		return []any{"authentication", categorySession}
	}
	return bx.category()
}

// network adds the peer of a connect (destination) or an accept (source).
// The login's address stays in xferhunt.session.addr: for a connection,
// source means the connection's own source.
func (fe *fileEvent) network(doc ecs.Doc, bx *boxes) {
	peer := bx.source(fe.peer, fe.peerPort)
	if fe.action == ActionConnect {
		doc["destination"] = peer
		delete(doc, "source")
	} else {
		doc["source"] = peer
	}
	doc["related"] = bx.related(fe.peer, fe.related)
}
