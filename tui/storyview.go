package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/xferhunt/xferhunt/internal/visible"
	"github.com/xferhunt/xferhunt/story"
)

// Story view geometry and drawing. The view scrolls by events, not by
// screen rows: an event's detail may wrap, and counting the rows of every
// event before the window would make a frame cost grow with the story.
// Only the events on screen (and, for the last page, the ones before the
// end) are ever wrapped.

// storyCols are the column widths of the event rows; 0 hides a column.
type storyCols struct {
	date                                 bool // time with its date
	time, ses, user, kind, actor, detail int
	prefix                               int // cells before the detail
}

// storyColumns fits the columns to w: from 120 cells the time gains its
// date and the session and user columns appear (address and user
// stories mix logins and users); below 70 the actor goes.
func storyColumns(w int) storyCols {
	// Room for the clock's Z (UTC); a local time leaves the cell blank.
	c := storyCols{time: 13, kind: 9, actor: 17}
	if w >= 120 {
		c.date, c.time, c.ses, c.user, c.actor = true, 24, 5, 10, 24
	}
	if w < 70 {
		c.actor = 0
	}
	c.prefix = 2 + c.time + 1 + c.kind + 1
	for _, x := range []int{c.ses, c.user, c.actor} {
		if x > 0 {
			c.prefix += x + 1
		}
	}
	c.detail = max(1, w-c.prefix)
	return c
}

// storyGeom is the story view's layout at the current size and state.
type storyGeom struct {
	w         int
	cols      storyCols
	loginRows []string
	head      int // rows above the events: scope bar, scope line, login, column header
	rows      int // rows for events
	cut       bool
	maxEvent  int // rows one wrapped event may take
}

// storyRect is the body: everything between the header row and the
// status bar.
func storyRect(w, h int) rect { return rect{0, 1, w, max(0, h-4)} }

func (m *Model) storyGeom() storyGeom {
	r := storyRect(m.width, m.height)
	g := storyGeom{w: r.w, cols: storyColumns(r.w), cut: m.sv.cut}
	g.loginRows = loginRows(m.sv.login, r.w)
	g.head = 3 + len(g.loginRows)
	g.rows = max(1, r.h-g.head)
	g.maxEvent = max(2, g.rows/3)
	return g
}

// loginLabel starts the login header row.
const loginLabel = "login  "

// loginRows lays the login items out on at most two rows, breaking
// between items, so an address or a time is never split.
func loginRows(parts []string, w int) []string {
	room := max(1, w-len(loginLabel))
	var rows []string
	cur := ""
	for _, p := range parts {
		switch {
		case cur == "":
			cur = p
		case ansi.StringWidth(cur)+3+ansi.StringWidth(p) <= room:
			cur += " · " + p
		default:
			rows = append(rows, cur)
			cur = p
		}
	}
	if cur != "" || len(rows) == 0 {
		rows = append(rows, cur)
	}
	if len(rows) > 2 {
		rows[1] += " · " + strings.Join(rows[2:], " · ")
		rows = rows[:2]
	}
	for i := range rows {
		if ansi.StringWidth(rows[i]) > room {
			rows[i] = ansi.Truncate(rows[i], room, "…")
		}
	}
	return rows
}

// height is how many rows line l takes on screen.
func (g storyGeom) height(l *storyLine) int {
	if g.cut || l.detailW <= g.cols.detail {
		return 1
	}
	return min(g.maxEvent, len(wrapSpaces(l.detail, g.cols.detail)))
}

// maxTop is the first event of the last page: the view never scrolls
// past the end.
func (sv *storyView) maxTop(g storyGeom) int {
	used := 0
	for i := len(sv.lines) - 1; i >= 0; i-- {
		used += g.height(&sv.lines[i])
		if used > g.rows {
			return i + 1
		}
	}
	return 0
}

// lastShown is the last event wholly on screen when top is the first.
func (sv *storyView) lastShown(g storyGeom, top int) int {
	used, last := 0, top
	for i := top; i < len(sv.lines); i++ {
		used += g.height(&sv.lines[i])
		if used > g.rows {
			break
		}
		last = i
	}
	return last
}

// pageUp moves back by as many events as fill a screen.
func (sv *storyView) pageUp(g storyGeom) {
	used, i := 0, sv.top
	for i > 0 {
		h := g.height(&sv.lines[i-1])
		if used+h > g.rows {
			break
		}
		used += h
		i--
	}
	if i == sv.top && i > 0 {
		i--
	}
	sv.top = i
}

func (sv *storyView) clampTop(g storyGeom) {
	sv.top = min(max(sv.top, 0), sv.maxTop(g))
}

// cellWidth is the display width of sanitized text. Sanitized ASCII has
// no control characters left, so each byte is a cell; only other text
// needs grapheme segmentation (a third of a 10k-event story's build).
func cellWidth(s string) int {
	if isASCII(s) {
		return len(s)
	}
	return ansi.StringWidth(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func lowerASCII(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// renderStory draws the scope bar, the scope and login header, the column
// header and the events from sv.top that fit in r.
func (m Model) renderStory(r rect) []string {
	sv := &m.sv
	s := m.styles
	g := m.storyGeom()
	out := []string{m.storyBar(g, r.w), m.storyScopeLine(r.w)}
	for i, l := range g.loginRows {
		lab := loginLabel
		if i > 0 {
			lab = strings.Repeat(" ", len(loginLabel))
		}
		out = append(out, s.Label.Render(lab)+s.Value.Render(l))
	}
	out = append(out, m.storyColHeader(g))
	switch {
	case !sv.loaded:
		return append(out, s.Muted.Render(fit(" loading the story…", r.w)))
	case !sv.valid:
		return append(out, s.Muted.Render(fit(" this alert names no session, address, user, process or file", r.w)))
	case len(sv.lines) == 0:
		return append(out, s.Muted.Render(fit(" no event of this scope is held (evicted from the event store, or the source reports none)", r.w)))
	}
	for i := sv.top; i < len(sv.lines) && len(out) < r.h; i++ {
		out = m.storyEventRows(out, i, g)
	}
	return clip(out, r.w, r.h)
}

// storyBar is the scope bar (the tabs of the scopes the alert has) with
// the position and the search state on the right.
func (m Model) storyBar(g storyGeom, w int) string {
	sv := &m.sv
	s := m.styles
	tabs := make([]string, 0, nScopes)
	for k, name := range scopeTabs {
		switch {
		case story.ScopeKind(k) == sv.kind && sv.valid:
			tabs = append(tabs, s.TabActive.Render(name))
		case sv.origin != nil && sv.origin.has[k]:
			tabs = append(tabs, s.TabInactive.Render(name))
		default:
			tabs = append(tabs, s.Closed.Render(name)) // the alert has no such scope
		}
	}
	bar := s.Title.Render("Story") + " " + strings.Join(tabs, s.Muted.Render(" │ "))
	if ansi.StringWidth(bar) > w {
		n := 0
		if sv.origin != nil {
			n = sv.origin.scopeCount()
		}
		bar = s.Title.Render("Story") + " " + s.TabActive.Render(scopeTabs[sv.kind]) + s.Muted.Render(fmt.Sprintf(" (%d scopes) tab", n))
	}
	var pos string
	if n := len(sv.lines); n > 0 {
		pos = fmt.Sprintf("%d–%d of %d", sv.top+1, sv.lastShown(g, sv.top)+1, n)
	}
	if sv.query != "" && sv.matchesFor == sv.query {
		switch {
		case len(sv.matches) == 0:
			pos += " · no match"
		case sv.cur >= 0:
			pos += fmt.Sprintf(" · match %d/%d", sv.cur+1, len(sv.matches))
		default:
			pos += fmt.Sprintf(" · %d matches", len(sv.matches))
		}
	}
	pos = strings.TrimPrefix(pos, " · ")
	bw, pw := ansi.StringWidth(bar), ansi.StringWidth(pos)
	if pos != "" && bw+2+pw <= w {
		return bar + strings.Repeat(" ", w-bw-pw) + s.Muted.Render(pos)
	}
	return bar
}

// storyScopeLine names the scope (and the field it was pivoted from),
// the number of events and the time they span.
func (m Model) storyScopeLine(w int) string {
	sv := &m.sv
	s := m.styles
	if !sv.valid {
		return ""
	}
	text := visible.String(sv.scope.String())
	if sv.pivot != "" {
		text += " (from " + visible.String(sv.pivot) + ")"
	}
	if n := len(sv.lines); n > 0 {
		first := time.UnixMilli(sv.lines[0].at).In(m.clock.loc)
		last := time.UnixMilli(sv.lines[n-1].at).In(m.clock.loc)
		span := m.clock.format(first, layoutMs) + " – "
		if first.YearDay() == last.YearDay() && first.Year() == last.Year() {
			span += m.clock.format(last, "15:04:05.000")
		} else {
			span += m.clock.format(last, layoutMs)
		}
		noun := "events"
		if n == 1 {
			noun = "event"
		}
		text += fmt.Sprintf(" · %d %s · %s", n, noun, span)
	}
	return s.Heading.Render(ansi.Truncate(text, w, "…"))
}

// storyColHeader titles the columns and, where there is room, explains
// the marks.
func (m Model) storyColHeader(g storyGeom) string {
	c := g.cols
	var b strings.Builder
	b.WriteString("  " + fit("time ("+m.clock.abbr+")", c.time) + " ")
	if c.ses > 0 {
		b.WriteString(fit("ses", c.ses) + " ")
	}
	if c.user > 0 {
		b.WriteString(fit("user", c.user) + " ")
	}
	b.WriteString(fit("what", c.kind) + " ")
	if c.actor > 0 {
		b.WriteString(fit("actor", c.actor) + " ")
	}
	b.WriteString("detail")
	hdr := m.styles.ColHeader.Render(b.String())
	legend := "◆ this alert  ◇ other alert"
	used, lw := ansi.StringWidth(b.String()), ansi.StringWidth(legend)
	if used+2+lw <= g.w {
		return hdr + strings.Repeat(" ", g.w-used-lw) +
			m.styles.MarkThis.Render("◆") + m.styles.Muted.Render(" this alert  ") +
			m.styles.MarkOther.Render("◇") + m.styles.Muted.Render(" other alert")
	}
	return hdr
}

// storyEventRows appends the rows of event i: the columns, then the
// detail wrapped under its own column (or cut, with w).
func (m Model) storyEventRows(out []string, i int, g storyGeom) []string {
	sv := &m.sv
	s := m.styles
	l := &sv.lines[i]
	c := g.cols
	q := sv.query
	cur := sv.cur >= 0 && sv.cur < len(sv.matches) && sv.matches[sv.cur] == i
	hl := func(text string, st lipgloss.Style) string { return m.highlight(text, st, q, cur) }

	var b strings.Builder
	switch l.mark {
	case markThis:
		b.WriteString(s.MarkThis.Render("◆"))
	case markOther:
		b.WriteString(s.MarkOther.Render("◇"))
	default:
		b.WriteByte(' ')
	}
	b.WriteByte(' ')
	layout := "15:04:05.000"
	if c.date {
		layout = layoutMs
	}
	b.WriteString(hl(fit(m.clock.format(time.UnixMilli(l.at), layout), c.time), s.Muted))
	b.WriteByte(' ')
	if c.ses > 0 {
		ses := "-"
		if l.ses != story.NoSession {
			ses = strconv.FormatInt(l.ses, 10)
		}
		b.WriteString(hl(fit(ses, c.ses), s.Muted) + " ")
	}
	if c.user > 0 {
		b.WriteString(hl(fit(l.user, c.user), s.Value) + " ")
	}
	kindSt := s.Value
	if l.kind == story.LogOn || l.kind == story.LogOff {
		kindSt = s.Key
	}
	b.WriteString(hl(fit(l.kind.String(), c.kind), kindSt) + " ")
	if c.actor > 0 {
		b.WriteString(hl(fit(l.actor, c.actor), s.Value) + " ")
	}
	detailSt := s.Value
	if l.mark == markThis {
		detailSt = s.ThisRow
	}
	var parts []string
	switch {
	case l.detailW <= c.detail:
		parts = []string{l.detail}
	case g.cut:
		parts = []string{ansi.Truncate(l.detail, c.detail, "…")}
	default:
		parts = wrapSpaces(l.detail, c.detail)
		if len(parts) > g.maxEvent {
			parts = parts[:g.maxEvent]
			last := &parts[len(parts)-1]
			*last = ansi.Truncate(*last, max(0, c.detail-1), "") + "…"
		}
	}
	b.WriteString(hl(parts[0], detailSt))
	out = append(out, b.String())
	pad := strings.Repeat(" ", c.prefix)
	for _, p := range parts[1:] {
		out = append(out, pad+hl(p, detailSt))
	}
	return out
}

// highlight styles text with st and every case-insensitive occurrence of
// q with the match style (the current match's own style on its event).
func (m Model) highlight(text string, st lipgloss.Style, q string, cur bool) string {
	if q == "" {
		return st.Render(text)
	}
	mst := m.styles.Match
	if cur {
		mst = m.styles.MatchCur
	}
	var b strings.Builder
	for text != "" {
		i, j := indexFold(text, q)
		if i < 0 {
			b.WriteString(st.Render(text))
			break
		}
		if i > 0 {
			b.WriteString(st.Render(text[:i]))
		}
		b.WriteString(mst.Render(text[i:j]))
		text = text[j:]
	}
	return b.String()
}

// indexFold finds sub in s ignoring case (Unicode simple folding) and
// returns the byte range it covers in s, or -1, -1.
func indexFold(s, sub string) (int, int) {
	if sub == "" {
		return -1, -1
	}
	if isASCII(s) && isASCII(sub) {
		// Byte steps: no rune of either text can fold across the ASCII
		// boundary when neither has one outside it.
		first := lowerASCII(sub[0])
		for i := 0; i+len(sub) <= len(s); i++ {
			if lowerASCII(s[i]) == first && prefixFold(s[i:], sub) > 0 {
				return i, i + len(sub)
			}
		}
		return -1, -1
	}
	for i := 0; i < len(s); {
		if n := prefixFold(s[i:], sub); n > 0 {
			return i, i + n
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return -1, -1
}

// prefixFold is the length in s of a prefix equal to p ignoring case, 0
// when s does not start with p.
func prefixFold(s, p string) int {
	i := 0
	for _, pr := range p {
		if i >= len(s) {
			return 0
		}
		sr, size := utf8.DecodeRuneInString(s[i:])
		if sr != pr && !foldEq(sr, pr) {
			return 0
		}
		i += size
	}
	return i
}

func foldEq(a, b rune) bool {
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		return a == b
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

// wrapSpaces wraps text to w cells at spaces only: ansi.Wrap also breaks
// after hyphens, which splits options ("--" / "lsbsysinit") in command
// lines. A word longer than a row is cut across rows. The spaces at a
// break are dropped; there is always at least one row.
func wrapSpaces(t string, w int) []string {
	if w <= 0 || ansi.StringWidth(t) <= w {
		return []string{t}
	}
	var rows []string
	var cur strings.Builder
	curW := 0
	for t != "" {
		i := 0
		for i < len(t) && t[i] == ' ' {
			i++
		}
		j := i
		for j < len(t) && t[j] != ' ' {
			j++
		}
		gap, word := i, t[i:j]
		t = t[j:]
		if word == "" {
			break
		}
		ww := ansi.StringWidth(word)
		if curW > 0 && curW+gap+ww <= w {
			cur.WriteString(strings.Repeat(" ", gap))
			cur.WriteString(word)
			curW += gap + ww
			continue
		}
		if curW > 0 {
			rows = append(rows, cur.String())
			cur.Reset()
		}
		for ww > w {
			rows = append(rows, ansi.Cut(word, 0, w))
			word = ansi.Cut(word, w, ww)
			ww = ansi.StringWidth(word)
		}
		cur.WriteString(word)
		curW = ww
	}
	if curW > 0 || len(rows) == 0 {
		rows = append(rows, cur.String())
	}
	return rows
}
