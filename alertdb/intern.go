package alertdb

import (
	"strings"
	"sync"

	"github.com/xferhunt/xferhunt/internal/liveness"
)

// Column strings repeat across alerts (a handful of process names, users,
// source addresses; one host id and boot per host), yet each decoded
// alert brings its own copy, kept for as long as its row: ~100 bytes an
// alert. Rows share one copy instead. The table is bounded: once full,
// new values are kept as they came, so a flood of distinct values costs
// what it cost before and never more.
var interned = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

const (
	maxInterned    = 1 << 14
	maxInternedLen = 256
)

// intern returns the shared copy of s.
func intern(s string) string {
	if s == "" || len(s) > maxInternedLen {
		return s
	}
	interned.Lock()
	defer interned.Unlock()
	if t, ok := interned.m[s]; ok {
		return t
	}
	if len(interned.m) < maxInterned {
		// A clone: s may be a substring of a large decoded buffer.
		t := strings.Clone(s)
		interned.m[t] = t
		return t
	}
	return s
}

// internStamp shares the strings of an origin stamp.
func internStamp(s liveness.Stamp) liveness.Stamp {
	return liveness.Stamp{Origin: liveness.Origin(intern(string(s.Origin))), HostID: intern(s.HostID), Boot: intern(s.Boot)}
}
