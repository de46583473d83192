package story

import (
	"slices"
	"sync"
)

// DefaultBudget is the store's memory budget when none is given: at
// ~350 bytes an event, the last ~190k events — hours of a busy login host.
const DefaultBudget = 64 << 20

// Store holds events in arrival order within a byte budget: when a new
// event would pass it, the oldest events are evicted (and counted). It is
// safe for concurrent use: sources add, the TUI and the CLI read.
type Store struct {
	mu     sync.RWMutex
	budget int64
	used   int64
	// chunks hold the events in arrival order, n of them from
	// chunks[0][head]: the event of sequence number base+i is the
	// (head+i)-th slot (see at). Storage grows and shrinks a chunk at a
	// time, so it never holds more than two chunks beyond its events, and
	// neither growing nor evicting copies an event: a ring that doubled
	// held up to twice its events and, while copying, both rings (at
	// 20,000 events 11 MB and a 5.5 MB copy, of a 26 MB live heap).
	chunks  [][]Event
	spare   []Event // the last chunk emptied, reused by the next grow
	head, n int
	base    uint64
	evicted uint64

	bySession map[sesKey][]uint64
	// starts lists, per session id, the logins (SesStart) that used it;
	// current is the newest login event seen per id, for events that do
	// not carry their login's start.
	starts  map[int64][]int64
	current map[int64]int64
	byAddr  map[string][]uint64
	byUser  map[string][]uint64
	byFile  map[string][]uint64
	byKey   map[string]uint64 // source event key → first event's seq
	strs    map[string]string // interned repeated strings (users, programs)
}

// NewStore returns an empty store bounded by budget bytes (DefaultBudget
// when budget <= 0).
func NewStore(budget int64) *Store {
	if budget <= 0 {
		budget = DefaultBudget
	}
	return &Store{
		budget: budget, base: 1,
		bySession: map[sesKey][]uint64{}, starts: map[int64][]int64{}, current: map[int64]int64{}, byAddr: map[string][]uint64{},
		byUser: map[string][]uint64{}, byFile: map[string][]uint64{},
		byKey: map[string]uint64{}, strs: map[string]string{},
	}
}

// Stats says what the store holds and what it let go.
type Stats struct {
	Events  int    // held now
	Bytes   int64  // their estimated size
	Budget  int64  // the bound on Bytes
	Evicted uint64 // oldest events dropped to stay in the budget
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Stats{Events: s.n, Bytes: s.used, Budget: s.budget, Evicted: s.evicted}
}

// Add stores an event and returns its sequence number.
func (s *Store) Add(e Event) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.Process, e.Exe, e.User, e.Login = s.intern(e.Process), s.intern(e.Exe), s.intern(e.User), s.intern(e.Login)
	e.Host, e.Addr, e.Action, e.Via, e.Cwd = s.intern(e.Host), s.intern(e.Addr), s.intern(e.Action), s.intern(e.Via), s.intern(e.Cwd)
	if e.Session != NoSession && e.SesStart == 0 {
		// A source that does not say when the login began: its login
		// event does.
		if e.Kind == LogOn {
			if len(s.current) >= 1<<16 {
				clear(s.current) // bounded: a hostile log names endless ids
			}
			s.current[e.Session] = e.Time
		}
		e.SesStart = s.current[e.Session]
	}
	size := e.size()
	for s.used+size > s.budget && s.n > 0 {
		s.evictOldest()
	}
	if s.head+s.n == len(s.chunks)*chunkEvents {
		s.grow()
	}
	e.Seq = s.base + uint64(s.n)
	slot := s.at(s.n)
	*slot = e
	s.n++
	s.used += size
	s.index(slot)
	return e.Seq
}

// chunkEvents is how many events one chunk of storage holds (~90 KB).
const chunkEvents = 256

// grow adds a chunk at the end.
func (s *Store) grow() {
	c := s.spare
	if c == nil {
		c = make([]Event, chunkEvents)
	}
	s.spare = nil
	s.chunks = append(s.chunks, c)
}

// at is the i-th held event in arrival order.
func (s *Store) at(i int) *Event {
	j := s.head + i
	return &s.chunks[j/chunkEvents][j%chunkEvents]
}

// intern shares one copy of a string that repeats across events. The table
// is cleared when it grows large, so it stays bounded.
func (s *Store) intern(v string) string {
	if v == "" || len(v) > 256 {
		return v
	}
	if w, ok := s.strs[v]; ok {
		return w
	}
	if len(s.strs) >= 1<<16 {
		clear(s.strs)
	}
	s.strs[v] = v
	return v
}

// sesKey names one login: a session id and when that login began.
type sesKey struct{ ses, start int64 }

func (s *Store) index(e *Event) {
	if e.Session != NoSession {
		k := sesKey{e.Session, e.SesStart}
		if _, ok := s.bySession[k]; !ok {
			s.starts[e.Session] = append(s.starts[e.Session], e.SesStart)
		}
		s.bySession[k] = append(s.bySession[k], e.Seq)
	}
	if e.Addr != "" {
		s.byAddr[e.Addr] = append(s.byAddr[e.Addr], e.Seq)
	}
	for _, u := range e.users() {
		s.byUser[u] = append(s.byUser[u], e.Seq)
	}
	for _, f := range e.Files() {
		s.byFile[f] = append(s.byFile[f], e.Seq)
	}
	if e.Key != "" {
		if _, ok := s.byKey[e.Key]; !ok {
			s.byKey[e.Key] = e.Seq
		}
	}
}

// users are the names an event is indexed under: the acting user and the
// login's user (a sudo inside a login is still that login's story).
func (e *Event) users() []string {
	switch {
	case e.User == "" && e.Login == "":
		return nil
	case e.User == e.Login || e.Login == "":
		return []string{e.User}
	case e.User == "":
		return []string{e.Login}
	}
	return []string{e.User, e.Login}
}

// evictOldest drops the oldest event. Index lists are in arrival order,
// so the evicted event is at the front of each list it is in.
func (s *Store) evictOldest() {
	e := s.at(0)
	trim := func(m map[string][]uint64, k string) {
		if l := m[k]; len(l) > 0 && l[0] == e.Seq {
			if len(l) == 1 {
				delete(m, k)
			} else {
				m[k] = l[1:]
			}
		}
	}
	if k := (sesKey{e.Session, e.SesStart}); len(s.bySession[k]) > 0 && s.bySession[k][0] == e.Seq {
		if l := s.bySession[k]; len(l) == 1 {
			delete(s.bySession, k)
			st := s.starts[e.Session]
			for i, v := range st {
				if v == e.SesStart {
					st = append(st[:i:i], st[i+1:]...)
					break
				}
			}
			if len(st) == 0 {
				delete(s.starts, e.Session)
			} else {
				s.starts[e.Session] = st
			}
		} else {
			s.bySession[k] = l[1:]
		}
	}
	trim(s.byAddr, e.Addr)
	for _, u := range e.users() {
		trim(s.byUser, u)
	}
	for _, f := range e.Files() {
		trim(s.byFile, f)
	}
	if e.Key != "" && s.byKey[e.Key] == e.Seq {
		delete(s.byKey, e.Key)
	}
	s.used -= e.size()
	*e = Event{} // its strings may go
	s.head++
	if s.head == chunkEvents {
		// The first chunk is empty: keep it for the next grow, so a
		// full store evicting and adding at the same pace allocates
		// nothing.
		s.spare = s.chunks[0]
		s.chunks[0] = nil
		s.chunks = s.chunks[1:]
		s.head = 0
	}
	s.n--
	s.base++
	s.evicted++
}

// get returns the event of a sequence number, nil once evicted.
func (s *Store) get(seq uint64) *Event {
	if seq < s.base || seq >= s.base+uint64(s.n) {
		return nil
	}
	return s.at(int(seq - s.base))
}

// MarkAlert records that an alert was raised on the event of a source key,
// so stories can mark it. It reports whether the event is held.
func (s *Store) MarkAlert(key, alertID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	seq, ok := s.byKey[key]
	if !ok {
		return false
	}
	for q := seq; ; q++ {
		e := s.get(q)
		if e == nil || e.Key != key {
			break
		}
		if e.Alert == "" {
			e.Alert = alertID
			s.used += int64(len(alertID))
		}
	}
	return true
}

// collect copies the events of the given sequence lists, each once, in
// time order (arrival order among equal times).
func (s *Store) collect(lists ...[]uint64) []Event {
	var seqs []uint64
	for _, l := range lists {
		seqs = append(seqs, l...)
	}
	slices.Sort(seqs)
	seqs = slices.Compact(seqs)
	out := make([]Event, 0, len(seqs))
	for _, q := range seqs {
		if e := s.get(q); e != nil {
			out = append(out, *e)
		}
	}
	sortByTime(out)
	return out
}

func sortByTime(evs []Event) {
	slices.SortStableFunc(evs, func(a, b Event) int {
		switch {
		case a.Time < b.Time:
			return -1
		case a.Time > b.Time:
			return 1
		}
		return 0
	})
}

// All returns every held event in time order.
func (s *Store) All() []Event {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Event, s.n)
	for i := range out {
		out[i] = *s.at(i)
	}
	sortByTime(out)
	return out
}
