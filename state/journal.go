package state

import (
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
)

// Journal names a durable queue of records the state keeps across runs,
// oldest first, each bounded by a retention count: what a restarted run
// shows again (the alerts and the events of their stories).
type Journal string

// The journals a live run writes.
const (
	// JournalAlerts holds alert documents (JSON), as they were shown.
	JournalAlerts Journal = "alerts"
	// JournalEvents holds story events (the story package's encoding).
	JournalEvents Journal = "events"
	// JournalResponses is the response log: every action taken on the
	// host from xferhunt (kill, evidence, quarantine), refused ones too,
	// as JSON (package respond).
	JournalResponses Journal = "responses"
)

// journalPos is where a journal's records start and where the next goes,
// and how many bytes its records hold. Keys are the record numbers in
// fixed-width hex, so byte order is arrival order and the oldest are found
// without a scan.
type journalPos struct {
	loaded      bool
	first, next uint64
	bytes       uint64
}

// Retention bounds a journal: the oldest records go once it holds more
// than Records records or more than Bytes bytes of them (0: no bound of
// that kind). A bound by count alone lets a writer of big records fill the
// disk: 200,000 story events of 8 KiB of arguments each are 1.6 GB.
// The newest record stays whatever its size.
type Retention struct {
	Records int
	Bytes   int64
}

// over says whether a journal at p exceeds r (its bytes only while it
// holds more than one record).
func (r Retention) over(p journalPos) bool {
	n := p.next - p.first
	return (r.Records > 0 && n > uint64(r.Records)) || (r.Bytes > 0 && n > 1 && p.bytes > uint64(r.Bytes))
}

type journals struct {
	mu  sync.Mutex
	pos map[Journal]*journalPos
}

func journalKey(n uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = digits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

// position reads a journal's first and next record numbers once.
func (s *Store) position(tx txn, j Journal) (*journalPos, error) {
	if s.jr.pos == nil {
		s.jr.pos = map[Journal]*journalPos{}
	}
	p := s.jr.pos[j]
	if p == nil {
		p = &journalPos{}
		s.jr.pos[j] = p
	}
	if p.loaded {
		return p, nil
	}
	first := true
	p.bytes = 0
	err := tx.each([2]string{string(j)}, func(k string, v []byte) error {
		n, err := strconv.ParseUint(k, 16, 64)
		if err != nil || len(k) != 16 {
			return fmt.Errorf("journal %s: bad key %q", j, k)
		}
		// Append numbers records consecutively and deletes from the
		// front, so a gap (or a number the next would wrap past) was
		// made: its length would be wrong, and Append's retention
		// would delete the missing records one by one, for hours.
		switch {
		case !first && n != p.next:
			return s.damaged(fmt.Errorf("journal %s: record %q follows record %x", j, k, p.next-1))
		case n == 1<<64-1:
			return s.damaged(fmt.Errorf("journal %s: record %q leaves no number for the next", j, k))
		}
		if first {
			p.first, first = n, false
		}
		p.next = n + 1
		p.bytes += uint64(len(v))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if first {
		p.first, p.next = 0, 0
	}
	p.loaded = true
	return p, nil
}

// Append adds records to a journal in one transaction and deletes the
// oldest beyond keep (a zero Retention keeps everything). It returns how
// many old records were deleted.
func (s *Store) Append(j Journal, recs [][]byte, keep Retention) (deleted int, err error) {
	if len(recs) == 0 {
		return 0, nil
	}
	s.jr.mu.Lock()
	defer s.jr.mu.Unlock()
	var newPos journalPos
	err = s.kv.update(func(tx txn) error {
		p, err := s.position(tx, j)
		if err != nil {
			return err
		}
		np := *p
		for _, r := range recs {
			if err := tx.put([2]string{string(j)}, journalKey(np.next), r); err != nil {
				return err
			}
			np.next++
			np.bytes += uint64(len(r))
		}
		for keep.over(np) {
			k := journalKey(np.first)
			np.bytes -= min(np.bytes, uint64(tx.size([2]string{string(j)}, k)))
			if err := tx.del([2]string{string(j)}, k); err != nil {
				return err
			}
			np.first++
			deleted++
		}
		newPos = np
		return nil
	})
	if err != nil {
		// The transaction rolled back: the old position stays true.
		return 0, fmt.Errorf("journal %s: %w", j, err)
	}
	*s.jr.pos[j] = newPos
	return deleted, nil
}

// Records visits a journal's records, oldest first; data is only valid
// during fn. An error from fn stops the visit and is returned.
func (s *Store) Records(j Journal, fn func(data []byte) error) error {
	err := s.kv.view(func(tx txn) error {
		return tx.each([2]string{string(j)}, func(_ string, v []byte) error { return fn(v) })
	})
	if err != nil {
		return fmt.Errorf("read journal %s: %w", j, err)
	}
	return nil
}

// JournalLen is how many records a journal holds.
func (s *Store) JournalLen(j Journal) (int, error) {
	s.jr.mu.Lock()
	defer s.jr.mu.Unlock()
	var n int
	err := s.kv.view(func(tx txn) error {
		p, err := s.position(tx, j)
		if err != nil {
			return err
		}
		n = int(p.next - p.first)
		return nil
	})
	return n, err
}

// damaged reports damage found in the store's records by a later call.
func (s *Store) damaged(reason error) error {
	return &DamagedError{Path: filepath.Join(s.dir, DBFile), Reason: reason}
}
