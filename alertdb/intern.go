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
	m      map[string]string
	stamps map[liveness.Stamp]*liveness.Stamp
}{m: map[string]string{}, stamps: map[liveness.Stamp]*liveness.Stamp{}}

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

// internStamp returns the shared copy of an origin stamp: a row holds a
// pointer (8 bytes, not 48), and the stamps of one host and boot are one.
// Once the table is full a stamp is a copy of its own, its strings still
// shared while their table has room.
func internStamp(s liveness.Stamp) *liveness.Stamp {
	interned.Lock()
	p, ok := interned.stamps[s]
	interned.Unlock()
	if ok {
		return p
	}
	p = &liveness.Stamp{Origin: liveness.Origin(intern(string(s.Origin))), HostID: intern(s.HostID), Boot: intern(s.Boot)}
	interned.Lock()
	defer interned.Unlock()
	if q, ok := interned.stamps[*p]; ok {
		return q
	}
	if len(interned.stamps) < maxInterned {
		interned.stamps[*p] = p
	}
	return p
}
