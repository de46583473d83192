package newterms

import (
	"encoding/binary"
	"errors"
)

// AppendKey encodes a tuple as a map/database key: each value preceded by
// its length, so values containing any byte (audit paths can) never collide.
func AppendKey(dst []byte, tuple []string) []byte {
	for _, v := range tuple {
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		dst = append(dst, v...)
	}
	return dst
}

// Key returns the key of tuple (see AppendKey).
func Key(tuple []string) string { return string(AppendKey(nil, tuple)) }

var errBadKey = errors.New("malformed tuple key")

// SplitKey returns the tuple a key was built from.
func SplitKey(key string) ([]string, error) {
	var out []string
	b := []byte(key)
	for len(b) > 0 {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return nil, errBadKey
		}
		out = append(out, string(b[w:w+int(n)]))
		b = b[w+int(n):]
	}
	return out, nil
}
