package kql

import "strings"

// glob is a KQL wildcard compiled to its literal segments: segs[0] must be
// a prefix, the last a suffix, and the ones between must occur in order.
// Every marker matches any run of bytes, including none, '/' and newlines;
// nothing else is special ('?' is literal). No regular expression is built
// from user text.
//
// With '*' as the only metacharacter, taking the leftmost occurrence of each
// middle segment is always right (a later occurrence leaves less room for
// the rest, never more), so matching needs no backtracking: it is one pass
// of strings.Index per segment, O(len(s) * len(segment)) at worst.
type glob struct {
	segs []string // at least two
	min  int      // total length of the literal segments
}

func newGlob(segs []string) glob {
	g := glob{segs: segs}
	for _, s := range segs {
		g.min += len(s)
	}
	return g
}

func (g *glob) match(s string) bool {
	if len(s) < g.min {
		return false
	}
	first, last := g.segs[0], g.segs[len(g.segs)-1]
	if !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, seg := range g.segs[1 : len(g.segs)-1] {
		if seg == "" {
			continue
		}
		i := strings.Index(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
	}
	return true
}

// matchBytes is match for a path being built in a buffer.
func (g *glob) matchBytes(b []byte) bool {
	return g.match(unsafeString(b))
}
