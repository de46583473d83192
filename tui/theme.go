package tui

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// palette names colors by role; components only ever see Styles.
type palette struct {
	accent, muted, faint, text                color.Color
	low, medium, high, critical               color.Color
	ok, warn, bad, selBg, selFg, barBg, barFg color.Color
	matchBg, matchFg                          color.Color
}

func newPalette(dark bool) palette {
	ld := lipgloss.LightDark(dark)
	c := lipgloss.Color
	return palette{
		accent:   ld(c("#5A3FC0"), c("#9D8CFF")),
		muted:    ld(c("#6B6B6B"), c("#9A9A9A")),
		faint:    ld(c("#A0A0A0"), c("#5C5C5C")),
		text:     ld(c("#1A1A1A"), c("#E6E6E6")),
		low:      ld(c("#2E7D32"), c("#81C784")),
		medium:   ld(c("#B26A00"), c("#FFB74D")),
		high:     ld(c("#C62828"), c("#FF7043")),
		critical: ld(c("#8E0038"), c("#FF4081")),
		ok:       ld(c("#2E7D32"), c("#66BB6A")),
		warn:     ld(c("#B26A00"), c("#FFCA28")),
		bad:      ld(c("#C62828"), c("#EF5350")),
		selBg:    ld(c("#D6D0F5"), c("#3D3466")),
		selFg:    ld(c("#1A1A1A"), c("#FFFFFF")),
		barBg:    ld(c("#E8E8E8"), c("#262626")),
		barFg:    ld(c("#333333"), c("#C8C8C8")),
		matchBg:  ld(c("#FFE082"), c("#7A5C00")),
		matchFg:  ld(c("#1A1A1A"), c("#FFFFFF")),
	}
}

// Styles is every style the TUI draws with, built from one palette and
// rebuilt when the terminal reports its background.
type Styles struct {
	Title, Header, ColHeader      lipgloss.Style
	Selected, Historical, Closed  lipgloss.Style
	Sev                           [5]lipgloss.Style
	Label, Value, Muted, Focus    lipgloss.Style
	TabActive, TabInactive        lipgloss.Style
	Bar, OK, Warn, Bad            lipgloss.Style
	Footer, Flash, FlashErr, Key  lipgloss.Style
	Dialog, Heading, Code, Bullet lipgloss.Style
	// Story view: the marks of events alerts were raised on, the focused
	// alert's own event, and search matches (the current one apart).
	MarkThis, MarkOther, ThisRow lipgloss.Style
	Match, MatchCur              lipgloss.Style
}

// NewStyles builds styles for a dark or light background; noColor keeps
// only attributes (bold, reverse, faint) as NO_COLOR asks.
func NewStyles(dark, noColor bool) Styles {
	s := lipgloss.NewStyle
	if noColor {
		return Styles{
			Title: s().Bold(true), Header: s(), ColHeader: s().Bold(true),
			Selected: s().Reverse(true), Historical: s().Faint(true), Closed: s().Faint(true),
			Sev:   [5]lipgloss.Style{s(), s(), s(), s().Bold(true), s().Bold(true)},
			Label: s().Faint(true), Value: s(), Muted: s().Faint(true), Focus: s().Reverse(true),
			TabActive: s().Bold(true).Underline(true), TabInactive: s(),
			Bar: s(), OK: s(), Warn: s().Bold(true), Bad: s().Bold(true),
			Footer: s(), Flash: s().Bold(true), FlashErr: s().Bold(true), Key: s().Bold(true),
			Dialog:  s().Border(lipgloss.NormalBorder()).Padding(0, 1),
			Heading: s().Bold(true).Underline(true), Code: s(), Bullet: s(),
			MarkThis: s().Bold(true), MarkOther: s(), ThisRow: s().Bold(true),
			Match: s().Underline(true), MatchCur: s().Reverse(true),
		}
	}
	p := newPalette(dark)
	return Styles{
		Title:       s().Bold(true).Foreground(p.accent),
		Header:      s().Foreground(p.muted),
		ColHeader:   s().Bold(true).Foreground(p.muted),
		Selected:    s().Background(p.selBg).Foreground(p.selFg),
		Historical:  s().Foreground(p.faint),
		Closed:      s().Foreground(p.faint).Strikethrough(true),
		Sev:         [5]lipgloss.Style{s().Foreground(p.muted), s().Foreground(p.low), s().Foreground(p.medium), s().Foreground(p.high).Bold(true), s().Foreground(p.critical).Bold(true)},
		Label:       s().Foreground(p.muted),
		Value:       s().Foreground(p.text),
		Muted:       s().Foreground(p.muted),
		Focus:       s().Background(p.selBg).Foreground(p.selFg),
		TabActive:   s().Bold(true).Foreground(p.accent).Underline(true),
		TabInactive: s().Foreground(p.muted),
		Bar:         s().Background(p.barBg).Foreground(p.barFg),
		OK:          s().Background(p.barBg).Foreground(p.ok),
		Warn:        s().Background(p.barBg).Foreground(p.warn),
		Bad:         s().Background(p.barBg).Foreground(p.bad).Bold(true),
		Footer:      s().Foreground(p.muted),
		Flash:       s().Foreground(p.ok),
		FlashErr:    s().Foreground(p.bad).Bold(true),
		Key:         s().Foreground(p.accent).Bold(true),
		Dialog:      s().Border(lipgloss.RoundedBorder()).BorderForeground(p.accent).Padding(0, 1),
		Heading:     s().Bold(true).Foreground(p.accent),
		Code:        s().Foreground(p.medium),
		Bullet:      s().Foreground(p.accent),
		MarkThis:    s().Foreground(p.high).Bold(true),
		MarkOther:   s().Foreground(p.warn),
		ThisRow:     s().Foreground(p.text).Bold(true),
		Match:       s().Background(p.matchBg).Foreground(p.matchFg),
		MatchCur:    s().Background(p.accent).Foreground(p.selFg).Bold(true),
	}
}
