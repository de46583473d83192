package story

import (
	"fmt"
	"slices"
	"strconv"
)

// ScopeKind is what a story is about.
type ScopeKind uint8

// The scopes a story can take, in the order the TUI cycles them.
const (
	BySession ScopeKind = iota // one audit login session
	ByAddr                     // every login from one source address
	ByUser                     // one user, as actor or login
	ByProcess                  // a process and its descendants
	ByFile                     // a file, through its renames and execs
)

var scopeNames = [...]string{"session", "address", "user", "process tree", "file"}

// String names the scope as the story header and --help say it.
func (k ScopeKind) String() string {
	if int(k) < len(scopeNames) {
		return scopeNames[k]
	}
	return "?"
}

// Scope selects a story. Only the field of its Kind is read (Host too,
// when set, restricts every kind to one host).
type Scope struct {
	Kind    ScopeKind
	Host    string
	Session int64
	// SesStart picks one login of Session (Event.SesStart); 0 picks the
	// newest login that used the id.
	SesStart int64
	Addr     string
	User     string
	PID      int
	File     string
}

// String is a one-line label: "session 44", "address 10.0.0.5", ….
func (sc Scope) String() string {
	switch sc.Kind {
	case BySession:
		return "session " + strconv.FormatInt(sc.Session, 10)
	case ByAddr:
		return "address " + sc.Addr
	case ByUser:
		return "user " + sc.User
	case ByProcess:
		return "process tree of pid " + strconv.Itoa(sc.PID)
	case ByFile:
		return "file " + sc.File
	}
	return fmt.Sprintf("scope %d", sc.Kind)
}

// maxFileNames bounds how many names a file story follows through
// renames: a hostile loop of renames must not make a query unbounded.
const maxFileNames = 256

// Story returns the events of a scope in time order; nil when none is held.
func (s *Store) Story(sc Scope) []Event {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var evs []Event
	switch sc.Kind {
	case BySession:
		start := sc.SesStart
		if _, ok := s.bySession[sesKey{sc.Session, start}]; !ok || start == 0 {
			if st := s.starts[sc.Session]; len(st) > 0 && start == 0 {
				start = slices.Max(st)
			}
		}
		evs = s.collect(s.bySession[sesKey{sc.Session, start}])
	case ByAddr:
		evs = s.collect(s.byAddr[sc.Addr])
	case ByUser:
		evs = s.collect(s.byUser[sc.User])
	case ByProcess:
		evs = s.tree(sc.PID, sc.Host)
	case ByFile:
		evs = s.file(sc.File)
	}
	if sc.Host != "" {
		kept := evs[:0]
		for _, e := range evs {
			if e.Host == sc.Host || e.Host == "" {
				kept = append(kept, e)
			}
		}
		evs = kept
	}
	if len(evs) == 0 {
		return nil
	}
	return evs
}

// file follows a name through renames in both directions: the story of
// an upload written as tool.part and renamed to tool.sh holds both names,
// the chmod and the exec of either.
func (s *Store) file(name string) []Event {
	names := []string{name}
	seen := map[string]bool{name: true}
	var lists [][]uint64
	for i := 0; i < len(names) && i < maxFileNames; i++ {
		l := s.byFile[names[i]]
		lists = append(lists, l)
		for _, q := range l {
			e := s.get(q)
			if e == nil || e.Kind != Rename {
				continue
			}
			for _, n := range []string{e.Path, e.OldPath} {
				if n != "" && !seen[n] {
					seen[n] = true
					names = append(names, n)
				}
			}
		}
	}
	return s.collect(lists...)
}

// tree is the process and every descendant the events name: a process
// joins when its parent is in the tree. One pass in arrival order. A pid
// is the tree's only while it keeps the parent it had when it joined: the
// same pid under another parent is a later process that reused it.
func (s *Store) tree(root int, host string) []Event {
	parent := map[int]int{root: -1} // -1: the root's own parent, learned from its first event
	var out []Event
	for i := 0; i < s.n; i++ {
		e := s.at(i)
		if host != "" && e.Host != host {
			continue
		}
		p, in := parent[e.PID]
		switch {
		case in && p == -1 && e.PPID != 0:
			parent[e.PID] = e.PPID
		case in && e.PPID != 0 && p != e.PPID:
			if _, ok := parent[e.PPID]; !ok {
				delete(parent, e.PID) // reused by a process outside the tree
				in = false
			} else {
				parent[e.PID] = e.PPID
			}
		case !in && e.PPID != 0:
			if _, ok := parent[e.PPID]; ok {
				parent[e.PID], in = e.PPID, true
			}
		}
		if in {
			out = append(out, *e)
		}
	}
	sortByTime(out)
	return out
}

// ScopeOf returns the scope of a kind around an event: its session,
// address, user, process or file. ok is false when the event has nothing
// for that kind (no session, no address…).
func ScopeOf(kind ScopeKind, e *Event) (Scope, bool) {
	sc := Scope{Kind: kind, Host: e.Host}
	switch kind {
	case BySession:
		sc.Session, sc.SesStart = e.Session, e.SesStart
		return sc, e.Session != NoSession
	case ByAddr:
		sc.Addr = e.Addr
		return sc, e.Addr != ""
	case ByUser:
		sc.User = e.Login
		if sc.User == "" {
			sc.User = e.User
		}
		return sc, sc.User != ""
	case ByProcess:
		sc.PID = e.PID
		return sc, e.PID > 0
	case ByFile:
		sc.File = e.Path
		return sc, e.Path != ""
	}
	return sc, false
}

// Logins returns the starts (Unix ms) of the logins that used a session
// id, oldest first: more than one means the id was reused.
func (s *Store) Logins(ses int64) []int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := slices.Clone(s.starts[ses])
	slices.Sort(st)
	return st
}
