package tui

import (
	"encoding/json"
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/enrich"
	"github.com/xferhunt/xferhunt/internal/visible"
)

// Tabs of the drill-down view, in display order.
var tabNames = []string{"Overview", "Process", "User", "File", "Connection", "Raw", "Guide"}

const (
	tabOverview = iota
	tabProcess
	tabUser
	tabFile
	tabConnection
	tabRaw
	tabGuide
)

// lineStyle is how a free text line of a detail tab is drawn.
type lineStyle int

const (
	lineNormal  lineStyle = iota
	lineHeading           // a section title; ] and [ jump between them
	lineCode              // JSON, audit records, code blocks
	lineMuted             // "(none)", quotes
)

// dline is one line of a detail tab. Lines with a field can be focused and
// turned into an exception; value is the raw (unsanitized) keyword.
type dline struct {
	label string // "" for free text lines (already styled/sanitized)
	text  string // sanitized display text
	field string
	value string
	style lineStyle
}

func kv(label, field string, d ecs.Doc) dline {
	return dline{label: label, text: visible.String(ecs.Display(d.Get(field))), field: field, value: exceptionValue(d, field)}
}

// exceptionValue is the keyword an exception on field would match, or ""
// when the field has none or several (an exception on one element of an
// array would be ambiguous, so such lines are not focusable).
func exceptionValue(d ecs.Doc, field string) string {
	if ks := d.Keywords(field); len(ks) == 1 {
		return ks[0]
	}
	return ""
}

func kvText(label, text string) dline { return dline{label: label, text: visible.String(text)} }

func heading(s string) dline { return dline{text: visible.String(s), style: lineHeading} }

func blank() dline { return dline{} }

func firstNonEmpty(d ecs.Doc, fields ...string) (string, string) {
	for _, f := range fields {
		if v := ecs.Display(d.Get(f)); v != "" {
			return f, v
		}
	}
	return fields[0], ""
}

func kvAny(label string, d ecs.Doc, fields ...string) dline {
	f, v := firstNonEmpty(d, fields...)
	return dline{label: label, text: visible.String(v), field: f, value: exceptionValue(d, f)}
}

// selected returns the alert under the cursor, or nil.
func (m *Model) selected() *alertdb.Row {
	if m.cursor < 0 || m.cursor >= m.st.Shown() {
		return nil
	}
	return m.st.At(m.cursor)
}

// detailLines builds the focused tab's lines for the selected alert.
func (m *Model) detailLines() []dline {
	r := m.selected()
	if r == nil {
		return []dline{kvText("", "no alert selected")}
	}
	d := r.Doc()
	switch m.tab {
	case tabOverview:
		return overviewLines(d, m.clock)
	case tabProcess:
		return processLines(d)
	case tabUser:
		return userLines(d, m.clock)
	case tabFile:
		return fileLines(d)
	case tabConnection:
		return connectionLines(d, m.clock)
	case tabRaw:
		return rawLines(d)
	case tabGuide:
		return markdownLines(m.guide)
	}
	return nil
}

// timeLine is a field holding an RFC 3339 time, shown the clock's way;
// the exception value stays the raw keyword.
func timeLine(label, field string, d ecs.Doc, c clock) dline {
	l := kv(label, field, d)
	l.text = visible.String(c.docTime(ecs.Display(d.Get(field))))
	return l
}

// durationLine is a field holding a duration ("now-10d", "240h0m0s"), shown as
// the status bar shows durations ("10d").
func durationLine(label, field string, d ecs.Doc) dline {
	l := kv(label, field, d)
	if dur, err := rules.ParseDuration(ecs.Display(d.Get(field))); err == nil && dur > 0 {
		l.text = shortDur(dur)
	}
	return l
}

func overviewLines(d ecs.Doc, c clock) []dline {
	out := []dline{
		kvText("reason", d.Str("kibana.alert.reason")),
		kv("rule", "kibana.alert.rule.name", d),
		kv("severity", "kibana.alert.severity", d),
		kv("risk score", "kibana.alert.risk_score", d),
		kv("status", "kibana.alert.workflow_status", d),
		timeLine("event time", "kibana.alert.original_time", d, c),
		timeLine("alert time", "@timestamp", d, c),
	}
	fields := d.Values("xferhunt.explain.new_terms_fields")
	terms := d.Values("kibana.alert.new_terms")
	out = append(out, blank(), heading("New term"))
	for i, t := range terms {
		label := "term"
		field := ""
		if i < len(fields) {
			field = ecs.Display(fields[i])
			label = field
		}
		v := ecs.Display(t)
		ex := ""
		if field != "" {
			ex = v
		}
		out = append(out, dline{label: visible.String(label), text: visible.String(v), field: field, value: ex})
	}
	last := ecs.Display(d.Get("xferhunt.explain.last_seen"))
	if last == "" {
		last = "never"
	}
	out = append(out, kvText("last seen", c.docTime(last)), durationLine("history window", "xferhunt.explain.history_window", d))
	if h, _ := d.Get("xferhunt.historical").(bool); h {
		out = append(out, kvText("historical", "yes (raised during backfill)"))
	}
	if l := ecs.Display(d.Get("xferhunt.loss")); l != "" && l != "false" && l != "0" {
		out = append(out, kvText("loss", l))
	}
	out = append(out, blank(), heading("Query clauses"))
	for _, c := range d.Objects("xferhunt.explain.clauses") {
		mark := "✗ no"
		if ok, _ := c.Get("matched").(bool); ok {
			mark = "✓ yes"
		}
		out = append(out, kvText(mark, ecs.Display(c.Get("clause"))))
	}
	out = append(out, blank(), heading("MITRE ATT&CK"))
	for _, td := range d.Objects("threat") {
		out = append(out, kvText("tactic", td.Str("tactic.id")+" "+td.Str("tactic.name")))
		for _, tt := range td.Objects("technique") {
			out = append(out, kvText("technique", tt.Str("id")+" "+tt.Str("name")))
			for _, st := range tt.Objects("subtechnique") {
				out = append(out, kvText("  sub", st.Str("id")+" "+st.Str("name")))
			}
		}
	}
	return out
}

func processLines(d ecs.Doc) []dline {
	out := []dline{
		kv("name", "process.name", d),
		kv("pid", "process.pid", d),
		kv("executable", "process.executable", d),
		kv("args", "process.args", d),
		kv("cwd", "process.working_directory", d),
		kv("entity id", "process.entity_id", d),
		kv("parent", "process.parent.name", d),
		kv("parent pid", "process.parent.pid", d),
		kv("parent exe", "process.parent.executable", d),
		blank(), heading("Ancestry"),
	}
	anc := ancestry(d)
	// Show the root first: engines record ancestry nearest-first.
	if len(anc) > 1 {
		if ecs.Display(anc[0].Get("pid")) == ecs.Display(d.Get("process.pid")) {
			rev := make([]ecs.Doc, len(anc))
			for i, a := range anc {
				rev[len(anc)-1-i] = a
			}
			anc = rev
		}
	}
	for i, ad := range anc {
		prefix := strings.Repeat("  ", i)
		if i > 0 {
			prefix = strings.Repeat("  ", i-1) + "└─"
		}
		text := prefix + ancestorLabel(ad)
		if args := ad.Values("args"); len(args) > 0 {
			text += " " + visible.String(ecs.Display(args))
		}
		if cwd := ad.Str("cwd"); cwd != "" {
			text += " (cwd " + visible.String(cwd) + ")"
		}
		out = append(out, dline{text: text})
	}
	if len(anc) == 0 {
		out = append(out, dline{text: "(not recorded)", style: lineMuted})
	}
	return out
}

// ancestry is the process chain, nearest first: the recorded one
// (enrich.RecordedAncestry, from the audit records) with what /proc told at
// alert time (enrich.ProcessAncestry, live alerts) filling the entries the
// records knew only by pid, and continuing the chain past where the
// records stopped.
func ancestry(d ecs.Doc) []ecs.Doc {
	rec := d.Objects(enrich.RecordedAncestry)
	live := d.Objects(enrich.ProcessAncestry)
	if len(live) == 0 {
		return rec
	}
	if len(rec) == 0 {
		return live
	}
	byPID := make(map[string]ecs.Doc, len(live))
	for _, l := range live {
		byPID[ecs.Display(l.Get("pid"))] = l
	}
	out := make([]ecs.Doc, 0, len(rec)+len(live))
	seen := map[string]bool{}
	for _, r := range rec {
		pid := ecs.Display(r.Get("pid"))
		seen[pid] = true
		if l, ok := byPID[pid]; ok && r.Str("name") == "" && r.Str("executable") == "" {
			r = l
		}
		out = append(out, r)
	}
	// The chain continues past the last recorded ancestor when /proc
	// knew more (the records start at the rules' load).
	last := ecs.Display(rec[len(rec)-1].Get("pid"))
	for i, l := range live {
		if ecs.Display(l.Get("pid")) != last {
			continue
		}
		for _, more := range live[i+1:] {
			if p := ecs.Display(more.Get("pid")); !seen[p] {
				seen[p] = true
				out = append(out, more)
			}
		}
		break
	}
	return out
}

// ancestorLabel is "name [pid]"; a part the engine could not record is
// left out rather than leaving a stray space or empty brackets.
func ancestorLabel(ad ecs.Doc) string {
	name := ad.Str("name")
	if name == "" {
		name = ad.Str("executable")
	}
	var parts []string
	if name != "" {
		parts = append(parts, visible.String(name))
	}
	if pid := ecs.Display(ad.Get("pid")); pid != "" {
		parts = append(parts, "["+visible.String(pid)+"]")
	}
	if len(parts) == 0 {
		return "(unknown process)"
	}
	return strings.Join(parts, " ")
}

func userLines(d ecs.Doc, c clock) []dline {
	out := []dline{
		kv("uid", "user.id", d), kv("user", "user.name", d),
		kv("euid", "user.effective.id", d), kv("effective user", "user.effective.name", d),
		kv("auid", "user.audit.id", d), kv("login user", "user.audit.name", d),
	}
	out = append(out, kvAny("group", d, "group.name", "user.group.name", "group.id"))
	out = append(out, blank(), heading("Login session"),
		kv("session", "xferhunt.session.id", d),
		timeLine("login time", "xferhunt.session.login_time", d, c),
		kv("terminal", "xferhunt.session.terminal", d),
		kv("host", "host.name", d),
	)
	return out
}

// fileLines shows the event's file, then its facts on disk as the
// enricher recorded them (the field names are enrich's own constants), and
// whether those facts are final.
func fileLines(d ecs.Doc) []dline {
	exists := ecs.Display(d.Get(enrich.FileExists))
	switch exists {
	case "true":
		exists = "yes"
	case "false":
		exists = "no (deleted since)"
	case "":
		exists = "unknown"
	}
	out := []dline{
		kv("path", "file.path", d),
		kv("name", "file.name", d),
		kv("extension", "file.extension", d),
		kv("action", "event.action", d),
		kvAny("mode recorded", d, "file.mode"),
		kvAny("owner recorded", d, "file.owner", "file.uid"),
		blank(), heading("On disk"),
		kvText("facts", factsState(d)),
		kvText("still present", exists),
	}
	if r, _ := d.Get(enrich.FileReplaced).(bool); r {
		out = append(out, kvText("replaced", "yes: the path now names another file than the upload's"))
	}
	out = append(out,
		kv("size", enrich.FileSize, d),
		kv("sha256", enrich.FileSHA256, d),
		kv("type", enrich.FileType, d),
		kv("mode", enrich.FileMode, d),
		kvAny("owner", d, enrich.FileOwner, enrich.FileUID),
		kvAny("group", d, enrich.FileGroup, enrich.FileGID),
	)
	if sk := d.Str(enrich.FileHashSkipped); sk != "" {
		out = append(out, kvText("not hashed", sk))
	}
	return out
}

// factsState says what the facts on disk are worth, and when they were
// taken.
func factsState(d ecs.Doc) string {
	at := d.Str(enrich.FileFactsAt)
	if at != "" {
		at = " at " + at
	}
	switch d.Str(enrich.FileFactsState) {
	case enrich.FactsFinal:
		return "final (the writer had closed the file)" + at
	case enrich.FactsPartial:
		return "partial (the writer still had the file open)" + at
	case enrich.FactsPending:
		return "pending (upload in progress)" + at
	}
	if d.Get(enrich.FileExists) == nil {
		return "not taken (recorded or backfilled alert)"
	}
	return "taken when the alert was raised" + at
}

func connectionLines(d ecs.Doc, c clock) []dline {
	ipPort := d.Str("source.ip")
	if p := ecs.Display(d.Get("source.port")); p != "" {
		ipPort += ":" + p
	}
	return []dline{
		{label: "source", text: visible.String(ipPort), field: "source.ip", value: d.Str("source.ip")},
		kv("session", "xferhunt.session.id", d),
		kv("daemon pid", "xferhunt.session.sshd_pid", d),
		timeLine("login time", "xferhunt.session.login_time", d, c),
		kv("terminal", "xferhunt.session.terminal", d),
		kv("attributed by", "xferhunt.session.attributed_by", d),
		kv("host", "host.name", d),
		kv("host ip", "host.ip", d),
	}
}

func rawLines(d ecs.Doc) []dline {
	out := []dline{heading("Alert JSON")}
	b, err := json.MarshalIndent(map[string]any(d), "", "  ")
	if err != nil {
		out = append(out, kvText("error", err.Error()))
	}
	for _, l := range strings.Split(string(b), "\n") {
		// JSON already escapes quotes and C0 controls; doubling its
		// backslashes would only obscure them.
		out = append(out, dline{text: visible.Escaped(l), style: lineCode})
	}
	out = append(out, blank(), heading("Original audit records"))
	orig := d.Str("event.original")
	if orig == "" {
		out = append(out, dline{text: "(none)", style: lineMuted})
	}
	for _, l := range strings.Split(orig, "\n") {
		if l != "" {
			out = append(out, dline{text: visible.String(l), style: lineCode})
		}
	}
	return out
}

// focusable returns the indexes of lines that name a field.
func focusable(ls []dline) []int {
	var out []int
	for i, l := range ls {
		if l.field != "" && l.value != "" {
			out = append(out, i)
		}
	}
	return out
}

// tabHit is the cells [x0, x1) of the tab bar that select tab.
type tabHit struct{ x0, x1, tab int }

// tabBar is the detail pane's tab bar at width w and where each tab is:
// the one function both the frame and the mouse use. Narrow, it shows the
// current tab and its position, and a click on the position goes on to
// the next tab.
func (m *Model) tabBar(w int) (string, []tabHit) {
	s := m.styles
	var b strings.Builder
	var hits []tabHit
	x := 0
	for i, t := range tabNames {
		if i > 0 {
			b.WriteString(s.Muted.Render(" │ "))
			x += 3
		}
		st := s.TabInactive
		if i == m.tab {
			st = s.TabActive
		}
		b.WriteString(st.Render(t))
		tw := ansi.StringWidth(t)
		// The separator's cells around a name count for it: no dead
		// cells between tabs.
		hits = append(hits, tabHit{max(0, x-1), x + tw + 2, i})
		x += tw
	}
	if x <= w {
		return b.String(), hits
	}
	name := tabNames[m.tab]
	nw := ansi.StringWidth(name)
	next := m.keys.Detail.NextTab.Help().Key
	pos := fmt.Sprintf(" (%d/%d) %s", m.tab+1, len(tabNames), next)
	bar := s.TabActive.Render(name) + s.Muted.Render(pos)
	return bar, []tabHit{{0, nw, m.tab}, {nw, nw + ansi.StringWidth(pos), (m.tab + 1) % len(tabNames)}}
}

// renderDetail draws the tab bar and the visible part of the current tab.
func (m Model) renderDetail(r rect) []string {
	bar, _ := m.tabBar(r.w)
	lines := []string{bar}
	rows := m.drows
	h := max(0, r.h-1)
	cur := -1
	if m.find.cur >= 0 && m.find.cur < len(m.find.matches) {
		cur = m.find.matches[m.find.cur]
	}
	for i := m.dtop; i < len(rows) && i < m.dtop+h; i++ {
		q := ""
		if m.find.query != "" {
			q = m.find.query
		}
		lines = append(lines, m.styleRow(rows[i], q, i == cur))
	}
	return lines
}

// drow is one wrapped, unstyled detail row: styling is applied only to
// the rows on screen.
type drow struct {
	label, text string
	style       lineStyle
	labelW      int
	line        int // index of its dline
	focused     bool
	free        bool
}

// detailRows wraps every detail line to w cells.
func (m Model) detailRows(w int) []drow {
	foc := focusable(m.dlines)
	focused := -1
	if !m.dfree && m.field >= 0 && m.field < len(foc) {
		focused = foc[m.field]
	}
	labelW := min(16, max(6, w/5))
	var out []drow
	for i, l := range m.dlines {
		if l.label == "" {
			for _, part := range wrapHanging(l.text, w) {
				out = append(out, drow{text: part, style: l.style, line: i, free: true})
			}
			continue
		}
		for j, p := range wrapCells(l.text, max(1, w-labelW-1)) {
			lab := ""
			if j == 0 {
				lab = l.label
			}
			out = append(out, drow{label: lab, text: p, labelW: labelW, line: i, focused: i == focused})
		}
	}
	return out
}

// styleRow styles one detail row; q, when set, is the search whose hits
// are highlighted (the current match's row in its own style).
func (m Model) styleRow(r drow, q string, current bool) string {
	s := m.styles
	if r.free {
		st := s.Value
		switch r.style {
		case lineHeading:
			st = s.Heading
		case lineCode:
			st = s.Code
		case lineMuted:
			st = s.Muted
		}
		return m.hlText(r.text, q, st, current)
	}
	st := s.Value
	switch {
	case r.focused:
		st = s.Focus
	case r.text == "" && r.label != "":
		return s.Label.Render(fit(r.label, r.labelW)) + " " + s.Muted.Render("—") // recorded as empty or not at all
	}
	return m.hlText(fit(r.label, r.labelW), q, s.Label, current) + " " + m.hlText(r.text, q, st, current)
}

// hlText renders t in base with every case-insensitive occurrence of q
// in the match style (MatchCur on the current match's row).
func (m Model) hlText(t, q string, base lipgloss.Style, current bool) string {
	if q == "" {
		return base.Render(t)
	}
	lt, lq := strings.ToLower(t), strings.ToLower(q)
	// ToLower can change byte lengths (rare scripts): then no highlight
	// rather than a cut rune.
	if len(lt) != len(t) {
		return base.Render(t)
	}
	hit := m.styles.Match
	if current {
		hit = m.styles.MatchCur
	}
	var b strings.Builder
	for {
		i := strings.Index(lt, lq)
		if i < 0 {
			break
		}
		if i > 0 {
			b.WriteString(base.Render(t[:i]))
		}
		b.WriteString(hit.Render(t[i : i+len(q)]))
		t, lt = t[i+len(q):], lt[i+len(q):]
	}
	if t != "" {
		b.WriteString(base.Render(t))
	}
	return b.String()
}

// wrapHanging is wrapCells for free text lines: continuation lines keep
// the line's indentation, and list items, quotes and indented (code, JSON)
// lines indent further, so a wrapped bullet or JSON string still reads as
// one item.
func wrapHanging(t string, w int) []string {
	lines := wrapCells(t, w)
	if len(lines) == 1 {
		return lines
	}
	rest, ok := strings.CutPrefix(t, lines[0])
	hang := hangPrefix(t)
	hw := ansi.StringWidth(hang)
	if !ok || hw >= w/2 {
		return lines
	}
	out := []string{lines[0]}
	for _, l := range wrapCells(strings.TrimLeft(rest, " "), w-hw) {
		out = append(out, hang+l)
	}
	return out
}

// hangPrefix is what continuation lines of t start with.
func hangPrefix(t string) string {
	body := strings.TrimLeft(t, " ")
	lead := t[:len(t)-len(body)]
	switch {
	case strings.HasPrefix(body, "• "):
		return lead + "  "
	case strings.HasPrefix(body, "│ "):
		return lead + "│ "
	case isNumbered(body):
		return lead + strings.Repeat(" ", strings.Index(body, " ")+1)
	case lead != "":
		return lead + "  "
	}
	return ""
}

// wrapCells wraps sanitized text to w cells at spaces, breaking words only when they are longer than a line; never returns
// nothing, so empty values still occupy their line.
func wrapCells(t string, w int) []string {
	if t == "" || w <= 0 {
		return []string{""}
	}
	if ansi.StringWidth(t) <= w {
		return []string{t}
	}
	return strings.Split(ansi.Wrap(t, w, ""), "\n")
}
