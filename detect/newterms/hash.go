package newterms

import (
	"crypto/rand"
	"encoding/binary"
	"math/bits"
)

// HashKey is the secret key of the tuple hash. A state store keeps one,
// chosen at random when it is created (state.Store.TermsKey), so the hashes
// it holds mean nothing without it: whoever can feed xferhunt events but
// cannot read the state directory cannot craft two tuples whose hashes
// collide and so hide a new tuple behind a known one.
type HashKey [16]byte

// NewHashKey returns a random key (a memory-only history uses one per run).
func NewHashKey() HashKey {
	var k HashKey
	_, _ = rand.Read(k[:]) // crypto/rand.Read never fails (Go 1.24)
	return k
}

// Hash is the 64-bit SipHash-2-4 of a tuple's Key under k: the identity the
// term history keeps instead of the tuple's text (about 100 bytes a tuple
// less). Two distinct tuples of a rule share a hash with probability about
// n²/2⁶⁵ among n tuples — 2⁻²⁴ at the 2 M-tuple cap — and then the later
// one is taken for known (see the package doc).
func (k HashKey) Hash(key []byte) uint64 {
	return sipHash24(binary.LittleEndian.Uint64(k[:8]), binary.LittleEndian.Uint64(k[8:]), key)
}

// HashTuple is Hash of tuple's Key, built in buf (returned for reuse).
func (k HashKey) HashTuple(buf []byte, tuple []string) (uint64, []byte) {
	buf = AppendKey(buf[:0], tuple)
	return k.Hash(buf), buf
}

// sipHash24 is SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast
// short-input PRF"), checked against the paper's test vectors: a keyed
// PRF, unlike FNV or maphash whose seed cannot be stored.
func sipHash24(k0, k1 uint64, m []byte) uint64 {
	v0 := k0 ^ 0x736f6d6570736575
	v1 := k1 ^ 0x646f72616e646f6d
	v2 := k0 ^ 0x6c7967656e657261
	v3 := k1 ^ 0x7465646279746573
	n := len(m)
	for len(m) >= 8 {
		w := binary.LittleEndian.Uint64(m)
		v3 ^= w
		v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
		v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
		v0 ^= w
		m = m[8:]
	}
	w := uint64(n) << 56
	for i := len(m) - 1; i >= 0; i-- {
		w |= uint64(m[i]) << (8 * uint(i))
	}
	v3 ^= w
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0 ^= w
	v2 ^= 0xff
	for range 4 {
		v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	}
	return v0 ^ v1 ^ v2 ^ v3
}

func sipRound(v0, v1, v2, v3 uint64) (uint64, uint64, uint64, uint64) {
	v0 += v1
	v1 = bits.RotateLeft64(v1, 13)
	v1 ^= v0
	v0 = bits.RotateLeft64(v0, 32)
	v2 += v3
	v3 = bits.RotateLeft64(v3, 16)
	v3 ^= v2
	v0 += v3
	v3 = bits.RotateLeft64(v3, 21)
	v3 ^= v0
	v2 += v1
	v1 = bits.RotateLeft64(v1, 17)
	v1 ^= v2
	v2 = bits.RotateLeft64(v2, 32)
	return v0, v1, v2, v3
}
