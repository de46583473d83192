// Package visible is the one escape for every byte xferhunt prints outside
// JSON: host-supplied strings (paths, arguments, user, rule and field
// names) reach the TUI, error messages and `xferhunt rules` only through
// it, so none can drive the terminal or hide what it is.
package visible

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String makes a host-supplied string safe to print: control characters,
// escape sequences, invalid UTF-8 and invisible formatting characters become
// visible escapes (ESC → \x1b, newline → \n, bad byte → \xNN, U+202E → \u202e)
// so a file name can neither drive the terminal nor hide what it is.
// Backslash is doubled so an escape we add cannot be confused with one that
// was literally in the name.
func String(s string) string { return sanitize(s, true) }

// Escaped is String for text whose backslashes are already escapes (JSON):
// they are kept as they are.
func Escaped(s string) string { return sanitize(s, false) }

func sanitize(s string, doubleBackslash bool) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			fmt.Fprintf(&b, `\x%02x`, s[i])
			i++
			continue
		}
		i += n
		switch {
		case r == '\\' && doubleBackslash:
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, `\u%04x`, r)
		case unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII without backslashes, the
// overwhelmingly common case, so String can return it without allocating.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// Lines returns a writer that passes everything written to it through
// String, keeping only newlines and tabs as they are: for text that is
// meant to be read line by line on a terminal (stderr, `xferhunt rules`),
// whatever part of it came from the host. Each Write is escaped on its own,
// so a rune split across two writes shows as \xNN bytes.
func Lines(w io.Writer) io.Writer { return lineWriter{w} }

type lineWriter struct{ w io.Writer }

// Write escapes p and writes it; it reports len(p) on success, since the
// caller's bytes were all consumed even though more were written.
func (l lineWriter) Write(p []byte) (int, error) {
	s := string(p)
	if isPlainText(s) {
		_, err := l.w.Write(p)
		return len(p), err
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for {
		i := strings.IndexAny(s, "\n\t")
		if i < 0 {
			b.WriteString(String(s))
			break
		}
		b.WriteString(String(s[:i]))
		b.WriteByte(s[i])
		s = s[i+1:]
	}
	if _, err := io.WriteString(l.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// isPlainText is isPlain allowing newlines and tabs.
func isPlainText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}
