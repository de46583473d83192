package state

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// termsFormat prefixes every encoded sighting list so a future layout can be
// told apart from this one.
const termsFormat = 1

// LoadTerms calls fn for every new_terms tuple stored for ruleID, with its
// sighting times (Unix milliseconds, ascending). The slice is fn's to keep.
func (s *Store) LoadTerms(ruleID string, fn func(key string, times []int64)) error {
	path := [2]string{string(bucketTerms), ruleID}
	err := s.kv.view(func(tx txn) error {
		return tx.each(path, func(k string, v []byte) error {
			times, err := DecodeTimes(v)
			if err != nil {
				return fmt.Errorf("term %q: %w", k, err)
			}
			fn(k, times)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("load term history of rule %s: %w", ruleID, err)
	}
	return nil
}

// SaveTerms writes one batch of term history for ruleID in a single
// transaction: put replaces a tuple's sighting times, del forgets tuples.
// A crash loses at most a batch that had not returned yet.
func (s *Store) SaveTerms(ruleID string, put map[string][]int64, del []string) error {
	if len(put) == 0 && len(del) == 0 {
		return nil
	}
	path := [2]string{string(bucketTerms), ruleID}
	err := s.kv.update(func(tx txn) error {
		// bbolt keeps references to values until commit, so each value
		// gets its own buffer.
		for k, times := range put {
			if err := tx.put(path, k, AppendTimes(make([]byte, 0, 1+2*len(times)+8), times)); err != nil {
				return err
			}
		}
		for _, k := range del {
			if err := tx.del(path, k); err != nil {
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

// DecodeTimes reverses AppendTimes.
func DecodeTimes(b []byte) ([]int64, error) {
	if len(b) == 0 || b[0] != termsFormat {
		return nil, errBadTimes
	}
	b = b[1:]
	var out []int64
	var prev int64
	for len(b) > 0 {
		if len(out) == 0 {
			v, n := binary.Varint(b)
			if n <= 0 {
				return nil, errBadTimes
			}
			prev, b = v, b[n:]
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
