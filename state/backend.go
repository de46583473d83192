package state

import (
	"sort"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// backend is the small key-value surface the Store needs, so the bbolt file
// and the in-memory maps behave identically. A bucket path is a top-level
// bucket optionally followed by one sub-bucket (term history per rule).
type backend interface {
	update(fn func(tx txn) error) error
	view(fn func(tx txn) error) error
	close() error
}

type txn interface {
	get(path [2]string, key string) []byte
	// size is len(get(path, key)) without the copy.
	size(path [2]string, key string) int
	put(path [2]string, key string, val []byte) error
	del(path [2]string, key string) error
	// each visits keys in byte order; v is only valid during fn.
	each(path [2]string, fn func(k string, v []byte) error) error
	// children lists the sub-buckets of a top-level bucket.
	children(top string) []string
}

// ---- bbolt ----

type boltBackend struct{ db *bolt.DB }

func (b *boltBackend) update(fn func(tx txn) error) error {
	return b.db.Update(func(tx *bolt.Tx) error { return fn(boltTxn{tx}) })
}

func (b *boltBackend) view(fn func(tx txn) error) error {
	return b.db.View(func(tx *bolt.Tx) error { return fn(boltTxn{tx}) })
}

func (b *boltBackend) close() error { return b.db.Close() }

type boltTxn struct{ tx *bolt.Tx }

func (t boltTxn) bucket(path [2]string, create bool) (*bolt.Bucket, error) {
	b := t.tx.Bucket([]byte(path[0]))
	if b == nil || path[1] == "" {
		return b, nil
	}
	if sub := b.Bucket([]byte(path[1])); sub != nil || !create {
		return sub, nil
	}
	return b.CreateBucket([]byte(path[1]))
}

func (t boltTxn) get(path [2]string, key string) []byte {
	b, _ := t.bucket(path, false)
	if b == nil {
		return nil
	}
	v := b.Get([]byte(key))
	if v == nil {
		return nil
	}
	return append([]byte(nil), v...)
}

func (t boltTxn) put(path [2]string, key string, val []byte) error {
	b, err := t.bucket(path, true)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), val)
}

func (t boltTxn) size(path [2]string, key string) int {
	b, _ := t.bucket(path, false)
	if b == nil {
		return 0
	}
	return len(b.Get([]byte(key)))
}

func (t boltTxn) del(path [2]string, key string) error {
	b, _ := t.bucket(path, false)
	if b == nil {
		return nil
	}
	return b.Delete([]byte(key))
}

func (t boltTxn) each(path [2]string, fn func(k string, v []byte) error) error {
	b, _ := t.bucket(path, false)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		if v == nil { // a nested bucket, not a value
			return nil
		}
		return fn(string(k), v)
	})
}

func (t boltTxn) children(top string) []string {
	b := t.tx.Bucket([]byte(top))
	if b == nil {
		return nil
	}
	var out []string
	_ = b.ForEachBucket(func(k []byte) error {
		out = append(out, string(k))
		return nil
	})
	return out
}

// ---- memory ----

type memBackend struct {
	mu sync.RWMutex
	m  map[[2]string]map[string][]byte
}

func newMemBackend() *memBackend {
	return &memBackend{m: map[[2]string]map[string][]byte{}}
}

// update runs fn against a staging copy-on-write layer so that a failing
// fn leaves nothing behind, like a rolled-back bbolt transaction.
func (b *memBackend) update(fn func(tx txn) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	tx := &memTxn{b: b, writes: map[[2]string]map[string][]byte{}}
	if err := fn(tx); err != nil {
		return err
	}
	for path, kv := range tx.writes {
		dst := b.m[path]
		if dst == nil {
			dst = map[string][]byte{}
			b.m[path] = dst
		}
		for k, v := range kv {
			if v == nil {
				delete(dst, k)
			} else {
				dst[k] = v
			}
		}
	}
	return nil
}

func (b *memBackend) view(fn func(tx txn) error) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return fn(&memTxn{b: b})
}

func (b *memBackend) close() error {
	b.mu.Lock()
	b.m = map[[2]string]map[string][]byte{}
	b.mu.Unlock()
	return nil
}

type memTxn struct {
	b      *memBackend
	writes map[[2]string]map[string][]byte // nil value = deleted; nil map = read-only
}

func (t *memTxn) get(path [2]string, key string) []byte {
	if w, ok := t.writes[path][key]; ok {
		return append([]byte(nil), w...)
	}
	v, ok := t.b.m[path][key]
	if !ok {
		return nil
	}
	return append([]byte(nil), v...)
}

func (t *memTxn) size(path [2]string, key string) int {
	if w, ok := t.writes[path][key]; ok {
		return len(w)
	}
	return len(t.b.m[path][key])
}

func (t *memTxn) stage(path [2]string, key string, val []byte) {
	w := t.writes[path]
	if w == nil {
		w = map[string][]byte{}
		t.writes[path] = w
	}
	w[key] = val
}

func (t *memTxn) put(path [2]string, key string, val []byte) error {
	t.stage(path, key, append([]byte{}, val...))
	return nil
}

func (t *memTxn) del(path [2]string, key string) error {
	t.stage(path, key, nil)
	return nil
}

func (t *memTxn) each(path [2]string, fn func(k string, v []byte) error) error {
	merged := map[string][]byte{}
	for k, v := range t.b.m[path] {
		merged[k] = v
	}
	for k, v := range t.writes[path] {
		if v == nil {
			delete(merged, k)
		} else {
			merged[k] = v
		}
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := fn(k, merged[k]); err != nil {
			return err
		}
	}
	return nil
}

func (t *memTxn) children(top string) []string {
	seen := map[string]bool{}
	for p, kv := range t.b.m {
		if p[0] == top && p[1] != "" && len(kv) > 0 {
			seen[p[1]] = true
		}
	}
	for p := range t.writes {
		if p[0] == top && p[1] != "" {
			seen[p[1]] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
