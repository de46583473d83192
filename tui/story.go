package tui

import (
	"net/netip"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/visible"
	"github.com/xferhunt/xferhunt/story"
)

// The story view (DESIGN.md, "Story view"): every event of one scope
// around the focused alert, in time order. The Backend answers a scope
// inside a Cmd, which also turns the events into storyLines (host strings
// sanitized, widths measured) once per answer; a frame then only cuts and
// styles the events on screen, so its cost does not grow with the story.

// nScopes is how many scope kinds the view cycles through.
const nScopes = int(story.ByFile) + 1

// scopeTabs names the scope kinds in the scope bar, in story.ScopeKind order.
var scopeTabs = [nScopes]string{"Session", "Address", "User", "Process", "File"}

// storyMark says whether an alert was raised on an event.
type storyMark uint8

const (
	markNone  storyMark = iota
	markThis            // the focused alert's own event
	markOther           // an event another alert was raised on
)

// storyLine is one event of a story as the view draws it. Strings are
// sanitized (visible.String) when the line is built, never at draw time.
type storyLine struct {
	seq     uint64
	at      int64 // Unix ms
	ses     int64
	kind    story.Kind
	mark    storyMark
	user    string
	actor   string
	detail  string
	detailW int // cells
}

// before orders lines as the store orders a story: by time, then arrival.
func (l *storyLine) before(at int64, seq uint64) bool {
	return l.at < at || (l.at == at && l.seq < seq)
}

// storyOrigin is what the view knows of the focused alert: the event it
// was raised on (every scope is built around it) and the login as the
// alert's own xferhunt.session.* fields tell it.
type storyOrigin struct {
	ev     story.Event
	ok     bool // the alert has an event time, so scopes exist
	scopes [nScopes]story.Scope
	has    [nScopes]bool
	login  loginInfo
}

// loginInfo is a login as the header shows it; strings are raw.
type loginInfo struct {
	user, addr string
	port       int
	at         time.Time
	session    int64
	via        string // how it was attributed
	daemon     string // the program that took the login, with its pid
	fromAlert  bool   // no login event in the story: the alert's fields
}

// originOf decodes the alert once, in a Cmd, and builds its scopes.
func originOf(r *alertdb.Row) *storyOrigin {
	d := r.Doc()
	o := &storyOrigin{login: alertLogin(d)}
	ev, ok := story.FromAlert(d)
	if !ok {
		return o
	}
	o.ev, o.ok = ev, true
	for k := range nScopes {
		o.scopes[k], o.has[k] = story.ScopeOf(story.ScopeKind(k), &o.ev)
	}
	return o
}

// alertLogin reads the login from the alert's enrichment fields.
func alertLogin(d ecs.Doc) loginInfo {
	li := loginInfo{session: story.NoSession, fromAlert: true}
	li.user = d.Str("xferhunt.session.user")
	if li.user == "" {
		li.user = d.Str("user.audit.name")
	}
	li.addr = d.Str("xferhunt.session.addr")
	if li.addr == "" {
		li.addr = d.Str("source.ip")
	}
	if li.addr != "" && d.Str("source.ip") == li.addr {
		li.port, _ = strconv.Atoi(ecs.Display(d.Get("source.port")))
	}
	if t, err := time.Parse(time.RFC3339Nano, d.Str("xferhunt.session.login_time")); err == nil {
		li.at = t
	}
	if v := ecs.Display(d.Get("xferhunt.session.id")); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			li.session = n
		}
	}
	li.via = d.Str("xferhunt.session.attributed_by")
	term, pid := d.Str("xferhunt.session.terminal"), ecs.Display(d.Get("xferhunt.session.sshd_pid"))
	switch {
	case term != "" && pid != "":
		li.daemon = term + " pid " + pid
	case term != "":
		li.daemon = term
	case pid != "":
		li.daemon = "pid " + pid
	}
	return li
}

// storyLogin finds the login of the alert in a story: the login event of
// the alert's session, else (a login without an audit session, as FTP's)
// the last login from the alert's address and user before its event.
// Fields the event lacks (the port) come from the alert.
func storyLogin(evs []story.Event, o *storyOrigin) loginInfo {
	if !o.ok {
		return o.login
	}
	var found *story.Event
	for i := range evs {
		e := &evs[i]
		if e.Kind != story.LogOn {
			continue
		}
		if o.ev.Session != story.NoSession && e.Session == o.ev.Session && (e.Host == o.ev.Host || e.Host == "" || o.ev.Host == "") {
			found = e
			break
		}
		if o.ev.Session == story.NoSession && o.ev.Addr != "" && e.Addr == o.ev.Addr && e.Time <= o.ev.Time &&
			(o.ev.Login == "" || e.User == o.ev.Login || e.Login == o.ev.Login) {
			found = e // keep looking: the last one before the event wins
		}
	}
	if found == nil {
		return o.login
	}
	li := loginInfo{user: found.User, addr: found.Addr, port: found.Port, at: found.When(), session: found.Session, via: found.Via}
	if li.user == "" {
		li.user = found.Login
	}
	if li.port == 0 && li.addr == o.login.addr {
		li.port = o.login.port
	}
	if li.via == "" {
		li.via = o.login.via
	}
	name := found.Process
	if name == "" && found.Exe != "" {
		name = path.Base(found.Exe)
	}
	if name != "" && found.PID > 0 {
		li.daemon = name + "[" + strconv.Itoa(found.PID) + "]"
	} else {
		li.daemon = o.login.daemon
	}
	return li
}

// parts are the login header's items, sanitized: who, from where, when,
// which session, how it was attributed, through which program.
func (li loginInfo) parts(c clock) []string {
	if li.user == "" && li.addr == "" && li.at.IsZero() {
		return []string{"not attributed (no login event in this story, no session fields on the alert)"}
	}
	var parts []string
	who := li.user
	if who == "" {
		who = "?"
	}
	if li.addr != "" {
		a := li.addr
		if li.port > 0 {
			if ip, err := netip.ParseAddr(li.addr); err == nil {
				a = netip.AddrPortFrom(ip, uint16(li.port)).String()
			}
		}
		who += " from " + a
	}
	parts = append(parts, visible.String(who))
	if !li.at.IsZero() {
		parts = append(parts, c.format(li.at, layoutMs))
	}
	if li.session != story.NoSession {
		parts = append(parts, "session "+strconv.FormatInt(li.session, 10))
	}
	if li.via != "" {
		parts = append(parts, "attributed by "+visible.String(li.via))
	}
	if li.daemon != "" {
		parts = append(parts, "via "+visible.String(li.daemon))
	}
	if li.fromAlert {
		parts = append(parts, "(from the alert's fields)")
	}
	return parts
}

// pivotKind is the scope a detail field leads to, if any.
func pivotKind(field string) (story.ScopeKind, bool) {
	switch field {
	case "source.ip", "xferhunt.session.addr":
		return story.ByAddr, true
	case "user.name", "user.audit.name", "user.effective.name", "xferhunt.session.user":
		return story.ByUser, true
	case "xferhunt.session.id":
		return story.BySession, true
	case "file.path", "file.Ext.original.path", "process.executable", "process.parent.executable":
		return story.ByFile, true
	case "process.pid", "process.parent.pid", "xferhunt.session.sshd_pid":
		return story.ByProcess, true
	}
	return 0, false
}

// pivotScope builds the scope of a detail field's value, on the alert's
// host.
func pivotScope(field, value string, o *storyOrigin) (story.Scope, bool) {
	kind, ok := pivotKind(field)
	if !ok || value == "" {
		return story.Scope{}, false
	}
	sc := story.Scope{Kind: kind, Host: o.ev.Host}
	switch kind {
	case story.ByAddr:
		a, err := netip.ParseAddr(value)
		if err != nil {
			return sc, false
		}
		sc.Addr = a.String()
	case story.ByUser:
		sc.User = value
	case story.BySession:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil || n < 0 {
			return sc, false
		}
		sc.Session = n
	case story.ByFile:
		if !strings.HasPrefix(value, "/") {
			return sc, false
		}
		sc.File = path.Clean(value)
	case story.ByProcess:
		n, err := strconv.Atoi(value)
		if err != nil || n <= 0 {
			return sc, false
		}
		sc.PID = n
	}
	return sc, true
}

// storyLines reduces events to lines: sanitized once, here.
func storyLines(evs []story.Event, uuid string) []storyLine {
	out := make([]storyLine, len(evs))
	for i := range evs {
		e := &evs[i]
		l := &out[i]
		l.seq, l.at, l.ses, l.kind = e.Seq, e.Time, e.Session, e.Kind
		switch {
		case e.Alert == "":
		case e.Alert == uuid:
			l.mark = markThis
		default:
			l.mark = markOther
		}
		l.user = visible.String(e.User)
		name := e.Process
		if name == "" && e.Exe != "" {
			name = path.Base(e.Exe)
		}
		if e.PID > 0 {
			name += "[" + strconv.Itoa(e.PID) + "]"
		}
		l.actor = visible.String(name)
		l.detail = visible.String(e.Detail())
		if e.Own {
			l.detail += "  [responder's own session]"
		}
		l.detailW = cellWidth(l.detail)
	}
	return out
}

// sameStory reports whether a new answer holds exactly the lines shown:
// then a live refresh changes nothing and is dropped.
func sameStory(evs []story.Event, lines []storyLine, uuid string) bool {
	if len(evs) != len(lines) {
		return false
	}
	for i := range evs {
		m := markNone
		switch {
		case evs[i].Alert == "":
		case evs[i].Alert == uuid:
			m = markThis
		default:
			m = markOther
		}
		if evs[i].Seq != lines[i].seq || m != lines[i].mark {
			return false
		}
	}
	return true
}

// storyView is the story view's state inside the root model.
type storyView struct {
	open   bool
	uuid   string // the focused alert
	row    *alertdb.Row
	origin *storyOrigin // nil until the first answer
	scope  story.Scope
	kind   story.ScopeKind // the scope bar's active tab
	pivot  string          // the detail field the scope came from, "" for the alert's own
	valid  bool            // the scope could be built
	lines  []storyLine
	login  []string // sanitized login header items
	gen    int      // bumps whenever lines are replaced
	loaded bool     // an answer for this scope arrived

	req      uint64 // the latest request; answers to older ones are dropped
	inflight bool
	fresh    bool // the request in flight changes the scope: reposition on arrival
	dirty    bool // alerts or health arrived while a request ran

	top int  // first event on screen
	cut bool // cut long details at the edge instead of wrapping them

	query      string
	matchesFor string // the query matches were computed for
	matches    []int  // indexes into lines, ascending
	cur        int    // current match in matches, -1 for none
	jump       bool   // move to the first match when the search answer arrives
	saved      searchState
	input      []rune
}

// searchState is what esc in the search prompt restores.
type searchState struct {
	query   string
	matches []int
	cur     int
	top     int
	gen     int // the lines the matches index
}

// Messages of the story Cmds, each tagged with the request or the lines
// it was about.
type (
	storyMsg struct {
		req     uint64
		origin  *storyOrigin
		scope   story.Scope
		kind    story.ScopeKind
		valid   bool
		pivot   string // the field the scope was built from, when it was
		same    bool
		lines   []storyLine
		login   []string
		focus   int // index of the alert's own event, -1 if not in the story
		query   string
		matches []int
	}
	storySearchMsg struct {
		gen     int
		query   string
		matches []int
	}
)

// storyReq is everything a story Cmd reads, copied out of the model so
// the Cmd never touches state Update may change.
type storyReq struct {
	req        uint64
	b          Backend
	uuid       string
	row        *alertdb.Row
	origin     *storyOrigin
	kind       story.ScopeKind
	scope      *story.Scope // set: ask exactly this scope (a live refresh)
	pivotField string
	pivotValue string
	query      string
	prev       []storyLine
	clock      clock
}

// run is the Cmd body: build the origin if needed, resolve the scope, ask
// the Backend, and precompute the lines and the search matches.
func (q storyReq) run() tea.Msg {
	o := q.origin
	if o == nil {
		o = originOf(q.row)
	}
	msg := storyMsg{req: q.req, origin: o, focus: -1, query: q.query, kind: q.kind}
	switch {
	case q.scope != nil:
		msg.scope, msg.valid = *q.scope, true
	case q.pivotField != "":
		msg.scope, msg.valid = pivotScope(q.pivotField, q.pivotValue, o)
		if msg.valid {
			msg.kind, msg.pivot = msg.scope.Kind, q.pivotField
		}
	}
	if !msg.valid {
		// The asked kind, else the next one the alert has.
		for i := range nScopes {
			k := (int(q.kind) + i) % nScopes
			if o.has[k] {
				msg.scope, msg.kind, msg.valid = o.scopes[k], story.ScopeKind(k), true
				break
			}
		}
	}
	if !msg.valid {
		msg.login = o.login.parts(q.clock)
		return msg
	}
	evs := q.b.Story(msg.scope)
	if q.prev != nil && sameStory(evs, q.prev, q.uuid) {
		msg.same = true
		return msg
	}
	msg.lines = storyLines(evs, q.uuid)
	msg.login = storyLogin(evs, o).parts(q.clock)
	msg.focus = slices.IndexFunc(msg.lines, func(l storyLine) bool { return l.mark == markThis })
	if q.query != "" {
		msg.matches = searchLines(msg.lines, q.query, q.clock)
	}
	return msg
}

// openStory opens the story of r: from the detail view the story of the
// focused field when it names a scope, else the alert's session (or the
// first scope the alert has).
func (m *Model) openStory(r *alertdb.Row) tea.Cmd {
	// The request counter and the wrap choice outlive one story, so a late
	// answer to a story closed since is recognized and dropped.
	sv := storyView{open: true, uuid: r.UUID(), row: r, cut: m.sv.cut, cur: -1, req: m.sv.req}
	var field, value string
	if m.detail {
		if l, ok := m.focusedLine(); ok {
			if _, ok := pivotKind(l.field); ok {
				field, value = l.field, l.value
			}
		}
	}
	m.sv = sv
	return m.askStory(story.BySession, field, value)
}

// focusedLine is the detail line under the field focus.
func (m *Model) focusedLine() (dline, bool) {
	foc := focusable(m.dlines)
	if m.dfree || m.field < 0 || m.field >= len(foc) {
		return dline{}, false
	}
	return m.dlines[foc[m.field]], true
}

// askStory requests a new scope: the kind (or the field pivot), answered
// in a Cmd; the view repositions on the alert's event when it arrives.
func (m *Model) askStory(kind story.ScopeKind, field, value string) tea.Cmd {
	sv := &m.sv
	sv.req++
	sv.inflight, sv.fresh, sv.dirty = true, true, false
	q := storyReq{clock: m.clock, req: sv.req, b: m.opt.Backend, uuid: sv.uuid, row: sv.row, origin: sv.origin, kind: kind,
		pivotField: field, pivotValue: value, query: sv.query}
	return q.run
}

// refreshStory asks the open story again after new data, one request at
// a time: data arriving meanwhile marks it dirty for one more round.
func (m *Model) refreshStory() tea.Cmd {
	sv := &m.sv
	if !sv.open {
		return nil
	}
	if sv.inflight {
		sv.dirty = true
		return nil
	}
	if !sv.valid {
		return nil // the alert has no scope: nothing can change
	}
	sv.req++
	sv.inflight = true
	sc := sv.scope
	q := storyReq{clock: m.clock, req: sv.req, b: m.opt.Backend, uuid: sv.uuid, row: sv.row, origin: sv.origin, kind: sv.kind,
		scope: &sc, query: sv.query, prev: sv.lines}
	return q.run
}

// onStory installs an answer. A scope change lands on the alert's own
// event; a live refresh keeps the first event on screen where it was, or
// follows the end when the view was at the end.
func (m *Model) onStory(msg storyMsg) tea.Cmd {
	sv := &m.sv
	if !sv.open || msg.req != sv.req {
		return nil
	}
	sv.inflight = false
	sv.origin = msg.origin
	fresh := sv.fresh
	sv.fresh = false
	var cmd tea.Cmd
	if !msg.same {
		old := m.storyGeom()
		follow := !fresh && sv.loaded && len(sv.lines) > 0 && sv.top >= sv.maxTop(old)
		var anchorAt int64
		var anchorSeq uint64
		if !fresh && sv.top < len(sv.lines) {
			anchorAt, anchorSeq = sv.lines[sv.top].at, sv.lines[sv.top].seq
		}
		curAt, curSeq, hadCur := int64(0), uint64(0), false
		if sv.cur >= 0 && sv.cur < len(sv.matches) && !fresh {
			l := sv.lines[sv.matches[sv.cur]]
			curAt, curSeq, hadCur = l.at, l.seq, true
		}
		sv.scope, sv.kind, sv.valid = msg.scope, msg.kind, msg.valid
		sv.lines, sv.login = msg.lines, msg.login
		sv.gen++
		sv.loaded = true
		g := m.storyGeom()
		switch {
		case fresh && msg.focus >= 0:
			sv.top = max(0, msg.focus-g.rows/3)
		case fresh:
			sv.top = 0
		case follow:
			sv.top = len(sv.lines)
		default:
			sv.top = lineAt(sv.lines, anchorAt, anchorSeq)
		}
		if fresh {
			sv.cur, sv.pivot = -1, msg.pivot
		}
		if msg.query == sv.query {
			sv.matches, sv.matchesFor = msg.matches, msg.query
			if hadCur {
				at := lineAt(sv.lines, curAt, curSeq)
				i, found := slices.BinarySearch(sv.matches, at)
				sv.cur = -1
				if found {
					sv.cur = i
				}
			}
		} else if sv.query != "" {
			cmd = searchCmd(sv.gen, sv.lines, sv.query, m.clock)
		}
		sv.clampTop(g)
	} else {
		sv.loaded = true
	}
	if sv.dirty {
		sv.dirty = false
		if cmd == nil {
			cmd = m.refreshStory()
		} else {
			cmd = tea.Batch(cmd, m.refreshStory())
		}
	}
	return cmd
}

// lineAt is the index of the first line at or after (at, seq): lines
// are in the store's story order, time then arrival.
func lineAt(lines []storyLine, at int64, seq uint64) int {
	return sort.Search(len(lines), func(i int) bool { return !lines[i].before(at, seq) })
}

// switchScope moves to the next (or previous) scope the alert has.
func (m *Model) switchScope(step int) tea.Cmd {
	sv := &m.sv
	if sv.origin == nil {
		return nil
	}
	for i := 1; i <= nScopes; i++ {
		k := ((int(sv.kind)+step*i)%nScopes + nScopes) % nScopes
		if sv.origin.has[k] {
			if story.ScopeKind(k) == sv.kind && sv.pivot == "" {
				return nil
			}
			return m.askStory(story.ScopeKind(k), "", "")
		}
	}
	return nil
}

// scopeCount is how many scopes the alert has.
func (o *storyOrigin) scopeCount() int {
	n := 0
	for _, h := range o.has {
		if h {
			n++
		}
	}
	return n
}

// searchCmd searches lines in a Cmd: a story can hold the whole store.
func searchCmd(gen int, lines []storyLine, q string, c clock) tea.Cmd {
	return func() tea.Msg { return storySearchMsg{gen: gen, query: q, matches: searchLines(lines, q, c)} }
}

// searchLines returns the lines whose shown text holds q, ignoring case.
func searchLines(lines []storyLine, q string, c clock) []int {
	if q == "" {
		return nil
	}
	var out []int
	var buf []byte
	for i := range lines {
		l := &lines[i]
		buf = c.appendFormat(buf[:0], time.UnixMilli(l.at), layoutMs)
		if s, _ := indexFold(string(buf), q); s >= 0 || l.matches(q) {
			out = append(out, i)
		}
	}
	return out
}

// matches reports whether a line's text columns hold q, ignoring case.
func (l *storyLine) matches(q string) bool {
	for _, f := range [...]string{l.kind.String(), l.user, l.actor, l.detail} {
		if s, _ := indexFold(f, q); s >= 0 {
			return true
		}
	}
	if l.ses != story.NoSession {
		if s, _ := indexFold(strconv.FormatInt(l.ses, 10), q); s >= 0 {
			return true
		}
	}
	return false
}

// onStorySearch installs search matches for the lines they were computed
// over; while the prompt is open the view follows the first match.
func (m *Model) onStorySearch(msg storySearchMsg) {
	sv := &m.sv
	if !sv.open || msg.gen != sv.gen || msg.query != sv.query {
		return
	}
	sv.matches, sv.matchesFor = msg.matches, msg.query
	sv.cur = -1
	if m.overlay == overlaySearch || sv.jump {
		sv.jump = false
		m.firstMatchFrom(sv.saved.top)
	}
}

// firstMatchFrom makes the first match at or after line from current
// (wrapping to the first match) and scrolls it into view.
func (m *Model) firstMatchFrom(from int) {
	sv := &m.sv
	if len(sv.matches) == 0 {
		sv.top = sv.saved.top
		return
	}
	i, _ := slices.BinarySearch(sv.matches, from)
	if i == len(sv.matches) {
		i = 0
	}
	sv.cur = i
	m.showLine(sv.matches[i])
}

// stepMatch moves to the next (dir 1) or previous (dir -1) match,
// wrapping around, and says so when it wrapped.
func (m *Model) stepMatch(dir int) {
	sv := &m.sv
	n := len(sv.matches)
	if n == 0 {
		if sv.query != "" {
			m.setFlash(true, "no event matches %q", visible.String(sv.query))
		}
		return
	}
	var next int
	switch {
	case sv.cur < 0 && dir > 0:
		next, _ = slices.BinarySearch(sv.matches, sv.top)
	case sv.cur < 0:
		next, _ = slices.BinarySearch(sv.matches, sv.top)
		next--
	default:
		next = sv.cur + dir
	}
	// Going round is only news when moving from a match: from no current
	// match, the first one past the end is simply the first.
	switch {
	case next >= n:
		next = 0
		if sv.cur >= 0 {
			m.setFlash(false, "search wrapped to the first match")
		}
	case next < 0:
		next = n - 1
		if sv.cur >= 0 {
			m.setFlash(false, "search wrapped to the last match")
		}
	}
	sv.cur = next
	m.showLine(sv.matches[next])
}

// showLine scrolls so line i is on screen, with a little context above
// it when it was off screen.
func (m *Model) showLine(i int) {
	sv := &m.sv
	g := m.storyGeom()
	if i >= sv.top && i <= sv.lastShown(g, sv.top) {
		return
	}
	sv.top = max(0, i-2)
	sv.clampTop(g)
	// A long event right after the context may push i off the screen.
	for sv.top < i && sv.lastShown(g, sv.top) < i {
		sv.top++
	}
}
