package tui

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/story"
	"github.com/xferhunt/xferhunt/triage"
)

// hostileShown is the capture's step-6 file name as every view must print
// it: ESC, BEL and the newline made visible.
const hostileShown = `/tmp/evil\x1b]0;pwned\x07 name\nline2.bin`

// typeKeys presses one key per character of text.
func typeKeys(t testing.TB, m Model, text string) Model {
	t.Helper()
	return keys(t, m, strings.Split(text, "")...)
}

// selectAlert moves the list cursor to the alert whose file path is p.
func selectAlert(t testing.TB, m Model, p string) Model {
	t.Helper()
	for range m.st.Shown() {
		if m.selected().Doc().Str("file.path") == p {
			return m
		}
		m = keys(t, m, "down")
	}
	t.Fatalf("no alert on %s", p)
	return m
}

// focusField moves the detail field focus to the line of field.
func focusField(t testing.TB, m Model, field string) Model {
	t.Helper()
	for range len(focusable(m.dlines)) {
		if l, ok := m.focusedLine(); ok && l.field == field {
			return m
		}
		m = keys(t, m, "down")
	}
	t.Fatalf("tab %s has no focusable %s", tabNames[m.tab], field)
	return m
}

func countKind(lines []storyLine, k story.Kind) int {
	n := 0
	for _, l := range lines {
		if l.kind == k {
			n++
		}
	}
	return n
}

func marked(lines []storyLine, mk storyMark) []string {
	var out []string
	for _, l := range lines {
		if l.mark == mk {
			out = append(out, l.detail)
		}
	}
	return out
}

// TestStoryOpen: t on the newest alert (the hostile name, session 44)
// tells its session: login first, the upload marked as this alert's,
// the logout last, every host string escaped.
func TestStoryOpen(t *testing.T) {
	m, _ := captureModel(t, 80, 24)
	m = keys(t, m, "t")
	sv := m.sv
	if !sv.open || !sv.loaded || !sv.valid {
		t.Fatalf("story not open and loaded: %+v", sv)
	}
	if sv.scope.Kind != story.BySession || sv.scope.Session != 44 {
		t.Fatalf("opened on %v, want session 44", sv.scope)
	}
	if got := marked(sv.lines, markThis); len(got) != 1 || got[0] != hostileShown {
		t.Fatalf("this alert's events %q, want the hostile upload", got)
	}
	if len(marked(sv.lines, markOther)) != 0 {
		t.Fatal("session 44 holds no other alert's event")
	}
	if n := len(sv.lines); sv.lines[n-1].kind != story.LogOff || countKind(sv.lines, story.LogOn) != 1 {
		t.Fatalf("session story: last event %v, %d logins", sv.lines[n-1].kind, countKind(sv.lines, story.LogOn))
	}
	login := strings.Join(sv.login, " · ")
	for _, want := range []string{"xfvictim from 127.0.0.5:38399", "2026-11-26 03:13:37.402Z", "session 44", "attributed by session", "via sshd[2707]"} {
		if !strings.Contains(login, want) {
			t.Errorf("login header %q lacks %q", login, want)
		}
	}
	if strings.Contains(login, "from the alert") {
		t.Errorf("login taken from the alert although the story holds the login event: %q", login)
	}
	scr := screen(m)
	checkFits(t, scr, 80, 24)
	for _, want := range []string{"Story", "session 44 · 12 events", "login  xfvictim", hostileShown[:20], "◆ 03:13:37.454Z create", "logout"} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks %q:\n%s", want, scr)
		}
	}
	if strings.ContainsAny(ansi.Strip(m.View().Content), "\x07\r") || strings.Contains(ansi.Strip(m.View().Content), "\x1b]") {
		t.Fatal("a raw control sequence reached the screen")
	}
	// esc goes back to where t was pressed: the list.
	m = keys(t, m, "esc")
	if m.sv.open || m.detail || m.sv.lines != nil {
		t.Fatalf("esc: story open %v detail %v", m.sv.open, m.detail)
	}
}

// TestStoryScopes: tab walks session → address → user → process tree →
// file and back, each scope built around the alert's own event.
func TestStoryScopes(t *testing.T) {
	m, _ := captureModel(t, 120, 40)
	m = keys(t, m, "t")
	want := []struct {
		scope  string
		events int
		check  func(sv storyView) string
	}{
		{"address 127.0.0.5", 51, func(sv storyView) string {
			// All three logins from the address, the other alert's upload
			// (session 40) marked apart, nothing of 127.0.0.7's user.
			if n := countKind(sv.lines, story.LogOn); n != 3 {
				return fmt.Sprintf("%d logins, want 3", n)
			}
			if o := marked(sv.lines, markOther); !slices.Equal(o, []string{"/tmp/dropped-sftpmode.bin"}) {
				return fmt.Sprintf("other alerts' events %q", o)
			}
			for _, l := range sv.lines {
				if l.user == "xfother" {
					return "holds xfother's events"
				}
			}
			return ""
		}},
		{"user xfvictim", 67, func(sv storyView) string {
			if o := marked(sv.lines, markOther); len(o) != 3 {
				return fmt.Sprintf("other alerts' events %q, want the three other uploads of xfvictim", o)
			}
			return ""
		}},
		{"process tree of pid 2749", 3, nil},
		{"file " + hostileShown, 1, nil},
		{"session 44", 12, nil},
	}
	for _, w := range want {
		m = keys(t, m, "tab")
		sv := m.sv
		if got := sv.scope.String(); visibleScope(got) != w.scope || len(sv.lines) != w.events {
			t.Fatalf("tab: %s with %d events, want %s with %d", visibleScope(got), len(sv.lines), w.scope, w.events)
		}
		if len(marked(sv.lines, markThis)) != 1 {
			t.Errorf("%s: the alert's own event is not marked once", w.scope)
		}
		if w.check != nil {
			if why := w.check(sv); why != "" {
				t.Errorf("%s: %s", w.scope, why)
			}
		}
		if !strings.Contains(screen(m), w.scope) {
			t.Errorf("%s not named on screen:\n%s", w.scope, screen(m))
		}
	}
	m = keys(t, m, "shift+tab")
	if m.sv.scope.Kind != story.ByFile {
		t.Fatalf("shift+tab went to %v, want the file scope", m.sv.scope)
	}
}

// visibleScope is a scope label as the screen shows it.
func visibleScope(s string) string {
	return strings.NewReplacer("\x1b", `\x1b`, "\a", `\x07`, "\n", `\n`).Replace(s)
}

// TestStoryWithoutSession: the FTP upload has no audit session: its story
// opens on the address, the session tab is skipped, and the login comes
// from vsftpd's login event, attributed by ancestry.
func TestStoryWithoutSession(t *testing.T) {
	m, _ := captureModel(t, 80, 24)
	m = selectAlert(t, m, "/tmp/dropped-ftp.bin")
	m = keys(t, m, "t")
	if m.sv.scope.Kind != story.ByAddr || m.sv.scope.Addr != "127.0.0.8" {
		t.Fatalf("opened on %v, want address 127.0.0.8", m.sv.scope)
	}
	if m.sv.origin.has[story.BySession] {
		t.Fatal("the FTP alert has a session scope")
	}
	login := strings.Join(m.sv.login, " · ")
	if !strings.Contains(login, "xfvictim from 127.0.0.8:49552") || !strings.Contains(login, "attributed by ancestry") || !strings.Contains(login, "vsftpd[2449]") {
		t.Fatalf("FTP login header %q", login)
	}
	for range nScopes {
		m = keys(t, m, "tab")
		if m.sv.scope.Kind == story.BySession {
			t.Fatal("tab reached the session scope the alert has not")
		}
	}
	// The process tree holds no login event: the header says it comes
	// from the alert's fields.
	for m.sv.scope.Kind != story.ByProcess {
		m = keys(t, m, "tab")
	}
	if login := strings.Join(m.sv.login, " · "); !strings.Contains(login, "(from the alert's fields)") || !strings.Contains(login, "127.0.0.8:49552") {
		t.Fatalf("process-tree login header %q", login)
	}
}

// TestStoryPivot: t from the detail view tells the story of the focused
// field: the user, the address of the Connection tab, the session.
func TestStoryPivot(t *testing.T) {
	m, _ := captureModel(t, 80, 24)
	m = keys(t, m, "enter", "tab", "tab") // User tab
	m = focusField(t, m, "user.name")
	if h := m.keys.Alert.Story.Help().Desc; h != "story of this user" {
		t.Fatalf("t help in the detail view: %q", h)
	}
	m = keys(t, m, "t")
	if m.sv.scope.Kind != story.ByUser || m.sv.scope.User != "xfvictim" || m.sv.pivot != "user.name" {
		t.Fatalf("pivot from user.name: %v (pivot %q)", m.sv.scope, m.sv.pivot)
	}
	if !strings.Contains(screen(m), "user xfvictim (from user.name)") {
		t.Fatalf("pivot not named:\n%s", screen(m))
	}
	// Tab leaves the pivot for the alert's next scope.
	m = keys(t, m, "tab")
	if m.sv.scope.Kind != story.ByProcess || m.sv.pivot != "" {
		t.Fatalf("tab after a pivot: %v (pivot %q)", m.sv.scope, m.sv.pivot)
	}
	// esc returns to the detail view, focus kept.
	m = keys(t, m, "esc")
	if m.sv.open || !m.detail || m.tab != tabUser {
		t.Fatalf("esc from a pivot: story %v detail %v tab %d", m.sv.open, m.detail, m.tab)
	}
	m = keys(t, m, "tab", "tab") // Connection
	m = focusField(t, m, "source.ip")
	m = keys(t, m, "t")
	if m.sv.scope.Kind != story.ByAddr || m.sv.scope.Addr != "127.0.0.5" {
		t.Fatalf("pivot from source.ip: %v", m.sv.scope)
	}
	m = keys(t, m, "esc")
	m = focusField(t, m, "xferhunt.session.id")
	m = keys(t, m, "t")
	if m.sv.scope.Kind != story.BySession || m.sv.scope.Session != 44 {
		t.Fatalf("pivot from the session: %v", m.sv.scope)
	}
	// A field that names no scope opens the alert's own story.
	m = keys(t, m, "esc", "shift+tab", "shift+tab", "shift+tab", "shift+tab") // Overview
	m = keys(t, m, "t")
	if m.sv.scope.Kind != story.BySession || m.sv.pivot != "" {
		t.Fatalf("t on the rule field: %v (pivot %q)", m.sv.scope, m.sv.pivot)
	}
}

// TestStorySearch: / searches as you type, enter keeps it, n/N walk the
// matches (wrapping), matches are highlighted, esc restores the search
// and place before the prompt.
func TestStorySearch(t *testing.T) {
	m, _ := captureModel(t, 80, 24)
	m = keys(t, m, "t", "tab") // address 127.0.0.5: 51 events, scrolled to the alert
	m = typeKeys(t, m, "/UNAME")
	if m.overlay != overlaySearch || len(m.sv.matches) != 6 {
		t.Fatalf("incremental search: overlay %v, %d matches (want 6: uname and 10-uname in three sessions)", m.overlay, len(m.sv.matches))
	}
	if !strings.Contains(screen(m), "/ UNAME█  6 matching events") {
		t.Fatalf("prompt:\n%s", screen(m))
	}
	m = keys(t, m, "enter")
	if m.overlay != overlayNone || m.sv.query != "UNAME" || m.sv.cur < 0 {
		t.Fatalf("after enter: overlay %v query %q cur %d", m.overlay, m.sv.query, m.sv.cur)
	}
	first := m.sv.cur
	if l := m.sv.lines[m.sv.matches[first]]; !strings.Contains(strings.ToLower(l.detail+l.actor), "uname") {
		t.Fatalf("current match is %q", l.detail)
	}
	// The current match is drawn with its own style, the others with the
	// match style, whatever their case (one event up, the previous match
	// is on screen too).
	raw := keys(t, m, "k").View().Content
	if !strings.Contains(raw, m.styles.MatchCur.Render("uname")) || !strings.Contains(raw, m.styles.Match.Render("uname")) {
		t.Fatalf("matches not highlighted:\n%q", raw)
	}
	if !strings.Contains(screen(m), fmt.Sprintf("match %d/6", first+1)) {
		t.Fatalf("no match position:\n%s", screen(m))
	}
	seen := map[int]bool{m.sv.cur: true}
	for range 5 {
		m = keys(t, m, "n")
		seen[m.sv.cur] = true
		i := m.sv.matches[m.sv.cur]
		if i < m.sv.top || i > m.sv.lastShown(m.storyGeom(), m.sv.top) {
			t.Fatalf("match %d (event %d) off screen (top %d)", m.sv.cur, i, m.sv.top)
		}
	}
	if len(seen) != 6 {
		t.Fatalf("n visited %d of 6 matches", len(seen))
	}
	m = keys(t, m, "n")
	if m.sv.cur != first {
		t.Fatalf("n did not wrap back to the first match: %d", m.sv.cur)
	}
	m = keys(t, m, "N")
	if m.sv.cur != (first+5)%6 {
		t.Fatalf("N went to %d", m.sv.cur)
	}
	// A new search cancelled with esc puts the old one back.
	kept, keptTop := m.sv.cur, m.sv.top
	m = typeKeys(t, m, "/dropped")
	if m.sv.query != "dropped" || len(m.sv.matches) == 0 {
		t.Fatalf("second search: %q %d", m.sv.query, len(m.sv.matches))
	}
	m = keys(t, m, "esc")
	if m.sv.query != "UNAME" || m.sv.cur != kept || m.sv.top != keptTop || !m.sv.open {
		t.Fatalf("esc in the prompt: query %q cur %d top %d", m.sv.query, m.sv.cur, m.sv.top)
	}
	// No match: said, and the view stays where it was.
	m = typeKeys(t, m, "/no such thing")
	m = keys(t, m, "enter")
	if len(m.sv.matches) != 0 || !strings.Contains(screen(m), "no event matches") || m.keys.Story.NextMatch.Enabled() {
		t.Fatalf("no-match search:\n%s", screen(m))
	}
}

// TestStoryScroll: j/k, pgdn/pgup, G/g and the mouse wheel move by
// events and never past either end.
func TestStoryScroll(t *testing.T) {
	m, _ := captureModel(t, 80, 24)
	m = keys(t, m, "t", "tab", "tab") // user xfvictim: 67 events
	n := len(m.sv.lines)
	m = keys(t, m, "g")
	if m.sv.top != 0 || !strings.Contains(screen(m), fmt.Sprintf("1–%d of %d", m.sv.lastShown(m.storyGeom(), 0)+1, n)) {
		t.Fatalf("g: top %d\n%s", m.sv.top, screen(m))
	}
	m = keys(t, m, "j", "j")
	if m.sv.top != 2 {
		t.Fatalf("j j: top %d", m.sv.top)
	}
	m = keys(t, m, "k")
	if m.sv.top != 1 {
		t.Fatalf("k: top %d", m.sv.top)
	}
	last := m.sv.lastShown(m.storyGeom(), m.sv.top)
	m, _ = step(t, m, tea.KeyPressMsg{Code: tea.KeyPgDown})
	if m.sv.top != last+1 {
		t.Fatalf("pgdn: top %d, want %d", m.sv.top, last+1)
	}
	m, _ = step(t, m, tea.KeyPressMsg{Code: tea.KeyPgUp})
	if m.sv.top > 1 {
		t.Fatalf("pgup came back to %d", m.sv.top)
	}
	m = keys(t, m, "G")
	end := m.sv.top
	if end != m.sv.maxTop(m.storyGeom()) || m.sv.lastShown(m.storyGeom(), end) != n-1 {
		t.Fatalf("G: top %d, last shown %d of %d", end, m.sv.lastShown(m.storyGeom(), end), n)
	}
	m = keys(t, m, "j")
	if m.sv.top != end {
		t.Fatal("j scrolled past the end")
	}
	if !strings.Contains(screen(m), fmt.Sprintf("%d of %d", n, n)) {
		t.Fatalf("G: the position does not say the end:\n%s", screen(m))
	}
	m, _ = step(t, m, tea.MouseWheelMsg{Button: tea.MouseWheelUp, X: 10, Y: 10})
	if m.sv.top != end-3 {
		t.Fatalf("wheel up: top %d, want %d", m.sv.top, end-3)
	}
	// w cuts long details: every event takes one row, so more fit.
	wrapped := m.sv.lastShown(m.storyGeom(), 0)
	m = keys(t, m, "w")
	if cut := m.sv.lastShown(m.storyGeom(), 0); cut <= wrapped {
		t.Fatalf("w: %d events on a page cut, %d wrapped", cut+1, wrapped+1)
	}
	if !strings.Contains(screen(m), "w wrap long lines") {
		t.Fatalf("w's hint did not turn:\n%s", screen(m))
	}
}

// TestStoryLive: the open story follows the event store. New events
// arrive with a health tick and appear; a view at the end keeps
// following the end; alerts arriving do not change the alert the view
// (and its keys) act on.
func TestStoryLive(t *testing.T) {
	c := loadCapture(t)
	// The store starts without session 44's logout, its last event.
	logout := slices.IndexFunc(c.events, func(e story.Event) bool { return e.Session == 44 && e.Kind == story.LogOff })
	b := newMemBackend()
	b.stories = storeOf(slices.Delete(slices.Clone(c.events), logout, logout+1))
	m := New(Options{Backend: b, Now: func() time.Time { return captureAt }, Location: time.UTC})
	m, _ = step(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m, _ = step(t, m, AlertsMsg{Alerts: c.alerts})
	uuid := m.selected().UUID()
	m = keys(t, m, "t", "G")
	before := len(m.sv.lines)
	if m.sv.lines[before-1].kind == story.LogOff {
		t.Fatal("fixture: the logout is already there")
	}
	b.stories.Add(c.events[logout])
	m, _ = step(t, m, captureHealth(len(c.events)))
	if len(m.sv.lines) != before+1 || m.sv.lines[before].kind != story.LogOff {
		t.Fatalf("after the tick: %d events (was %d)", len(m.sv.lines), before)
	}
	if m.sv.top != m.sv.maxTop(m.storyGeom()) {
		t.Fatalf("the view at the end did not follow it: top %d, end %d", m.sv.top, m.sv.maxTop(m.storyGeom()))
	}
	if !strings.Contains(screen(m), "logout") {
		t.Fatalf("logout not on screen:\n%s", screen(m))
	}
	// An unchanged store: the answer is recognized as the same story.
	gen := m.sv.gen
	m, _ = step(t, m, captureHealth(len(c.events)))
	if m.sv.gen != gen {
		t.Fatal("an unchanged story replaced the lines")
	}
	// A newer alert lands on top of the list: the story's alert stays
	// the selected one, so a keeps acknowledging what the view shows.
	newer := c.alerts[len(c.alerts)-1]
	newer.Doc = maps.Clone(newer.Doc)
	newer.Doc["kibana.alert.uuid"] = "newer"
	newer.Doc["kibana.alert.original_time"] = "2026-11-26T04:00:00Z"
	m, _ = step(t, m, AlertsMsg{Alerts: []detect.Alert{newer}})
	if m.selected().UUID() != uuid {
		t.Fatalf("a new alert moved the story's target to %s", m.selected().UUID())
	}
	m = keys(t, m, "a")
	if b.statuses[uuid] != triage.StatusAcknowledged {
		t.Fatalf("a in the story view acknowledged %v", b.statuses)
	}
}

// countingBackend counts Story calls, to prove Update never makes one.
type countingBackend struct {
	*memBackend
	calls atomic.Int64
}

func (c *countingBackend) Story(sc story.Scope) []story.Event {
	c.calls.Add(1)
	return c.memBackend.Story(sc)
}

// TestStoryNoIOInUpdate: keys and ticks only return Cmds; the Backend is
// asked when a Cmd runs, and an answer to a superseded request is dropped.
func TestStoryNoIOInUpdate(t *testing.T) {
	c := loadCapture(t)
	b := &countingBackend{memBackend: newMemBackend()}
	b.stories = storeOf(c.events)
	m := New(Options{Backend: b, Location: time.UTC})
	m, _ = step(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m, _ = step(t, m, AlertsMsg{Alerts: c.alerts})
	nm, open := m.Update(press("t"))
	m = nm.(Model)
	if b.calls.Load() != 0 || open == nil {
		t.Fatalf("t: %d Story calls in Update, cmd %v", b.calls.Load(), open)
	}
	if !strings.Contains(screen(m), "loading the story") {
		t.Fatalf("no loading state:\n%s", screen(m))
	}
	first := open()
	if b.calls.Load() != 1 {
		t.Fatalf("the Cmd made %d Story calls", b.calls.Load())
	}
	nm, _ = m.Update(first)
	m = nm.(Model)
	nm, sw := m.Update(press("tab"))
	m = nm.(Model)
	if b.calls.Load() != 1 || sw == nil {
		t.Fatal("tab asked the backend inside Update")
	}
	stale := first.(storyMsg)
	addr := sw()
	nm, _ = m.Update(addr)
	m = nm.(Model)
	nm, _ = m.Update(stale) // the session answer, arriving late
	m = nm.(Model)
	if m.sv.scope.Kind != story.ByAddr {
		t.Fatalf("a stale answer replaced the address story with %v", m.sv.scope)
	}
	// A tick while a request is in flight waits for it, then asks again.
	nm, again := m.Update(HealthMsg{})
	m = nm.(Model)
	nm, during := m.Update(HealthMsg{})
	m = nm.(Model)
	if again == nil || during != nil || !m.sv.dirty {
		t.Fatalf("ticks: first cmd %v, second %v, dirty %v", again != nil, during != nil, m.sv.dirty)
	}
	nm, more := m.Update(again())
	if more == nil {
		t.Fatal("the dirty story was not asked again")
	}
	_ = nm
}

// storyViews are the story states golden-tested at each size.
var storyViews = []struct {
	name string
	keys []string
}{
	{"story", []string{"t"}},
	{"story-address", []string{"t", "tab"}},
	{"story-pivot-user", []string{"enter", "tab", "tab", "down", "t"}},
	{"story-search", []string{"t", "tab", "/", "u", "n", "a", "m", "e", "enter", "n"}},
	{"story-help", []string{"t", "?"}},
}

// TestStoryGolden renders the story view over the real capture at 80×24
// and 160×48 (go test ./tui -run TestStoryGolden -update rewrites them).
func TestStoryGolden(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		for _, v := range storyViews {
			t.Run(fmt.Sprintf("%s_%dx%d", v.name, sz[0], sz[1]), func(t *testing.T) {
				m, _ := captureModel(t, sz[0], sz[1])
				m = keys(t, m, v.keys...)
				out := screen(m)
				checkFits(t, out, sz[0], sz[1])
				golden.RequireEqual(t, out)
			})
		}
	}
}

// TestStoryWidthSweep: every story state at every width and three
// heights: no line overflows, nothing raw reaches the terminal.
func TestStoryWidthSweep(t *testing.T) {
	for _, h := range []int{10, 24, 48} {
		for _, v := range storyViews {
			m, _ := captureModel(t, 160, h)
			m = keys(t, m, v.keys...)
			for w := 20; w <= 220; w += 3 {
				m, _ = step(t, m, tea.WindowSizeMsg{Width: w, Height: h})
				raw := m.View().Content
				lines := strings.Split(raw, "\n")
				if len(lines) > h {
					t.Fatalf("%s %dx%d: %d lines", v.name, w, h, len(lines))
				}
				for i, l := range lines {
					if sw := ansi.StringWidth(l); sw > w {
						t.Fatalf("%s %dx%d: line %d is %d wide: %q", v.name, w, h, i, sw, ansi.Strip(l))
					}
				}
				text := ansi.Strip(raw)
				if strings.ContainsAny(text, "\x07\r") || strings.Contains(text, "\x1b") {
					t.Fatalf("%s %dx%d: raw control byte on screen", v.name, w, h)
				}
			}
		}
	}
}

// TestStoryProgramFlow drives the real program over the capture: open
// an alert, its story, the address, a pivot from the user field, a search.
func TestStoryProgramFlow(t *testing.T) {
	c := loadCapture(t)
	b := newMemBackend()
	b.stories = storeOf(c.events)
	m := New(Options{Backend: b, Location: time.UTC, Now: func() time.Time { return captureAt }})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30))
	wait := func(what string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(out []byte) bool {
			return bytes.Contains(out, []byte(what))
		}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	}
	tm.Send(AlertsMsg{Alerts: c.alerts})
	wait("dropped-legacy")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	wait("Overview")
	tm.Send(press("t"))
	wait("session 44 · 12 events")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyTab})
	wait("address 127.0.0.5 · 51 events")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	wait("Overview")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyTab})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyTab})
	wait("login user")
	for range 3 { // uid, user, euid… down to the login user
		tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
	}
	tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
	tm.Send(press("t"))
	wait("user xfvictim (from user.audit.name)")
	tm.Type("/sftp-server")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	wait(" · match ")
	tm.Send(press("q"))
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	if !final.sv.open || final.sv.scope.User != "xfvictim" || final.sv.query != "sftp-server" || len(final.sv.matches) == 0 {
		t.Fatalf("final story: open %v scope %v query %q matches %d", final.sv.open, final.sv.scope, final.sv.query, len(final.sv.matches))
	}
}
