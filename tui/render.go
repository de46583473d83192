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
	l := computeLayout(m.width, m.height, m.detail)
	if l.tooSmall {
		return fit(fmt.Sprintf("terminal too small (%d×%d, need %d×%d)", m.width, m.height, minWidth, minHeight), m.width)
	}
	var out []string
	out = append(out, m.renderHeader(l.header.w))
	var body []string
	switch {
	case m.overlay == overlayHelp:
		body = m.renderHelp(m.width, l.list.h+l.detail.h)
	case m.overlay == overlayLog:
		body = m.renderResponses(m.width, l.list.h+l.detail.h)
	case m.overlay == overlayException:
		body = m.renderExceptionEditor(m.width, m.height-4)
	case m.overlay == overlayExceptions || m.overlay == overlayConfirm && m.exl.open:
		body = m.renderExceptionList(m.width, m.height-4)
	case m.sv.open:
		body = m.renderStory(storyRect(m.width, m.height))
	case l.detail.w > 0 && l.detail.y == l.list.y:
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
	bodyH := m.height - 4
	body = clip(body, m.width, bodyH)
	if m.overlay == overlayConfirm {
		body = m.overlayDialog(body, m.width, bodyH)
	}
	out = append(out, body...)
	bottom := append(m.renderBar(l.bar.w), m.renderFooter(l.footer.w))
	// A flash wider than the screen (a bundle's path and hash, a refusal
	// with its reason) takes the status bar's rows until the next key
	// rather than losing its end.
	if fl := m.flashRows(l.footer.w, len(bottom)); len(fl) > 1 {
		bottom = append(bottom[:len(bottom)-len(fl)], fl...)
	}
	out = append(out, bottom...)
	return strings.Join(out, "\n")
}

func (m Model) renderHeader(w int) string {
	s := m.styles
	title := s.Title.Render("xferhunt")
	c := &m.st
	counts := fmt.Sprintf(" open %d · ack %d · closed %d", c.Count(triage.StatusOpen), c.Count(triage.StatusAcknowledged), c.Count(triage.StatusClosed))
	shown := fmt.Sprintf(" │ %d/%d shown · sort %s", m.st.Shown(), m.st.Len(), m.sortMode)
	if m.filter != "" {
		shown += " · filter " + visible.String(m.filter)
	}
	if m.pending {
		shown += " · working…"
	}
	rest := ansi.Truncate(counts+shown, max(0, w-ansi.StringWidth("xferhunt")), "…")
	return title + s.Header.Render(rest)
}

// overlayDialog draws the confirmation box centred over body.
func (m Model) overlayDialog(body []string, w, h int) []string {
	inner := min(60, w-4)
	if inner < 10 {
		return body
	}
	text := ansi.Wrap(m.ask.body, inner, " ")
	answers := m.styles.Key.Render("y") + " yes   "
	if len(m.ask.choices) > 0 {
		answers = ""
		for _, c := range m.ask.choices {
			answers += m.styles.Key.Render(c.key.Help().Key) + " " + c.key.Help().Desc + "   "
		}
	}
	content := m.styles.Title.Render(fit(m.ask.title, inner)) + "\n" + text + "\n\n" +
		ansi.Wrap(answers+m.styles.Key.Render("n/esc")+" no", inner, " ")
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

// flashRows is the flash wrapped to w cells in at most rows rows (the last
// cut with "…" if it still does not fit); nil when no flash shows.
func (m Model) flashRows(w, rows int) []string {
	if m.flash == "" || m.overlay == overlayFilter || m.overlay == overlaySearch || w <= 0 {
		return nil
	}
	text := visible.String(m.flash)
	if ansi.StringWidth(text) <= w {
		return nil
	}
	lines := strings.Split(ansi.Hardwrap(text, w, true), "\n")
	if len(lines) > rows {
		rest := strings.Join(lines[rows-1:], " ")
		lines = append(lines[:rows-1], ansi.Truncate(rest, w, "…"))
	}
	st := m.styles.Flash
	if m.flashErr {
		st = m.styles.FlashErr
	}
	for i, l := range lines {
		lines[i] = st.Render(l)
	}
	return lines
}
