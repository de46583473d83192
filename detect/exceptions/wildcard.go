package exceptions

import (
	"strings"
	"unicode/utf8"
)

// WildcardMatch reports whether s matches an Elasticsearch wildcard pattern
// as a wildcard query on a keyword field does: `*` matches any run of
// characters (empty included), `?` exactly one character, `\` makes the next
// character literal (a trailing `\` is itself literal), everything else is
// literal and case-sensitive, and the pattern is anchored at both ends.
// Characters are Unicode code points, as in Lucene's wildcard automaton.
//
// It never allocates: star positions are backtracked greedily, which is
// linear for patterns with one star and quadratic at worst.
func WildcardMatch(pattern, s string) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pattern) {
			switch pattern[p] {
			case '*':
				p++
				starP, starI = p, i
				continue
			case '?':
				_, w := utf8.DecodeRuneInString(s[i:])
				i += w
				p++
				continue
			default:
				lit, width := literalAt(pattern, p)
				if strings.HasPrefix(s[i:], lit) {
					i += len(lit)
					p += width
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last star swallow one more character and retry.
		_, w := utf8.DecodeRuneInString(s[starI:])
		starI += w
		p, i = starP, starI
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// literalAt returns the literal character the pattern holds at p and how
// many pattern bytes spell it (escapes take one more).
func literalAt(pattern string, p int) (lit string, width int) {
	if pattern[p] == '\\' {
		if p+1 == len(pattern) {
			return `\`, 1
		}
		_, w := utf8.DecodeRuneInString(pattern[p+1:])
		return pattern[p+1 : p+1+w], 1 + w
	}
	_, w := utf8.DecodeRuneInString(pattern[p:])
	return pattern[p : p+w], w
}
