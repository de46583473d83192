package pipeline

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/limitfile"
	"github.com/xferhunt/xferhunt/story"
)

// responder is the footprint of the person running xferhunt on this host:
// its own executable (whose upload is the responder's arrival, not an
// attacker's) and the audit login session it was started from. Their
// events are marked, never hidden unless asked (--hide-own).
type responder struct {
	host    string // host.id of this host: marks apply to its events only
	inode   string // the running executable's inode, as audit PATH records print it
	session int64  // the audit session xferhunt runs in, story.NoSession if none
	hide    bool
}

// ownSessionFile and the executable are this process's own facts, read
// once at start: they describe the responder, never the recorded data.
const ownSessionFile = "/proc/self/sessionid"

// newResponder reads this process's executable and session.
func newResponder(host string, hide bool) *responder {
	r := &responder{host: host, session: story.NoSession, hide: hide}
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				r.inode = strconv.FormatUint(st.Ino, 10)
			}
		}
	}
	if b, err := limitfile.Read(ownSessionFile, 32); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n >= 0 && n != 4294967295 {
			r.session = n
		}
	}
	return r
}

// String says what was found, for the status line at start.
func (r *responder) String() string {
	ses := "none"
	if r.session != story.NoSession {
		ses = strconv.FormatInt(r.session, 10)
	}
	return fmt.Sprintf("responder: executable inode %s, audit session %s", r.inode, ses)
}

// markAlert labels an alert of the responder's own arrival or session:
// xferhunt.responder.own_binary (the created file is the running
// xferhunt), xferhunt.responder.own_session (raised in the session
// xferhunt was started from). It reports whether the alert is to be
// hidden (--hide-own and of the own session).
func (r *responder) markAlert(a detect.Alert) (hide bool) {
	if r == nil || a.Doc.Str("host.id") != r.host {
		return false
	}
	var marks map[string]any
	set := func(k string) {
		if marks == nil {
			marks = map[string]any{}
		}
		marks[k] = true
	}
	if r.inode != "" && a.Doc.Str("file.inode") == r.inode {
		set("own_binary")
	}
	if r.session != story.NoSession && sessionOf(a) == r.session {
		set("own_session")
		hide = r.hide
	}
	if marks != nil {
		a.Doc.Set("xferhunt.responder", marks)
	}
	return hide
}

func sessionOf(a detect.Alert) int64 {
	if f, ok := ecs.Float(a.Doc.Get("xferhunt.session.id")); ok {
		return int64(f)
	}
	return story.NoSession
}

// markEvent labels a story event of the responder's own session.
func (r *responder) markEvent(e *story.Event) {
	if r != nil && r.session != story.NoSession && e.Session == r.session && e.Host == r.host {
		e.Own = true
	}
}
