package auditd

import (
	"bytes"
	"testing"
)

// TestScanTo: scanTo finds the first of its two bytes at every offset and
// alignment, as a byte loop does, including bytes a word-wide borrow could
// mark falsely (0x01 after a match).
func TestScanTo(t *testing.T) {
	for n := 0; n < 40; n++ {
		for pos := -1; pos < n; pos++ {
			for _, fill := range []byte{'a', 0x01, '=' + 1, ' ' - 1, 0xff} {
				b := bytes.Repeat([]byte{fill}, n)
				if pos >= 0 {
					b[pos] = '='
					if pos+1 < n {
						b[pos+1] = 0x01
					}
				}
				for start := 0; start <= n; start++ {
					want := start
					for want < n && b[want] != '=' && b[want] != ' ' {
						want++
					}
					if got := scanTo(b, start, '=', ' '); got != want {
						t.Fatalf("scanTo(%q, %d) = %d, want %d", b, start, got, want)
					}
				}
			}
		}
	}
}
