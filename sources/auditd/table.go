package auditd

// table is a bounded map with two generations: writes go to cur; when cur
// holds half the capacity, prev is dropped and cur becomes prev. Lookups
// see both, so an entry lives for at least cap/2 newer insertions and the
// memory never exceeds cap entries: an approximate LRU without per-entry
// bookkeeping on the hot path.
type table[K comparable, V any] struct {
	cur, prev map[K]V
	half      int
}

func newTable[K comparable, V any](capacity int) *table[K, V] {
	if capacity < 2 {
		capacity = 2
	}
	return &table[K, V]{cur: make(map[K]V), half: capacity / 2}
}

func (t *table[K, V]) get(k K) (V, bool) {
	if v, ok := t.cur[k]; ok {
		return v, true
	}
	v, ok := t.prev[k]
	return v, ok
}

func (t *table[K, V]) put(k K, v V) {
	if _, ok := t.cur[k]; !ok && len(t.cur) >= t.half {
		t.prev = t.cur
		t.cur = make(map[K]V, t.half)
	}
	t.cur[k] = v
}

func (t *table[K, V]) len() int { return len(t.cur) + len(t.prev) }
