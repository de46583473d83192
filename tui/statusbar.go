package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"

	"github.com/xferhunt/xferhunt/internal/visible"
)

// renderBar draws two status lines: each source and its health, then the
// engine counters. Problems (errors, loss, drops) take the warning styles.
func (m Model) renderBar(w int) []string {
	s := m.styles
	var src []string
	for _, h := range m.health.Sources {
		state, st := "backfill", s.Warn
		if h.Live {
			state, st = "live", s.OK
		}
		if h.Err != "" {
			state, st = "error: "+visible.String(h.Err), s.Bad
		}
		part := st.Render("● "+visible.String(h.Name)+" "+state) + s.Bar.Render(fmt.Sprintf(" %d ev", h.Events))
		if h.Malformed > 0 {
			part += s.Warn.Render(fmt.Sprintf(" %d malformed", h.Malformed))
		}
		if h.Lost > 0 || h.Gaps > 0 {
			part += s.Bad.Render(fmt.Sprintf(" %d lost %d gaps", h.Lost, h.Gaps))
		}
		if h.Dropped > 0 {
			part += s.Bad.Render(fmt.Sprintf(" %d dropped", h.Dropped))
		}
		src = append(src, part)
	}
	line1 := strings.Join(src, s.Bar.Render("  "))
	if len(src) == 0 {
		line1 = s.Bar.Render("no source reported yet")
	}
	st := m.health.Stats
	cov := "none"
	clock := st.Newest
	if clock.IsZero() {
		clock = m.health.At
	}
	if !st.Coverage.IsZero() && !clock.IsZero() {
		// History is kept a little past the window (late events); what
		// counts is how much of the window it fills.
		span := clock.Sub(st.Coverage)
		if st.HistoryWindow > 0 && span >= st.HistoryWindow {
			cov = "all of it"
		} else {
			cov = shortDur(span)
		}
	}
	// Before the engine's first report there is no window to speak of:
	// say so instead of "history 0 (covers none)".
	hist := "history window not reported yet"
	if st.HistoryWindow > 0 {
		hist = fmt.Sprintf("history %s (covers %s)", shortDur(st.HistoryWindow), cov)
	}
	line2 := s.Bar.Render(fmt.Sprintf("%.0f ev/s · %s · terms %d · alerts %d",
		st.EventsPerSec, hist, st.Terms, st.Alerts))
	if st.HeldBack > 0 {
		line2 += s.Warn.Render(fmt.Sprintf(" · held back %d", st.HeldBack))
	}
	if st.StoryEvicted > 0 {
		line2 += s.Warn.Render(fmt.Sprintf(" · story evicted %d", st.StoryEvicted))
	}
	if st.TuplesCapped > 0 {
		line2 += s.Warn.Render(fmt.Sprintf(" · tuples capped %d", st.TuplesCapped))
	}
	if st.TermsEvicted > 0 {
		line2 += s.Warn.Render(fmt.Sprintf(" · terms evicted %d", st.TermsEvicted))
	}
	if st.IgnoredAbove > 0 {
		line2 += s.Warn.Render(fmt.Sprintf(" · over 1024 B %d", st.IgnoredAbove))
	}
	if st.Untimed > 0 {
		line2 += s.Warn.Render(fmt.Sprintf(" · untimed %d", st.Untimed))
	}
	if st.StateErrors > 0 {
		line2 += s.Bad.Render(fmt.Sprintf(" · state not saved (%d failed writes): %s", st.StateErrors, visible.String(st.StateErr)))
	}
	if m.dropped > 0 {
		line2 += s.Bad.Render(fmt.Sprintf(" · ui dropped %d", m.dropped))
	}
	return []string{barLine(s.Bar.Render, line1, w), barLine(s.Bar.Render, line2, w)}
}

// barLine cuts a styled line to w and pads it with the bar background.
func barLine(bg func(...string) string, l string, w int) string {
	if ansi.StringWidth(l) > w {
		l = ansi.Truncate(l, w, "…")
	}
	if pad := w - ansi.StringWidth(l); pad > 0 {
		l += bg(strings.Repeat(" ", pad))
	}
	return l
}

// shortDur prints a duration as days/hours/minutes.
func shortDur(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	hours := int(d / time.Hour)
	mins := int((d - time.Duration(hours)*time.Hour) / time.Minute)
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%dd%dh", days, hours)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case hours > 0:
		return fmt.Sprintf("%dh%dm", hours, mins)
	}
	if mins > 0 {
		return fmt.Sprintf("%dm", mins)
	}
	// Short windows are real (the demo's is 2 s): never round them up.
	return fmt.Sprintf("%ds", max(1, int(d/time.Second)))
}

// renderFooter shows the filter prompt, a flash message, or short help.
func (m Model) renderFooter(w int) string {
	s := m.styles
	switch m.overlay {
	case overlayFilter, overlayCommand:
		lead := m.keys.List.Filter.Help().Key
		if m.overlay == overlayCommand {
			lead = m.keys.Global.Command.Help().Key
		}
		prompt := s.Key.Render(lead) + " " + visible.String(string(m.input)) + "█"
		if m.inputErr != "" {
			prompt += "  " + s.FlashErr.Render(visible.String(m.inputErr))
		}
		if m.hint != "" {
			prompt += "  " + s.Muted.Render(visible.String(m.hint))
		} else if m.inputErr == "" {
			p := m.keys.Prompt
			prompt += "  " + s.Muted.Render(p.Complete.Help().Key+" complete · "+p.Older.Help().Key+" history · "+p.Apply.Help().Key+" apply · "+p.Cancel.Help().Key+" cancel")
		}
		return ansi.Truncate(prompt, w, "…")
	case overlayFind:
		prompt := s.Key.Render(m.keys.Detail.Search.Help().Key) + " " + visible.String(string(m.find.input)) + "█"
		switch {
		case m.find.query == "":
		case len(m.find.matches) == 0:
			prompt += "  " + s.FlashErr.Render("no match")
		default:
			p := m.keys.Prompt
			prompt += "  " + s.Muted.Render(fmt.Sprintf("%d matching rows · %s keep · %s cancel", len(m.find.matches), p.Apply.Help().Key, p.Cancel.Help().Key))
		}
		return ansi.Truncate(prompt, w, "…")
	case overlaySearch:
		prompt := s.Key.Render(m.keys.Story.Search.Help().Key) + " " + visible.String(string(m.sv.input)) + "█"
		switch {
		case m.sv.query == "" || m.sv.matchesFor != m.sv.query:
		case len(m.sv.matches) == 0:
			prompt += "  " + s.FlashErr.Render("no match")
		default:
			p := m.keys.Prompt
			prompt += "  " + s.Muted.Render(fmt.Sprintf("%d matching events · %s keep · %s cancel", len(m.sv.matches), p.Apply.Help().Key, p.Cancel.Help().Key))
		}
		return ansi.Truncate(prompt, w, "…")
	}
	if m.flash != "" {
		st := s.Flash
		if m.flashErr {
			st = s.FlashErr
		}
		return st.Render(ansi.Truncate(visible.String(m.flash), w, "…"))
	}
	var hints []key.Binding
	k := m.keys
	switch {
	case m.overlay == overlayHelp:
		hints = []key.Binding{k.Global.Help, k.Global.Quit}
	case m.overlay == overlayException:
		hints = []key.Binding{k.Exception.Save, k.Exception.Cancel, k.Exception.Change, k.Exception.AddEntry, k.Exception.DelEntry, k.Exception.Toggle}
	case m.overlay == overlayExceptions:
		hints = []key.Binding{k.Exception.Edit, k.Exception.Delete, k.Exception.Export, k.Exception.Cancel}
	case m.sv.open:
		hints = []key.Binding{k.Global.Help, k.Story.Back, k.Story.NextScope, k.Story.Search, k.Story.NextMatch, k.Story.PrevMatch, k.Story.Wrap, k.Global.Quit}
	case m.detail:
		hints = []key.Binding{k.Global.Help, k.Detail.Back, k.Detail.NextTab, k.Alert.Story, k.Detail.Search, k.Alert.Ack, k.Alert.Close, k.Alert.Exception, k.Alert.Copy, k.Global.Quit}
	default:
		hints = []key.Binding{k.Global.Help, k.List.Open, k.Alert.Story, k.List.Filter, k.Global.Command, k.List.Sort, k.List.Pause, k.Alert.Ack, k.Alert.Close, k.Alert.Copy, k.Global.Quit}
	}
	var b strings.Builder
	used := 0
	for _, h := range hints {
		if !h.Enabled() {
			continue
		}
		item := h.Help().Key + " " + h.Help().Desc
		sep := 0
		if used > 0 {
			sep = 3
		}
		if used+sep+ansi.StringWidth(item) > w {
			break
		}
		if used > 0 {
			b.WriteString(s.Footer.Render(" · "))
			used += 3
		}
		b.WriteString(s.Key.Render(h.Help().Key) + s.Footer.Render(" "+h.Help().Desc))
		used += ansi.StringWidth(item)
	}
	return b.String()
}
