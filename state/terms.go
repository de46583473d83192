package state

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/xferhunt/xferhunt/detect/newterms"
)

// Term history layout, format 2 (bucketTerms, one sub-bucket per rule):
// each tuple is the 8-byte big-endian keyed hash of its newterms.Key (the
// key, random per store, is the bucket's value termsKeyName), its value
// the sighting times (AppendTimes). Format 1 (bucketTermsV1) keyed each
// tuple by its text, ~100 bytes more per tuple on disk and in memory;
// Open migrates it (migrateTermsV1). metaTermsFormat records the format,
// so a database written by a later layout is refused, not misread.
const (
	termsFormatV1 = 1
	termsFormat   = 2
)

var (
	bucketTermsV1   = []byte("terms")
	bucketMeta      = []byte("meta")
	metaTermsFormat = []byte("terms_format")
	termsKeyName    = []byte("key")
)

// ErrNewerFormat matches (errors.Is) the error Open returns for a database
// whose term history a later xferhunt wrote in a layout this one cannot
// read.
var ErrNewerFormat = errors.New("state written by a newer xferhunt")

// initTerms makes the term history's key and format record on a new
// database, refuses a later format, and migrates a format-1 history. It
// runs in Open's first read-write transaction.
func initTerms(tx *bolt.Tx, path string) (newterms.HashKey, error) {
	var key newterms.HashKey
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return key, err
	}
	if v := meta.Get(metaTermsFormat); v != nil {
		switch n, err := strconv.Atoi(string(v)); {
		case err != nil || n < termsFormatV1:
			// No xferhunt writes that: asking for a newer one would
			// send the user looking for a release that does not exist.
			return key, &DamagedError{Path: path, Reason: fmt.Errorf("term history format %q is no format", v)}
		case n > termsFormat:
			return key, fmt.Errorf("%w: %s holds term history in format %q; this xferhunt reads format %d: run the newer xferhunt, or move the state dir away to start fresh", ErrNewerFormat, path, v, termsFormat)
		}
	}
	terms, err := tx.CreateBucketIfNotExists(bucketTerms)
	if err != nil {
		return key, err
	}
	switch v := terms.Get(termsKeyName); {
	case v == nil:
		key = newterms.NewHashKey()
		if err := terms.Put(termsKeyName, append([]byte(nil), key[:]...)); err != nil {
			return key, err
		}
	case len(v) == len(key):
		copy(key[:], v)
	default:
		return key, &DamagedError{Path: path, Reason: fmt.Errorf("term history key has %d bytes, want %d", len(v), len(key))}
	}
	if err := meta.Put(metaTermsFormat, []byte(strconv.Itoa(termsFormat))); err != nil {
		return key, err
	}
	// A ReplaceTerms a crash cut short: the old history stands.
	if tx.Bucket(bucketTermsNext) != nil {
		if err := tx.DeleteBucket(bucketTermsNext); err != nil {
			return key, err
		}
	}
	return key, migrateTermsV1(tx, terms, key, path)
}

// migrateTermsV1 rewrites a format-1 term history (tuples by their text)
// as format 2 (by keyed hash), in Open's transaction: a crash leaves the
// old history whole, to be migrated by the next Open. A sighting list
// that does not decode is damage (--state-repair sets the file aside).
func migrateTermsV1(tx *bolt.Tx, terms *bolt.Bucket, key newterms.HashKey, path string) error {
	old := tx.Bucket(bucketTermsV1)
	if old == nil {
		return nil
	}
	var rules [][]byte
	_ = old.ForEachBucket(func(k []byte) error {
		rules = append(rules, append([]byte(nil), k...))
		return nil
	})
	type term struct {
		hash uint64
		val  []byte
	}
	for _, rule := range rules {
		src := old.Bucket(rule)
		dst, err := terms.CreateBucketIfNotExists(rule)
		if err != nil {
			return err
		}
		var all []term
		err = src.ForEach(func(k, v []byte) error {
			if v == nil {
				return nil
			}
			times, err := decodeTimes(v, termsFormatV1, nil)
			if err != nil {
				return &DamagedError{Path: path, Reason: fmt.Errorf("term history of rule %s (format 1): term %q: %w", rule, k, err)}
			}
			all = append(all, term{key.Hash(k), AppendTimes(nil, times)})
			return nil
		})
		if err != nil {
			return err
		}
		// bbolt splits its nodes only at commit: a million keys put in
		// hash (random) order into one node moved it for every key
		// (minutes); in key order each put appends.
		slices.SortFunc(all, func(a, b term) int { return cmp.Compare(a.hash, b.hash) })
		dst.FillPercent = 0.9
		for _, t := range all {
			if err := dst.Put(binary.BigEndian.AppendUint64(nil, t.hash), t.val); err != nil {
				return err
			}
		}
	}
	return tx.DeleteBucket(bucketTermsV1)
}

// TermsKey returns the key this store's tuple hashes are made with
// (newterms.History).
func (s *Store) TermsKey() (newterms.HashKey, error) { return s.termsKey, nil }

// LoadTerms calls fn for every new_terms tuple stored for ruleID: its hash
// and its sighting times (Unix milliseconds, ascending), valid only during
// the call.
func (s *Store) LoadTerms(ruleID string, fn func(hash uint64, times []int64)) error {
	path := [2]string{string(bucketTerms), ruleID}
	var buf []int64
	err := s.kv.view(func(tx txn) error {
		return tx.each(path, func(k string, v []byte) error {
			if len(k) != 8 {
				return fmt.Errorf("term key %x: %d bytes, want 8", k, len(k))
			}
			var err error
			buf, err = decodeTimes(v, termsFormat, buf[:0])
			if err != nil {
				return fmt.Errorf("term %x: %w", k, err)
			}
			fn(binary.BigEndian.Uint64([]byte(k)), buf)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("load term history of rule %s: %w", ruleID, err)
	}
	return nil
}

// SaveTerms writes one batch of term history for ruleID in a single
// transaction: put replaces tuples' sighting times, del forgets tuples.
// A crash loses at most a batch that had not returned yet.
func (s *Store) SaveTerms(ruleID string, put []newterms.Term, del []uint64) error {
	if len(put) == 0 && len(del) == 0 {
		return nil
	}
	path := [2]string{string(bucketTerms), ruleID}
	err := s.kv.update(func(tx txn) error {
		var kb [8]byte
		for _, h := range del {
			binary.BigEndian.PutUint64(kb[:], h)
			if err := tx.del(path, string(kb[:])); err != nil {
				return err
			}
		}
		// bbolt keeps references to values until commit: the values
		// share one buffer that only grows (a reallocation leaves the
		// earlier values in the old array, unchanged).
		buf := make([]byte, 0, len(put)*12)
		for _, t := range put {
			binary.BigEndian.PutUint64(kb[:], t.Hash)
			at := len(buf)
			buf = AppendTimes(buf, t.Times)
			if err := tx.put(path, string(kb[:]), buf[at:len(buf):len(buf)]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save term history of rule %s: %w", ruleID, err)
	}
	return nil
}

// bucketTermsNext is where ReplaceTerms builds a rule's new history (a
// sub-bucket named by the rule, in a bucket of the call's own named by its
// number, Store.replaceCalls) before one small transaction moves it into
// bucketTerms in place of the old one. A crash before that move leaves the
// old history in place and this bucket behind, which Open deletes.
var bucketTermsNext = []byte("terms.v2.next")

// replaceBatch is how many tuples ReplaceTerms writes per transaction:
// bbolt holds a transaction's dirty pages and nodes in memory until it
// commits, and one transaction of a million tuples held ~100 MB.
const replaceBatch = 32 << 10

// replaceHook, when set (tests), is called after each committed batch of
// ReplaceTerms with the count of batches committed.
var replaceHook func(batches int)

// ReplaceTerms replaces the whole term history of ruleID with n tuples:
// term(i) gives the i-th one's hash and sighting times (valid until the
// next call), best in ascending hash order — the order bbolt stores keys
// in, so each batch appends instead of touching pages all over the file.
// The history changes at once: the tuples are written in batches of
// replaceBatch into a bucket of their own, and one last transaction puts
// that bucket in place of the old history. A crash (kill -9) at any point
// leaves either the old history or the new one, never a mix, and memory
// holds a batch, not the history (newterms.Replacer). Of calls for one
// rule that overlap, the one whose move comes last stands.
func (s *Store) ReplaceTerms(ruleID string, n int, term func(i int) (uint64, []int64)) error {
	bb, ok := s.kv.(*boltBackend)
	if !ok {
		return s.replaceMemory(ruleID, n, term)
	}
	rule := []byte(ruleID)
	// This call's own staging bucket: a shared one (terms.v2.next/<rule>)
	// let one call's move delete another's batches, whose next batch then
	// found no bucket (TestReplaceTermsInterleaved).
	call := binary.BigEndian.AppendUint64(nil, s.replaceCalls.Add(1))
	err := bb.db.Update(func(tx *bolt.Tx) error {
		next, err := tx.CreateBucketIfNotExists(bucketTermsNext)
		if err != nil {
			return err
		}
		c, err := next.CreateBucket(call)
		if err != nil {
			return err
		}
		_, err = c.CreateBucket(rule)
		return err
	})
	for i, batches := 0, 0; err == nil && i < n; {
		err = bb.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketTermsNext).Bucket(call).Bucket(rule)
			// In hash order every put appends: full pages, half the file
			// bbolt's default half-full splits would make.
			b.FillPercent = 0.95
			// bbolt keeps references to keys and values until commit.
			end := min(n, i+replaceBatch)
			buf := make([]byte, 0, (end-i)*24)
			for ; i < end; i++ {
				h, times := term(i)
				at := len(buf)
				buf = binary.BigEndian.AppendUint64(buf, h)
				k := buf[at:len(buf):len(buf)]
				at = len(buf)
				buf = AppendTimes(buf, times)
				if err := b.Put(k, buf[at:len(buf):len(buf)]); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			batches++
			if replaceHook != nil {
				replaceHook(batches)
			}
		}
	}
	if err == nil {
		err = bb.db.Update(func(tx *bolt.Tx) error {
			terms := tx.Bucket(bucketTerms)
			if terms.Bucket(rule) != nil {
				if err := terms.DeleteBucket(rule); err != nil {
					return err
				}
			}
			next := tx.Bucket(bucketTermsNext)
			if err := next.Bucket(call).MoveBucket(rule, terms); err != nil {
				return err
			}
			return dropStaging(tx, call)
		})
	}
	if err != nil {
		// The batches would otherwise stay in the file until Open.
		_ = bb.db.Update(func(tx *bolt.Tx) error { return dropStaging(tx, call) })
		return fmt.Errorf("replace term history of rule %s: %w", ruleID, err)
	}
	return nil
}

// dropStaging deletes ReplaceTerms call's staging bucket, and the bucket
// of staging buckets once no other call has one there.
func dropStaging(tx *bolt.Tx, call []byte) error {
	next := tx.Bucket(bucketTermsNext)
	if next == nil {
		return nil
	}
	if next.Bucket(call) != nil {
		if err := next.DeleteBucket(call); err != nil {
			return err
		}
	}
	if k, _ := next.Cursor().First(); k != nil {
		return nil
	}
	return tx.DeleteBucket(bucketTermsNext)
}

// replaceMemory is ReplaceTerms for a memory store: one transaction.
func (s *Store) replaceMemory(ruleID string, n int, term func(i int) (uint64, []int64)) error {
	path := [2]string{string(bucketTerms), ruleID}
	return s.kv.update(func(tx txn) error {
		var old []string
		if err := tx.each(path, func(k string, _ []byte) error {
			old = append(old, k)
			return nil
		}); err != nil {
			return err
		}
		for _, k := range old {
			if err := tx.del(path, k); err != nil {
				return err
			}
		}
		var kb [8]byte
		for i := range n {
			h, times := term(i)
			binary.BigEndian.PutUint64(kb[:], h)
			if err := tx.put(path, string(kb[:]), AppendTimes(nil, times)); err != nil {
				return err
			}
		}
		return nil
	})
}

// TermRules lists the rule ids that have term history.
func (s *Store) TermRules() ([]string, error) {
	var out []string
	err := s.kv.view(func(tx txn) error {
		out = tx.children(string(bucketTerms))
		return nil
	})
	return out, err
}

// AppendTimes encodes ascending Unix-millisecond times compactly: a format
// byte, the first time as a varint, then the gaps as uvarints (sightings of
// one tuple are usually close, so gaps take two or three bytes).
func AppendTimes(dst []byte, times []int64) []byte {
	dst = append(dst, termsFormat)
	var prev int64
	for i, t := range times {
		if i == 0 {
			dst = binary.AppendVarint(dst, t)
		} else {
			dst = binary.AppendUvarint(dst, uint64(t-prev))
		}
		prev = t
	}
	return dst
}

var errBadTimes = errors.New("corrupt sighting list")

// maxTimesBytes bounds a stored sighting list. The tracker keeps at most
// newterms.MaxSightings times per tuple, a list of under 100 bytes; a
// list of megabytes of one-byte gaps decodes to 8 bytes of memory (and
// more while the slice grows) per byte of file, so it is refused unread.
const maxTimesBytes = 64 << 10

// DecodeTimes reverses AppendTimes.
func DecodeTimes(b []byte) ([]int64, error) { return decodeTimes(b, termsFormat, nil) }

// decodeTimes decodes a sighting list of the given format byte (formats 1
// and 2 encode times alike) into out.
func decodeTimes(b []byte, format byte, out []int64) ([]int64, error) {
	if len(b) == 0 || b[0] != format {
		return nil, errBadTimes
	}
	if len(b) > maxTimesBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", errBadTimes, len(b), maxTimesBytes)
	}
	b = b[1:]
	var prev int64
	first := true
	for len(b) > 0 {
		if first {
			v, n := binary.Varint(b)
			if n <= 0 {
				return nil, errBadTimes
			}
			prev, b = v, b[n:]
			first = false
		} else {
			d, n := binary.Uvarint(b)
			if n <= 0 {
				return nil, errBadTimes
			}
			prev, b = prev+int64(d), b[n:]
		}
		out = append(out, prev)
	}
	return out, nil
}
