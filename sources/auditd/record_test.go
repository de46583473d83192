package auditd

import (
	"bytes"
	"fmt"
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

// stampsAgree reports whether stampWords, when it reads b, reads it as
// stampDigits does.
func stampsAgree(b []byte) (bool, string) {
	sec, msec, ser, n, ok := stampWords(b)
	if !ok {
		return true, ""
	}
	ws, wm, wser, wn, wok := stampDigits(b)
	if !wok || sec != ws || msec != wm || ser != wser || n != wn {
		return false, fmt.Sprintf("%q: stampWords %d %d %d %d, stampDigits %d %d %d %d %v", b, sec, msec, ser, n, ws, wm, wser, wn, wok)
	}
	return true, ""
}

// TestStampWords: the word-wise reading of the stamp takes the usual
// stamps (and only stamps stampDigits reads the same) whatever surrounds
// them: each byte of a stamp replaced by the digits' neighbours ('/' and
// ':' around the digits, 0xfa whose +6 carries, '.', ')', a space),
// serials of every width, the input cut anywhere.
func TestStampWords(t *testing.T) {
	check := func(b []byte) {
		t.Helper()
		if ok, why := stampsAgree(b); !ok {
			t.Fatal(why)
		}
	}
	read := 0
	for _, serial := range []string{"1", "12", "4653", "123456", "1234567", "12345678", "123456789012"} {
		stamp := []byte("1795663318.322:" + serial + "): arch=c000003e")
		if _, _, _, _, ok := stampWords(stamp); ok {
			read++
		}
		for cut := 0; cut <= len(stamp); cut++ {
			check(stamp[:cut])
		}
		for i := range 24 {
			for _, c := range []byte{'0', '9', '/', ':', 0xfa, '.', ')', ' '} {
				b := append([]byte{}, stamp...)
				b[i] = c
				check(b)
			}
		}
	}
	if read != 5 { // serials of 1 to 7 digits
		t.Errorf("stampWords read %d of the usual stamps, want 5", read)
	}
}

// FuzzStamp: stampWords against stampDigits on any input.
//
//	go test -run '^$' -fuzz '^FuzzStamp$' -fuzztime 30s ./sources/auditd
func FuzzStamp(f *testing.F) {
	for _, s := range []string{"1700000000.123:4567): x", "1795663318.322:1234567)", "179566331.322:1)aaaaaaaaa", "17956633180.32:12)aaaaaaa"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if ok, why := stampsAgree(b); !ok {
			t.Fatal(why)
		}
	})
}
