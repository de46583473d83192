package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/xferhunt/xferhunt/internal/visible"
	"github.com/xferhunt/xferhunt/triage"
)

// fit cuts s to exactly w cells, padding with spaces, measuring with
// ansi.StringWidth so wide runes never overflow.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	if pad := w - ansi.StringWidth(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

// fitLeft is fit that keeps the end of s, for paths whose tail matters.
func fitLeft(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if sw := ansi.StringWidth(s); sw > w {
		s = ansi.TruncateLeft(s, sw-w+1, "…")
	}
	return fit(s, w)
}

// clip makes block exactly h lines of at most w cells.
func clip(lines []string, w, h int) []string {
	out := make([]string, h)
	for i := range h {
		if i < len(lines) {
			l := lines[i]
			if ansi.StringWidth(l) > w {
				l = ansi.Truncate(l, w, "")
			}
			out[i] = l
		}
	}
	return out
}

func (m Model) render() string {
	l := m.layout()
	if l.mode == modeTooSmall {
		return fit(fmt.Sprintf("terminal too small (%d×%d, need %d×%d)", m.width, m.height, minWidth, minHeight), m.width)
	}
	var out []string
	out = append(out, m.renderHeader(l.header.w))
	var body []string
	switch l.mode {
	case modeHelp:
		body = m.renderHelp(l.body.w, l.body.h)
	case modeLog:
		body = m.renderResponses(l.body.w, l.body.h)
	case modeExcEdit:
		body = m.renderExceptionEditor(l.body.w, l.body.h)
	case modeExcList:
		body = m.renderExceptionList(l.body.w, l.body.h)
	case modeStory:
		body = m.renderStory(storyRect(m.width, m.height))
	case modeSide:
		left := clip(m.renderList(l.list), l.list.w, l.list.h)
		right := clip(m.renderDetail(l.detail), l.detail.w, l.detail.h)
		sep := m.styles.Muted.Render("│")
		for i := range left {
			body = append(body, fit(left[i], l.list.w)+sep+right[i])
		}
	default:
		body = clip(m.renderList(l.list), l.list.w, l.list.h)
		if l.detail.h > 0 {
			body = append(body, clip(m.renderDetail(l.detail), l.detail.w, l.detail.h)...)
		}
	}
	body = clip(body, l.body.w, l.body.h)
	if m.overlay == overlayConfirm {
		body = m.overlayDialog(body, l.body.w, l.body.h)
	}
	out = append(out, body...)
	bar := m.renderBar(l.bar.w)
	// A flash longer than the footer (a preserved file's sha256, a filter
	// error) takes the status bar's rows too, rather than being cut.
	if fl := m.flashLines(l.footer.w, l.bar.h+l.footer.h); len(fl) > 1 {
		out = append(out, bar[:len(bar)+1-len(fl)]...)
		return strings.Join(append(out, fl...), "\n")
	}
	out = append(out, bar...)
	out = append(out, m.renderFooter(l.footer.w))
	return strings.Join(out, "\n")
}

// flashLines is the flash message wrapped to w, at most h lines (the last
// cut with …); nil when there is no flash or a prompt owns the footer.
func (m Model) flashLines(w, h int) []string {
	if m.flash == "" || m.overlay == overlayFilter || m.overlay == overlaySearch || m.overlay == overlayCommand || m.overlay == overlayFind {
		return nil
	}
	st := m.styles.Flash
	if m.flashErr {
		st = m.styles.FlashErr
	}
	lines := strings.Split(ansi.Hardwrap(visible.String(m.flash), w, true), "\n")
	if len(lines) > h {
		lines = lines[:h]
		lines[h-1] = ansi.Truncate(lines[h-1]+"…", w-1, "") + "…"
	}
	for i, l := range lines {
		lines[i] = st.Render(fit(l, w))
	}
	return lines
}

func (m Model) renderHeader(w int) string {
	s := m.styles
	title := s.Title.Render("xferhunt")
	c := &m.st
	counts := fmt.Sprintf(" open %d · ack %d · closed %d", c.Count(triage.StatusOpen), c.Count(triage.StatusAcknowledged), c.Count(triage.StatusClosed))
	shown := fmt.Sprintf(" │ %d/%d shown · sort %s · %s", m.st.Shown(), m.st.Len(), m.sortMode, m.clock.zone)
	if m.filter != "" {
		shown += " · filter " + visible.String(m.filter)
	}
	if m.pending {
		shown += " · working…"
	}
	pause := ""
	if m.paused {
		// First, so a narrow header never cuts it away.
		pause = fmt.Sprintf(" ⏸ PAUSED +%d new (%s resumes) ", m.heldN, m.keys.List.Pause.Help().Key)
	}
	avail := max(0, w-ansi.StringWidth("xferhunt"))
	pause = ansi.Truncate(pause, avail, "…")
	rest := ansi.Truncate(counts+shown, max(0, avail-ansi.StringWidth(pause)), "…")
	return title + s.FlashErr.Render(pause) + s.Header.Render(rest)
}

// overlayDialog draws the confirmation box centred over body.
func (m Model) overlayDialog(body []string, w, h int) []string {
	inner := min(60, w-4)
	if inner < 10 {
		return body
	}
	text := ansi.Wrap(m.ask.body, inner, " ")
	answers := m.styles.Key.Render(m.keys.Prompt.Confirm.Help().Key) + " " + m.keys.Prompt.Confirm.Help().Desc + "   "
	if len(m.ask.choices) > 0 {
		answers = ""
		for _, c := range m.ask.choices {
			answers += m.styles.Key.Render(c.key.Help().Key) + " " + c.key.Help().Desc + "   "
		}
	}
	content := m.styles.Title.Render(fit(m.ask.title, inner)) + "\n" + text + "\n\n" +
		answers + m.styles.Key.Render(m.keys.Prompt.Deny.Help().Key) + " " + m.keys.Prompt.Deny.Help().Desc
	box := strings.Split(m.styles.Dialog.Width(inner+4).Render(content), "\n")
	top := max(0, (h-len(box))/2)
	left := max(0, (w-lipgloss.Width(box[0]))/2)
	out := slicesClone(body)
	for i, b := range box {
		if top+i >= len(out) {
			break
		}
		under := out[top+i]
		out[top+i] = ansi.Truncate(under, left, "") + strings.Repeat(" ", max(0, left-ansi.StringWidth(under))) + b
		if rest := ansi.StringWidth(out[top+i]); rest < w {
			out[top+i] += ansi.Cut(under, rest, w)
		}
	}
	return out
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// renderResponses is the response log view (R): newest first, one action
// a line, cut at the width (the whole entry is in `xferhunt responses`).
func (m Model) renderResponses(w, h int) []string {
	s := m.styles
	out := []string{s.Heading.Render("Response log") + s.Muted.Render("  newest first · R/esc close")}
	if len(m.responses) == 0 {
		out = append(out, s.Muted.Render("no action taken on this host yet"))
	}
	for _, l := range m.responses {
		out = append(out, ansi.Truncate(l, w, "…"))
	}
	return clip(out, w, h)
}
