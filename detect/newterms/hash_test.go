package newterms

import "testing"

// TestSipHashVectors checks sipHash24 against the reference vectors of the
// SipHash paper (key 00..0f, message 00..n−1).
func TestSipHashVectors(t *testing.T) {
	var k HashKey
	msg := make([]byte, 16)
	for i := range 16 {
		k[i] = byte(i)
		msg[i] = byte(i)
	}
	for _, c := range []struct {
		n    int
		want uint64
	}{{0, 0x726fdb47dd0e0e31}, {1, 0x74f839c593dc67fd}, {2, 0x0d6c8009d9a94f5a}, {8, 0x93f5f5799a932462}, {15, 0xa129ca6149be45e5}, {16, 0x3f2acc7f57c29bdb}} {
		if got := k.Hash(msg[:c.n]); got != c.want {
			t.Errorf("SipHash-2-4 of %d bytes = %#x, want %#x", c.n, got, c.want)
		}
	}
	k2 := k
	k2[0] ^= 1
	if k.Hash(msg) == k2.Hash(msg) {
		t.Error("the hash ignores its key")
	}
}
