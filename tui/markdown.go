package tui

import (
	"strings"

	"github.com/xferhunt/xferhunt/internal/visible"
)

// markdownLines renders the small subset of markdown investigation guides
// use (headings, bullet and numbered lists, fenced code, inline code marks
// dropped) into detail lines. A full renderer (glamour) would pull in a
// large dependency for text that is a page long.
func markdownLines(md string) []dline {
	if strings.TrimSpace(md) == "" {
		return []dline{{text: "(this rule has no investigation guide)", style: lineMuted}}
	}
	var out []dline
	inCode := false
	for _, raw := range strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n") {
		line := strings.TrimRight(raw, " \t")
		trim := strings.TrimSpace(line)
		if strings.HasPrefix(trim, "```") || strings.HasPrefix(trim, "~~~") {
			inCode = !inCode
			continue
		}
		if inCode {
			out = append(out, dline{text: "  " + visible.String(line), style: lineCode})
			continue
		}
		switch {
		case trim == "":
			if len(out) > 0 && out[len(out)-1].text != "" {
				out = append(out, blank())
			}
		case strings.HasPrefix(trim, "#"):
			h := strings.TrimSpace(strings.TrimLeft(trim, "#"))
			out = append(out, dline{text: visible.String(inline(h)), style: lineHeading})
		case strings.HasPrefix(trim, "- ") || strings.HasPrefix(trim, "* ") || strings.HasPrefix(trim, "+ "):
			indent := strings.Repeat("  ", (len(line)-len(strings.TrimLeft(line, " ")))/2)
			out = append(out, dline{text: indent + "• " + visible.String(inline(trim[2:]))})
		case strings.HasPrefix(trim, ">"):
			q := strings.TrimSpace(strings.TrimLeft(trim, ">"))
			out = append(out, dline{text: "│ " + visible.String(inline(q)), style: lineMuted})
		case isNumbered(trim):
			out = append(out, dline{text: visible.String(inline(trim))})
		default:
			out = append(out, dline{text: visible.String(inline(trim))})
		}
	}
	return out
}

func isNumbered(s string) bool {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > 0 && i+1 < len(s) && s[i] == '.' && s[i+1] == ' '
}

// inline strips emphasis and code markers, keeping link text and target.
func inline(s string) string {
	r := strings.NewReplacer("**", "", "__", "", "`", "")
	s = r.Replace(s)
	// [text](url) → text (url)
	for {
		i := strings.Index(s, "](")
		if i < 0 {
			break
		}
		j := strings.LastIndex(s[:i], "[")
		k := strings.Index(s[i:], ")")
		if j < 0 || k < 0 {
			break
		}
		s = s[:j] + s[j+1:i] + " (" + s[i+2:i+k] + ")" + s[i+k+1:]
	}
	return s
}
