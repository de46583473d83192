package auditd

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
)

// FuzzSyscallParse: parse, which decodes the arguments and ids only of
// interesting records, reads every body as the reading that decodes every
// field (parseRef) does: all fields when the record is interesting, the fields
// the grouper reads of the others (process, class, outcome) when it is
// not, and both agree on which it is. Keys out of order, repeated (a
// late items= that makes a record interesting), unknown or bare, signed,
// quoted, overlong or empty values, a body cut anywhere. Seeds: every
// SYSCALL body of the real capture and hand-made oddities.
//
//	go test -run '^$' -fuzz '^FuzzSyscallParse$' -fuzztime 30s ./sources/auditd
func FuzzSyscallParse(f *testing.F) {
	_, bodies := captureRecords(f)
	for _, b := range bodies {
		f.Add(b, false)
		f.Add(b, true)
	}
	for _, s := range []string{
		`arch=c000003e syscall=257 success=no exit=-2 a0=ffffff9c a1=1 a2=241 a3=1b6 items=1 ppid=1 pid=2 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="x" exe="/x" key=(null)`,
		`arch=c000003e syscall=42 success=no exit=-115 a0=3 a1=7ffd a2=10 a3=0 items=0 ppid=1 pid=2 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=(none) ses=7 comm="curl" exe="/usr/bin/curl" key=(null)`,
		`arch=c000003e syscall=1 success=yes exit=5 a0=1 a1=2 a2=3 a3=4 items=0 ppid=1 pid=2 auid=3 uid=4 gid=5 euid=6 egid=7 ses=8 items=1 comm="late" exe="/x"`,
		`pid=5 arch=c000003e pid=7 syscall=1234567890123456789 items= ppid=-4 uid="12" comm=6D79 exe=2F78 key="k"`,
		`arch=40000003 syscall=91 bare success=yes exit=0 a0=f35000 a4=1 items=2 ppid=668 pid=2814 key="early" auid=4294967295 auid=5 uid=x`,
		`arch=c000003e syscall=59 success=yes exit=0 a0 a1=2 a2='q w' items=2 ppid=1 pid=2 auid=1 uid=1 gid=1 euid=1 egid=1 tty=pts0 ses=3 comm="sh`,
		`exe="/bin/sh" subj=unconfined key="x"`,
		`arch=`, `=`, ` `, `items=1 a0=ffffffffffffffffff`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, story bool) {
		var got, want sysRec
		got.parse(body, story)
		want.parseRef(body)
		interesting := want.interesting(story)
		if got.interesting(story) != interesting {
			t.Fatalf("%q story=%v: interesting %v, want %v", body, story, !interesting, interesting)
		}
		if !interesting {
			// Only the fields parse decodes for every record count.
			got.a, got.auid, got.uid, got.gid, got.euid, got.egid, got.ses = want.a, want.auid, want.uid, want.gid, want.euid, want.egid, want.ses
		}
		if !sysRecEqual(&got, &want) {
			t.Fatalf("%q story=%v:\nparse    %+v\nparseRef %+v", body, story, got, want)
		}
	})
}

// sysRecEqual compares two readings, their byte fields by position and
// capacity too (rebase relies on the slices pointing into the body and
// reaching its end).
func sysRecEqual(a, b *sysRec) bool {
	same := func(x, y []byte) bool {
		return (x == nil) == (y == nil) && bytes.Equal(x, y) && (len(x) == 0 || &x[0] == &y[0]) && cap(x) == cap(y)
	}
	return a.arch == b.arch && a.nr == b.nr && a.success == b.success && a.hasSuccess == b.hasSuccess &&
		a.exit == b.exit && a.a == b.a && a.items == b.items && a.pid == b.pid && a.ppid == b.ppid &&
		a.auid == b.auid && a.uid == b.uid && a.gid == b.gid && a.euid == b.euid && a.egid == b.egid &&
		a.ses == b.ses && same(a.comm, b.comm) && same(a.exe, b.exe) && same(a.tty, b.tty) &&
		same(a.key, b.key) && same(a.enriched, b.enriched) && same(a.rest, b.rest)
}

// parseRef reads a SYSCALL body with every field decoded, whether the
// record is interesting or not: what parse gave before it decoded the
// arguments and ids lazily (the last occurrence of a key wins in both).
func (s *sysRec) parseRef(body []byte) {
	*s = sysRec{auid: -1, uid: -1, gid: -1, euid: -1, egid: -1, ses: -1, nr: -1}
	var l lazyFields
	s.scan(body, &l)
	s.decodeLazy(body, &l)
}

// TestSysTablesComplete: the indexed tables classify tells by hold every
// syscall of the maps they are built from, and nothing else.
func TestSysTablesComplete(t *testing.T) {
	for _, c := range []struct {
		arch uint64
		m    map[uint16]sysInfo
	}{{archX8664, x8664}, {archAarch64, aarch64}, {archI386, i386}} {
		n := 0
		for nr := range int64(maxNr + 10) {
			si, known := classify(c.arch, nr)
			if want := c.m[uint16(nr)]; !known || si != want {
				t.Errorf("arch %x nr %d: %+v %v, want %+v", c.arch, nr, si, known, want)
			}
			if si.name != "" {
				n++
			}
		}
		if n != len(c.m) {
			t.Errorf("arch %x: %d syscalls in the table, %d in the map", c.arch, n, len(c.m))
		}
	}
	if _, known := classify(archX8664, -1); !known {
		t.Error("a negative number on a known arch is unknown")
	}
	if _, known := classify(1, 2); known {
		t.Error("an unknown arch is known")
	}
}

// orderedMatchesGeneral reports how scan (kernel order first) and scanFrom
// alone read body, when they differ.
func orderedMatchesGeneral(body []byte) (bool, string) {
	var got, want sysRec
	var gl, wl lazyFields
	got = sysRec{auid: -1, uid: -1, gid: -1, euid: -1, egid: -1, ses: -1, nr: -1}
	want = got
	got.scan(body, &gl)
	want.scanFrom(body, 0, &wl)
	if !sysRecEqual(&got, &want) || gl != wl {
		return false, fmt.Sprintf("%q:\nscan     %+v %+v\nscanFrom %+v %+v", body, got, gl, want, wl)
	}
	return true, ""
}

// TestSyscallOrderedEdges: the kernel-order reading (scanOrdered) gives
// what the general one gives on real bodies and on every kind of surprise
// at every field: the body cut at each byte, two spaces or none between
// fields, and each value replaced by an empty, quoted (with a space),
// signed, overlong (19 digits), hex-like or odd-byte one.
func TestSyscallOrderedEdges(t *testing.T) {
	_, bodies := captureRecords(t)
	if len(bodies) > 8 {
		bodies = bodies[:8]
	}
	bodies = append(bodies, []byte(`arch=c000003e syscall=257 success=no exit=-2 a0=ffffff9c a1=1 a2=241 a3=1b6 items=1 ppid=1 pid=2 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="x" exe="/x" key=(null)`))
	check := func(b []byte) {
		t.Helper()
		if ok, why := orderedMatchesGeneral(b); !ok {
			t.Fatal(why)
		}
	}
	values := []string{"", `"a b"`, `'q w'`, "-", "-7", "--7", "1234567890123456789", "0x10", "12ab", "\xfa\xff", "yes", "no", `"unterminated`, "=", "a0=1",
		"12345678", "123456789", "1234567890123456", "12345678901234567", "-123456789012345", "-1234567890123456", "12345678a0123", "1234567812a", "0000000000000000"}
	for _, body := range bodies {
		check(body)
		for cut := range len(body) {
			check(body[:cut])
		}
		// Field boundaries: each space outside quotes.
		var spaces []int
		inq := byte(0)
		for i, c := range body {
			switch {
			case inq != 0 && c == inq:
				inq = 0
			case inq == 0 && (c == '"' || c == '\''):
				inq = c
			case inq == 0 && c == ' ':
				spaces = append(spaces, i)
			}
		}
		for _, sp := range spaces {
			check(slices.Concat(body[:sp], []byte(" "), body[sp:]))         // two spaces
			check(slices.Concat(body[:sp], body[sp+1:]))                    // none
			check(slices.Concat(body[:sp+1], []byte("bare "), body[sp+1:])) // a bare word
		}
		// Each value replaced.
		starts := append([]int{-1}, spaces...)
		for k, sp := range starts {
			eq := bytes.IndexByte(body[sp+1:], '=')
			if eq < 0 {
				continue
			}
			vs := sp + 1 + eq + 1
			ve := len(body)
			if k+1 < len(starts) {
				ve = starts[k+1]
			}
			if vs > ve {
				continue
			}
			for _, v := range values {
				check(slices.Concat(body[:vs], []byte(v), body[ve:]))
			}
		}
	}
}

// FuzzSyscallOrdered: scan (the kernel order first) reads any body as the
// general reading alone does, byte fields at the same positions.
//
//	go test -run '^$' -fuzz '^FuzzSyscallOrdered$' -fuzztime 30s ./sources/auditd
func FuzzSyscallOrdered(f *testing.F) {
	_, bodies := captureRecords(f)
	for _, b := range bodies {
		f.Add(b)
	}
	f.Add([]byte(`arch=c000003e syscall=42 success=no exit=-115 a0=3 a1=7ffd a2=10 a3=0 items=0 ppid=1 pid=2 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=(none) ses=7 comm="curl" exe="/usr/bin/curl" key=(null)`))
	f.Add([]byte(`arch=c000003e syscall=1 success=yes exit=5 a0=1 a1=2 a2=3 a3=4 items=0 ppid=1 pid=2 auid=3 uid=4 gid=5 euid=6 egid=7 ses=8 items=1 comm="late" exe="/x"`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if ok, why := orderedMatchesGeneral(body); !ok {
			t.Fatal(why)
		}
	})
}
