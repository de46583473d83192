package detect

// generations is a map bounded to about max entries that forgets the
// least recently used first, cheaply: two maps, the older dropped whole
// when the newer fills, an entry read from the older moved to the newer.
// The companion rules follow uploads and commands with it, so a host that
// makes millions of them keeps flat memory.
type generations[K comparable, V any] struct {
	cur, prev map[K]V
	max       int
}

func newGenerations[K comparable, V any](max int) generations[K, V] {
	return generations[K, V]{cur: map[K]V{}, prev: map[K]V{}, max: max}
}

func (g *generations[K, V]) get(k K) (V, bool) {
	if v, ok := g.cur[k]; ok {
		return v, true
	}
	if v, ok := g.prev[k]; ok {
		delete(g.prev, k)
		g.put(k, v)
		return v, true
	}
	var zero V
	return zero, false
}

func (g *generations[K, V]) put(k K, v V) {
	if len(g.cur) >= g.max/2 {
		g.prev, g.cur = g.cur, make(map[K]V, len(g.cur))
	}
	g.cur[k] = v
}

func (g *generations[K, V]) drop(k K) {
	delete(g.cur, k)
	delete(g.prev, k)
}
