package detect

import "encoding/binary"

// offStore holds the order-free scan's clusters (offline.go) without a Go
// pointer among them: a scan of a million distinct tuples holds a million
// clusters until Drain, and as a million objects each with a pointer and
// an event-key string (~100 B a tuple, two objects) they were most of the
// live heap every collection had to mark. Here a cluster is 40 bytes in a
// chunk of clusters (the chunks hold no pointer, so the collector never
// looks inside), found through an open-addressing table of 4-byte indices
// by the tuple's hash, with its event key in a byte arena: ~70 B a tuple
// (TestOfflineMemoryPerTuple).
type offStore struct {
	chunks [][]offCluster
	n      uint32   // clusters handed out, freed or not (index 0 is never used)
	free   []uint32 // freed clusters, reused first
	// table maps a tuple's hash to its latest cluster (index; 0 empty),
	// linear probing, at most ¾ full.
	table       []uint32
	tuples      int
	keys        keyArena
	compactions int // of keys (tests)
}

// offCluster is a run of a tuple's sightings whose consecutive times are
// at most the window apart; the tuple's clusters are more than the window
// apart from each other.
type offCluster struct {
	hash        uint64 // the tuple's (Tracker.Hash)
	first, last int64  // Unix ms
	key         keyRef // the earliest event's key: the tie-break between equal times
	prev        uint32 // the tuple's cluster before this one (0: none)
	doc         uint32 // offTerms.docs index + 1 of the earliest event's document (0: none)
}

const offChunk = 4096

// at returns cluster i (i > 0). The pointer stays valid as the store
// grows: chunks never move.
func (s *offStore) at(i uint32) *offCluster { return &s.chunks[i/offChunk][i%offChunk] }

// alloc returns a zeroed cluster.
func (s *offStore) alloc() uint32 {
	if k := len(s.free); k > 0 {
		i := s.free[k-1]
		s.free = s.free[:k-1]
		return i
	}
	if s.n == 0 {
		s.n = 1 // index 0 means none
	}
	if s.n%offChunk == 0 || len(s.chunks) == 0 {
		s.chunks = append(s.chunks, make([]offCluster, offChunk))
	}
	s.n++
	return s.n - 1
}

// drop frees cluster i (and its key), which nothing refers to any more.
func (s *offStore) drop(i uint32) {
	c := s.at(i)
	s.keys.drop(c.key)
	*c = offCluster{}
	s.free = append(s.free, i)
}

// head returns the latest cluster of tuple h (0: none).
func (s *offStore) head(h uint64) uint32 {
	if len(s.table) == 0 {
		return 0
	}
	mask := uint64(len(s.table) - 1)
	for p := h & mask; ; p = (p + 1) & mask {
		v := s.table[p]
		if v == 0 || s.at(v).hash == h {
			return v
		}
	}
}

// setHead makes cluster i (of hash h) the latest of its tuple, adding the
// tuple when it is new.
func (s *offStore) setHead(h uint64, i uint32) {
	if (s.tuples+1)*4 > len(s.table)*3 {
		s.grow()
	}
	mask := uint64(len(s.table) - 1)
	p := h & mask
	for s.table[p] != 0 && s.at(s.table[p]).hash != h {
		p = (p + 1) & mask
	}
	if s.table[p] == 0 {
		s.tuples++
	}
	s.table[p] = i
}

// grow doubles the table.
func (s *offStore) grow() {
	old := s.table
	s.table = make([]uint32, max(2*len(old), 1024))
	mask := uint64(len(s.table) - 1)
	for _, v := range old {
		if v == 0 {
			continue
		}
		p := s.at(v).hash & mask
		for s.table[p] != 0 {
			p = (p + 1) & mask
		}
		s.table[p] = v
	}
}

// keyOf returns cluster c's event key, valid until the next key is added.
func (s *offStore) keyOf(c *offCluster) []byte { return s.keys.get(c.key) }

// setKey gives cluster i the event key k, compacting the arena when the
// keys replaced or dropped outweigh those in use.
func (s *offStore) setKey(i uint32, k string) {
	c := s.at(i)
	s.keys.drop(c.key)
	c.key = 0
	if s.keys.size-s.keys.live > s.keys.live+keyBlock {
		s.compactKeys()
	}
	c.key = s.keys.add(k)
}

// compactKeys copies the keys in use to a new arena: out-of-order input
// replaces keys (an earlier event of a cluster) and merges clusters, and
// the arena must not grow with the events.
func (s *offStore) compactKeys() {
	var a keyArena
	for i := uint32(1); i < s.n; i++ {
		if c := s.at(i); c.key != 0 {
			c.key = a.add(string(s.keys.get(c.key)))
		}
	}
	s.keys = a
	s.compactions++
}

// keyRef is a key's place in a keyArena: block<<32 | offset (0: none).
type keyRef uint64

// keyArena holds event keys back to back, each after its length as a
// uvarint, in blocks of keyBlock bytes (a longer key gets a block of its
// own): no string header or object per key.
type keyArena struct {
	blocks [][]byte
	live   int // bytes of keys in use
	size   int // bytes added
}

const keyBlock = 256 << 10

// add appends key k.
func (a *keyArena) add(k string) keyRef {
	need := binary.MaxVarintLen64 + len(k)
	last := len(a.blocks) - 1
	if last < 0 || cap(a.blocks[last])-len(a.blocks[last]) < need {
		a.blocks = append(a.blocks, make([]byte, 0, max(keyBlock, need+1)))
		last++
		if last == 0 {
			a.blocks[0] = append(a.blocks[0], 0) // offset 0 of block 0 is "none"
		}
	}
	b := a.blocks[last]
	ref := keyRef(uint64(last)<<32 | uint64(len(b)))
	at := len(b)
	b = append(binary.AppendUvarint(b, uint64(len(k))), k...)
	a.blocks[last] = b
	a.live += len(b) - at
	a.size += len(b) - at
	return ref
}

// get returns the key at r.
func (a *keyArena) get(r keyRef) []byte {
	b := a.blocks[r>>32][uint32(r):]
	n, w := binary.Uvarint(b)
	return b[w : w+int(n)]
}

// drop notes that the key at r is no longer used.
func (a *keyArena) drop(r keyRef) {
	if r == 0 {
		return
	}
	n := len(a.get(r))
	a.live -= n + uvarintLen(uint64(n))
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
