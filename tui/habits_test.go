package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/xferhunt/xferhunt/alertdb"
)

// TestKeyAfterEnterInOneBatch: x typed right after the enter that opened
// the detail (one tmux send-keys, a fast typist) is not dropped.
func TestKeyAfterEnterInOneBatch(t *testing.T) {
	// Overview focuses the rule name, an alert field: x answers why no
	// exception can be made on it (it was dropped before: no answer).
	m := keys(t, testModel(t, newMemBackend(), 100, 30), "enter", "x")
	if !strings.Contains(m.flash, "choose an event field") {
		t.Fatalf("x after enter was dropped: overlay %v flash %q", m.overlay, m.flash)
	}
}

// TestConfirmIsNotCopy: y typed into a dialog copies nothing and answers
// nothing; enter confirms (Q's dialog: K's names its choices instead).
func TestConfirmIsNotCopy(t *testing.T) {
	b := newMemBackend()
	m := keys(t, testModel(t, b, 100, 30), "Q")
	if m.overlay != overlayConfirm {
		t.Fatalf("Q: overlay %v", m.overlay)
	}
	m, seen := step(t, m, press("y"))
	if clipboard(seen) != "" {
		t.Fatal("y in a dialog copied")
	}
	if len(b.quarantined) != 0 || m.overlay != overlayConfirm {
		t.Fatalf("y answered the dialog: quarantined %v overlay %v", b.quarantined, m.overlay)
	}
	m = keys(t, m, "enter")
	if len(b.quarantined) != 1 {
		t.Fatalf("enter did not confirm: %v", b.quarantined)
	}
}

// TestSortEveryColumnKeepsSelection: s walks every column, S reverses,
// the header marks the sorted column, the selected alert stays selected.
func TestSortEveryColumnKeepsSelection(t *testing.T) {
	m := keys(t, testModel(t, newMemBackend(), 160, 30), "down", "down")
	sel := m.selected().UUID()
	titles := map[alertdb.SortMode]string{alertdb.SortTime: "time", alertdb.SortSeverity: "severity", alertdb.SortProcess: "process",
		alertdb.SortUser: "user", alertdb.SortIP: "source ip", alertdb.SortPath: "file path", alertdb.SortStatus: ""}
	for range 7 {
		m = keys(t, m, "s")
		hdr := strings.Split(screen(m), "\n")[1]
		if want := titles[m.sortMode.Column()] + "▲"; m.sortMode.Descending() && !strings.Contains(hdr, titles[m.sortMode.Column()]+"▼") || !m.sortMode.Descending() && !strings.Contains(hdr, want) {
			t.Errorf("%v: header %q lacks the marker", m.sortMode, hdr)
		}
		if strings.Count(hdr, "▲")+strings.Count(hdr, "▼") != 1 {
			t.Errorf("%v: header %q marks %d columns", m.sortMode, hdr, strings.Count(hdr, "▲")+strings.Count(hdr, "▼"))
		}
		if m.selected().UUID() != sel {
			t.Fatalf("%v: selection moved from %s to %s", m.sortMode, sel, m.selected().UUID())
		}
	}
	m = keys(t, m, "S") // time again (seven columns), reversed: the oldest on top
	if m.sortMode != alertdb.SortTime|alertdb.SortReverse || m.st.At(0).UUID() != "a1" || !strings.Contains(screen(m), "time▲") {
		t.Fatalf("S: mode %v top %s", m.sortMode, m.st.At(0).UUID())
	}
	// :sort names a column and a direction.
	m = typeKeys(t, m, ":sort user desc")
	m = keys(t, m, "enter")
	if m.sortMode != alertdb.SortUser|alertdb.SortReverse || m.st.At(0).User() != "root" {
		t.Fatalf(":sort user desc: mode %v top %s", m.sortMode, m.st.At(0).User())
	}
}

// TestHeaderClickSorts: a click on a column title sorts by it, a second
// click reverses, at 80 and 160 columns.
func TestHeaderClickSorts(t *testing.T) {
	for _, w := range []int{80, 160} {
		m := testModel(t, newMemBackend(), w, 24)
		hdr := strings.Split(screen(m), "\n")[1]
		x := strings.Index(hdr, "user")
		m, _ = step(t, m, tea.MouseClickMsg{Button: tea.MouseLeft, X: x + 1, Y: 1})
		if m.sortMode != alertdb.SortUser || m.st.At(0).User() != "alice" {
			t.Fatalf("%d: click on user: mode %v top %s", w, m.sortMode, m.st.At(0).User())
		}
		m, _ = step(t, m, tea.MouseClickMsg{Button: tea.MouseLeft, X: x + 1, Y: 1})
		if m.sortMode != alertdb.SortUser|alertdb.SortReverse || m.st.At(0).User() != "root" {
			t.Fatalf("%d: second click: mode %v top %s", w, m.sortMode, m.st.At(0).User())
		}
	}
}

// TestPauseHoldsAndCounts: p freezes the list, arrivals are counted in
// the header, p merges them.
func TestPauseHoldsAndCounts(t *testing.T) {
	m := keys(t, testModel(t, newMemBackend(), 100, 30), "p")
	more := alertRange(0, 3, 3)
	m, _ = step(t, m, AlertsMsg{Alerts: more})
	if m.st.Len() != 5 || !strings.Contains(screen(m), "⏸ PAUSED +3 new") {
		t.Fatalf("paused: %d held in the list, header %q", m.st.Len(), strings.Split(screen(m), "\n")[0])
	}
	m = keys(t, m, "p")
	if m.st.Len() != 8 || strings.Contains(screen(m), "PAUSED") || !strings.Contains(screen(m), "3 alerts arrived while paused") {
		t.Fatalf("resumed: %d alerts, screen:\n%s", m.st.Len(), screen(m))
	}
}

// TestDetailSearchRaw: / in the Raw tab finds a term in the JSON, shows
// and highlights it; n walks to the next match; G reaches the audit
// records at the bottom, ] jumps to the next section.
func TestDetailSearchRaw(t *testing.T) {
	m := keys(t, testModel(t, newMemBackend(), 100, 30), "enter", "shift+tab", "shift+tab")
	if m.tab != tabRaw {
		t.Fatal("not on Raw")
	}
	m = typeKeys(t, m, "/workflow")
	m = keys(t, m, "enter")
	if len(m.find.matches) != 1 || m.find.cur != 0 {
		t.Fatalf("matches %v cur %d", m.find.matches, m.find.cur)
	}
	raw := m.View().Content
	if !strings.Contains(raw, m.styles.MatchCur.Render("workflow")) {
		t.Fatalf("the hit is not highlighted:\n%s", screen(m))
	}
	m = keys(t, m, "G")
	if !strings.Contains(screen(m), "nametype=CREATE") {
		t.Fatalf("G did not reach the audit records:\n%s", screen(m))
	}
	m = keys(t, m, "g")
	if !strings.Contains(screen(m), "Alert JSON") {
		t.Fatalf("g did not go to the top:\n%s", screen(m))
	}
	m = keys(t, m, "]")
	if m.dtop == 0 || !strings.Contains(screen(m), "Original audit records") {
		t.Fatalf("] did not bring the next section on screen (top %d):\n%s", m.dtop, screen(m))
	}
	m = typeKeys(t, m, "/name")
	m = keys(t, m, "enter")
	first := m.find.cur
	m = keys(t, m, "n")
	if len(m.find.matches) < 2 || m.find.cur != first+1 {
		t.Fatalf("n: %d matches, cur %d → %d", len(m.find.matches), first, m.find.cur)
	}
}

// TestCopyFocusedValue: in the detail view y copies the focused value, Y
// the whole alert.
func TestCopyFocusedValue(t *testing.T) {
	m := keys(t, testModel(t, newMemBackend(), 100, 30), "enter", "tab") // Process: name focused
	_, seen := step(t, m, press("y"))
	if got := clipboard(seen); got != "sshd" {
		t.Fatalf("y copied %q, want the focused process.name", got)
	}
	_, seen = step(t, m, press("Y"))
	if got := clipboard(seen); !strings.Contains(got, `"kibana.alert.uuid":"a5"`) {
		t.Fatalf("Y copied %q", got)
	}
}

func clipboard(seen []tea.Msg) string {
	for _, msg := range seen {
		if fmt.Sprintf("%T", msg) == "tea.setClipboardMsg" {
			return fmt.Sprint(msg)
		}
	}
	return ""
}

// TestCommandLine: : completes commands and sort columns, runs :user and
// :ip as filters, and keeps its own history; / completes field names
// and recalls earlier filters with ↑.
func TestCommandLine(t *testing.T) {
	m := testModel(t, newMemBackend(), 100, 30)
	m = keys(t, m, ":", "s", "o", "tab")
	if string(m.input) != "sort " {
		t.Fatalf(":so⇥ gave %q", string(m.input))
	}
	m = keys(t, m, "s", "e", "v", "tab")
	if string(m.input) != "sort severity " {
		t.Fatalf(":sort sev⇥ gave %q", string(m.input))
	}
	m = keys(t, m, "esc")
	m = typeKeys(t, m, ":user carol")
	m = keys(t, m, "enter")
	if m.filter != `user.name : "carol"` || m.st.Shown() != 1 {
		t.Fatalf(":user: filter %q shows %d", m.filter, m.st.Shown())
	}
	m = typeKeys(t, m, ":ip 203.0.113.7")
	m = keys(t, m, "enter")
	if m.st.Shown() != 1 || m.selected().User() != "alice" {
		t.Fatalf(":ip: shows %d", m.st.Shown())
	}
	m = keys(t, m, ":", "up")
	if string(m.input) != "ip 203.0.113.7" {
		t.Fatalf(": ↑ recalled %q", string(m.input))
	}
	m = keys(t, m, "up", "down", "down", "esc")
	m = keys(t, m, "/", "ctrl+u")
	m = typeKeys(t, m, "user.na")
	m = keys(t, m, "tab")
	if string(m.input) != "user.name : " {
		t.Fatalf("/user.na⇥ gave %q", string(m.input))
	}
	m = keys(t, m, "ctrl+u")
	m = typeKeys(t, m, "user.")
	m = keys(t, m, "tab")
	if !strings.Contains(screen(m), "user.audit. user.effective. user.id user.name") {
		t.Fatalf("candidates not listed:\n%s", screen(m))
	}
	m = keys(t, m, "ctrl+u", "up")
	if string(m.input) != `source.ip : "203.0.113.7"` {
		t.Fatalf("/ ↑ recalled %q, want the :ip filter", string(m.input))
	}
	m = keys(t, m, "up")
	if string(m.input) != `user.name : "carol"` {
		t.Fatalf("/ ↑↑ recalled %q, want the :user filter", string(m.input))
	}
	m = keys(t, m, "esc")
	m = typeKeys(t, m, ":bogus")
	m = keys(t, m, "enter")
	if !strings.Contains(screen(m), "unknown command :bogus") {
		t.Fatalf("unknown command not said:\n%s", screen(m))
	}
}

// TestQuitAsksWhenTriageWouldBeLost: in an ephemeral session q asks after
// a status change (enter quits, esc stays); without one it quits at once.
func TestQuitAsksWhenTriageWouldBeLost(t *testing.T) {
	m := New(Options{Backend: newMemBackend(), Location: time.UTC, Ephemeral: true})
	m, _ = step(t, m, AlertsMsg{Alerts: tableAlerts()})
	if _, cmd := m.Update(press("q")); cmd == nil {
		t.Fatal("q with nothing to lose did not quit")
	}
	m = keys(t, m, "a")
	nm, cmd := m.Update(press("q"))
	m = nm.(Model)
	if cmd != nil || m.overlay != overlayConfirm || !strings.Contains(m.ask.body, "--ephemeral") {
		t.Fatalf("q after triage: overlay %v body %q", m.overlay, m.ask.body)
	}
	m = keys(t, m, "esc")
	if m.overlay != overlayNone {
		t.Fatal("esc did not stay")
	}
	m = keys(t, m, "q")
	if _, cmd := m.Update(press("enter")); cmd == nil {
		t.Fatal("enter did not quit")
	} else if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("enter did not quit")
	}
}

// TestNarrowTabBarClick: under 59 columns the tab bar is "Name (i/7)
// tab/→"; a click on the position goes to the next tab, on the name
// nowhere, and never to a tab the full bar would have had there.
func TestNarrowTabBarClick(t *testing.T) {
	m := keys(t, testModel(t, newMemBackend(), 50, 24), "enter")
	l := m.layout()
	bar := strings.Split(screen(m), "\n")[l.detail.y]
	if !strings.HasPrefix(bar, "Overview (1/7)") {
		t.Fatalf("narrow bar %q", bar)
	}
	m, _ = step(t, m, tea.MouseClickMsg{Button: tea.MouseLeft, X: 3, Y: l.detail.y})
	if m.tab != tabOverview {
		t.Fatalf("a click on the name switched to %d", m.tab)
	}
	m, _ = step(t, m, tea.MouseClickMsg{Button: tea.MouseLeft, X: strings.Index(bar, "(") + 1, Y: l.detail.y})
	if m.tab != tabProcess {
		t.Fatalf("a click on the position went to %d", m.tab)
	}
	// Wide: a click on each name opens it.
	m = keys(t, testModel(t, newMemBackend(), 160, 48), "enter")
	l = m.layout()
	bar = strings.Split(screen(m), "\n")[l.detail.y][l.detail.x:]
	for i, name := range tabNames {
		x := l.detail.x + len([]rune(bar[:strings.Index(bar, name)])) + 1
		m, _ = step(t, m, tea.MouseClickMsg{Button: tea.MouseLeft, X: x, Y: l.detail.y})
		if m.tab != i {
			t.Fatalf("click on %s opened tab %d", name, m.tab)
		}
	}
}

// TestWideLayout: at 200×50 with an alert open the list gets what the
// detail pane (at most 96 columns) leaves, and paths are not cut.
func TestWideLayout(t *testing.T) {
	m := keys(t, testModel(t, newMemBackend(), 200, 50), "enter")
	l := m.layout()
	if l.mode != modeSide || l.detail.w != detailMaxW || l.list.w != 200-detailMaxW-1 {
		t.Fatalf("layout %+v", l)
	}
	out := screen(m)
	checkFits(t, out, 200, 50)
	if !strings.Contains(out, "/opt/app/bin/update\\x1b[31mEVIL\\x1b[0m.sh") || strings.Contains(strings.Split(out, "\n")[3], "…") {
		t.Fatalf("paths cut at 200 columns:\n%s", out)
	}
	golden.RequireEqual(t, out)
}

// TestTimeZones: UTC carries a Z and is named in the header; another zone
// is named in the header and every time shown moves with it.
func TestTimeZones(t *testing.T) {
	for _, zone := range []string{"UTC", "America/New_York", "Asia/Kolkata"} {
		t.Run(strings.ReplaceAll(zone, "/", "_"), func(t *testing.T) {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Skipf("no zone data: %v", err)
			}
			m := New(Options{Backend: newMemBackend(), Now: func() time.Time { return base }, Location: loc})
			m, _ = step(t, m, tea.WindowSizeMsg{Width: 160, Height: 24})
			m, _ = step(t, m, AlertsMsg{Alerts: tableAlerts()})
			m, _ = step(t, m, testHealth())
			m = keys(t, m, "enter")
			out := screen(m)
			want := base.Add(-10 * time.Minute).In(loc).Format("2006-01-02 15:04:05") // a5, the newest
			if zone == "UTC" {
				want += "Z"
			}
			if !strings.Contains(out, want) {
				t.Errorf("list/detail lack %q:\n%s", want, out)
			}
			hdr := strings.Split(out, "\n")[0]
			if zone == "UTC" && !strings.Contains(hdr, "· UTC") || zone != "UTC" && !strings.Contains(hdr, zone) {
				t.Errorf("header %q does not name the zone", hdr)
			}
			golden.RequireEqual(t, out)
		})
	}
}

// TestHistoryBeforeFirstReport: no "history 0 (covers none)" at start.
func TestHistoryBeforeFirstReport(t *testing.T) {
	m := New(Options{Backend: newMemBackend()})
	m, _ = step(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
	out := screen(m)
	if strings.Contains(out, "history 0") || !strings.Contains(out, "history window not reported yet") {
		t.Fatalf("start-up status bar:\n%s", out)
	}
	// Overview and the status bar print the window the same way.
	m = keys(t, testModel(t, newMemBackend(), 100, 30), "enter")
	if out := screen(m); !strings.Contains(out, "history window   7d") || !strings.Contains(out, "history 7d") {
		t.Fatalf("durations differ:\n%s", out)
	}
}

// TestLongFlashWraps: a flash longer than the footer is shown whole over
// the status bar rows, not cut.
func TestLongFlashWraps(t *testing.T) {
	m := testModel(t, newMemBackend(), 80, 24)
	sum := strings.Repeat("0123456789abcdef", 4)
	m.setFlash(false, "preserved /var/lib/xferhunt/evidence/a5/kworker sha256 %s", sum)
	out := screen(m)
	checkFits(t, out, 80, 24)
	if !strings.Contains(strings.ReplaceAll(out, "\n", ""), sum) {
		t.Fatalf("sha256 cut:\n%s", out)
	}
}

// TestHelpPerView: the help lists the detail keys and legend in the
// detail view (search, paging, sections), the list's in the list, and
// scrolls to the end at 80×24.
func TestHelpPerView(t *testing.T) {
	m := keys(t, testModel(t, newMemBackend(), 160, 48), "enter", "?")
	out := screen(m)
	for _, want := range []string{"search this tab", "next section", "page down", "copy focused value", "List marks", "◐", "acknowledged", "Mouse", "quits from any view", "complete field or command"} {
		if !strings.Contains(out, want) {
			t.Errorf("detail help lacks %q", want)
		}
	}
	if strings.Contains(out, "sort by next column") {
		t.Error("detail help lists a list key")
	}
	m = keys(t, testModel(t, newMemBackend(), 80, 24), "?")
	if !strings.Contains(screen(m), "more lines") {
		t.Fatalf("80×24 help does not say it scrolls:\n%s", screen(m))
	}
	for range 30 {
		m = keys(t, m, "pgdown")
	}
	if out := screen(m); strings.Contains(out, "more lines") || !strings.Contains(out, "ctrl+c") {
		t.Fatalf("help end not reached:\n%s", out)
	}
}
