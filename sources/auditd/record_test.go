package auditd

import (
	"bytes"
	"fmt"
	"strings"
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
	sec, msec, ser, n := stampWords(b)
	if n == 0 {
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
		if _, _, _, n := stampWords(stamp); n > 0 {
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

// atoiAllRef is atoiAll digit by digit: the reading its word-wise path
// must give.
func atoiAllRef(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg = true
		b = b[1:]
	}
	v, n := atoi(b)
	if n == 0 || n != len(b) {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// TestAtoiAllWords: atoiAll reads values of every length around the
// word-wise range (7 to 17 digits), signed or not, with a non-digit (the
// digits' neighbours, 0xfa whose +6 carries) at every place, as the
// digit-by-digit reading does.
func TestAtoiAllWords(t *testing.T) {
	check := func(b []byte) {
		t.Helper()
		v, ok := atoiAll(b)
		if wv, wok := atoiAllRef(b); v != wv || ok != wok {
			t.Fatalf("atoiAll(%q) = %d, %v; want %d, %v", b, v, ok, wv, wok)
		}
	}
	digits := "98765432101234567890"
	for nd := 0; nd <= 18; nd++ {
		for _, sign := range []string{"", "-"} {
			b := []byte(sign + digits[:nd])
			check(b)
			for i := range b {
				for _, c := range []byte{'/', ':', 0xfa, ' ', '-', '0'} {
					m := append([]byte{}, b...)
					m[i] = c
					check(m)
				}
			}
		}
	}
	if v, ok := atoiAll([]byte("4294967295")); v != 4294967295 || !ok {
		t.Errorf("atoiAll(4294967295) = %d, %v", v, ok)
	}
}

// FuzzAtoiAll: atoiAll against the digit-by-digit reading.
//
//	go test -run '^$' -fuzz '^FuzzAtoiAll$' -fuzztime 30s ./sources/auditd
func FuzzAtoiAll(f *testing.F) {
	for _, s := range []string{"4294967295", "-140737488355328", "1234567890123456", "12345678901234567", "0"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, ok := atoiAll(b)
		if wv, wok := atoiAllRef(b); v != wv || ok != wok {
			t.Fatalf("atoiAll(%q) = %d, %v; want %d, %v", b, v, ok, wv, wok)
		}
	})
}

// parseStampRef is parseStamp as it was before it read words and kept
// offsets: the reading parseStamp must give.
func parseStampRef(line []byte, h *header) bool {
	i := 0
	if !bytes.HasPrefix(line, []byte("type=")) {
		j := bytes.Index(line, []byte(" type="))
		if j < 0 || !bytes.HasPrefix(line, []byte("node=")) {
			return false
		}
		h.node = line[len("node="):j]
		i = j + 1
	}
	rest := line[i+len("type="):]
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return false
	}
	h.typ = rest[:sp]
	rest = rest[sp:]
	if !bytes.HasPrefix(rest, []byte(" msg=audit(")) {
		return false
	}
	rest = rest[len(" msg=audit("):]
	var ok bool
	var n int
	if h.sec, h.msec, h.serial, n, ok = stampDigits(rest); !ok {
		return false
	}
	rest = rest[n:]
	if len(rest) > 0 && rest[0] == ':' {
		rest = rest[1:]
	}
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	h.body = rest
	h.raw = line
	return true
}

// headersAgree reports whether parseStamp reads line as parseStampRef:
// the same verdict and, for a record, the same numbers and the same
// slices (position, length, capacity).
func headersAgree(line []byte) (bool, string) {
	var got, want header
	ok, wok := parseStamp(line, &got), parseStampRef(line, &want)
	same := func(x, y []byte) bool {
		return (x == nil) == (y == nil) && bytes.Equal(x, y) && cap(x) == cap(y) && (len(x) == 0 || &x[0] == &y[0])
	}
	if ok != wok || ok && (got.sec != want.sec || got.msec != want.msec || got.serial != want.serial ||
		!same(got.node, want.node) || !same(got.typ, want.typ) || !same(got.body, want.body) || !same(got.raw, want.raw)) {
		return false, fmt.Sprintf("%q: parseStamp %v %+v, before %v %+v", line, ok, got, wok, want)
	}
	return true, ""
}

// TestParseStampEdges: parseStamp reads real lines (and node= lines,
// types of 1 to 20 bytes, the first 80 bytes cut anywhere and each
// replaced by a space or the digits' neighbours) as before.
func TestParseStampEdges(t *testing.T) {
	lines, _ := captureRecords(t)
	lines = append(lines[:min(len(lines), 6)],
		[]byte("node=web-1 type=SYSCALL msg=audit(1795663318.322:4653): arch=c000003e"),
		[]byte("node= type=PATH msg=audit(1795663318.322:4653):item=0"),
		[]byte("type=SYSCALL msg=audit(1795663318.322:4653)"),
		[]byte("type=SYSCALL msg=audit(1.2:3): x"),
		[]byte("type= msg=audit(1795663318.322:4653): x"), []byte("type=SYSCALL"))
	for n := 1; n <= 20; n++ {
		lines = append(lines, []byte("type="+strings.Repeat("T", n)+" msg=audit(1795663318.322:4653): a=b"))
	}
	check := func(b []byte) {
		t.Helper()
		if ok, why := headersAgree(b); !ok {
			t.Fatal(why)
		}
	}
	for _, l := range lines {
		check(l)
		for i := range min(len(l), 80) {
			check(l[:i])
			for _, c := range []byte{' ', ':', '/', 0xfa, ')', '.'} {
				m := append([]byte{}, l...)
				m[i] = c
				check(m)
			}
		}
	}
}

// FuzzParseStamp: parseStamp against the reading before it.
//
//	go test -run '^$' -fuzz '^FuzzParseStamp$' -fuzztime 30s ./sources/auditd
func FuzzParseStamp(f *testing.F) {
	f.Add([]byte("type=SYSCALL msg=audit(1795663318.322:4653): arch=c000003e syscall=257"))
	f.Add([]byte("node=h type=USER_START msg=audit(1795663318.322:1234567):x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if ok, why := headersAgree(b); !ok {
			t.Fatal(why)
		}
	})
}

// fieldValueRef is fieldValue as two searches (a space, then a quote in
// what precedes it): the reading its word-at-a-time scan must give, up to
// the capacity of the result (field values keep the record's capacity).
func fieldValueRef(b []byte, vs int) []byte {
	if vs < len(b) && (b[vs] == '"' || b[vs] == '\'') {
		if e := bytes.IndexByte(b[vs+1:], b[vs]); e >= 0 {
			return b[vs : vs+e+2]
		}
		return b[vs:]
	}
	v := b[vs:]
	if e := bytes.IndexByte(v, ' '); e >= 0 {
		v = v[:e]
	}
	if e := bytes.IndexByte(v, '\''); e >= 0 {
		v = v[:e]
	}
	return v
}

// FuzzFieldValue: fieldValue (scanTo, eight bytes at a time) reads the
// value at every offset of any body as the two searches did: same bytes,
// same start and capacity, at word edges and in the body's last bytes.
//
//	go test -run '^$' -fuzz '^FuzzFieldValue$' -fuzztime 30s ./sources/auditd
func FuzzFieldValue(f *testing.F) {
	f.Add([]byte(`acct="root" exe=/usr/sbin/sshd hostname=? addr=10.0.0.1 terminal=ssh res=success'`))
	f.Add([]byte(`a=12345678'9 b='x y' c="unterminated d=0123456789abcdef0 e=`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for vs := 0; vs <= len(b); vs++ {
			got, want := fieldValue(b, vs), fieldValueRef(b, vs)
			if !bytes.Equal(got, want) || cap(got) != cap(want) || (got == nil) != (want == nil) {
				t.Fatalf("%q at %d: %q (cap %d), want %q (cap %d)", b, vs, got, cap(got), want, cap(want))
			}
		}
	})
}
