package auditd

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math/bits"
)

// Syscalls: the SYSCALL record of an event, read in one pass, and what its
// number means on each arch (sysInfo); the record decides whether the rest
// of the event is kept at all (interesting).

// unset is the kernel's "no value" for auid and ses.
const unset = 4294967295

// sysHead is what the in-order grouper reads of every SYSCALL record
// (seeProcess and whether the event is kept). Scan's splitter hands the
// grouper this much for every record and a whole sysRec only for the
// records that are kept: the splitter writes on one core what the grouper
// reads on the other, and most SYSCALL records of a busy host are not kept.
type sysHead struct {
	pid, ppid int
	// ident hashes comm and exe as logged (identOf) when Scan's
	// splitter read the record, 0 when not: seeProcess compares it
	// instead of the line's bytes, which another core has just written.
	ident uint64
	keep  bool  // interesting(story) as parse was told story
	full  int32 // in a Scan block: the index of the whole record in chunk.sys, -1 if not kept
	comm  []byte
	exe   []byte
}

// sysRec is a SYSCALL record's fields. Byte slices point into the event's
// buffer and live as long as the event.
type sysRec struct {
	sysHead
	arch                       uint64
	nr                         int64
	success, hasSuccess        bool
	exit                       int64
	a                          [4]uint64
	items                      int
	auid, uid, gid, euid, egid int64
	ses                        int64
	tty, key, enriched         []byte
	rest                       []byte // the body after exe=
}

// identSeed keys identOf for the run: a log cannot choose records whose
// hashes collide without knowing it.
var identSeed = maphash.MakeSeed()

// identOf hashes a process's comm and exe as logged. Equal hashes of
// equal-length values are taken as equal values: with a 64-bit hash keyed
// at random per run, a wrong match is a 2^-64 chance per record.
func identOf(comm, exe []byte) uint64 {
	return maphash.Bytes(identSeed, comm) ^ bits.RotateLeft64(maphash.Bytes(identSeed, exe), 17)
}

// parse reads a SYSCALL body in one pass. It runs on every SYSCALL record
// of the log, so it tokenizes inline and dispatches on the key's length
// before comparing bytes. The arguments and ids (a0–a3, auid, uid, gid,
// euid, egid, ses) are only located as they pass, and decoded at the end
// if the record is interesting(story): most records of a busy host are
// not, and nothing reads those fields of a record that is not.
func (s *sysRec) parse(body []byte, story bool) {
	*s = sysRec{sysHead: sysHead{full: -1}, auid: -1, uid: -1, gid: -1, euid: -1, egid: -1, ses: -1, nr: -1}
	var l lazyFields
	s.scan(body, &l)
	s.keep = s.interesting(story)
	if l.seen != 0 && s.keep {
		s.decodeLazy(body, &l)
	}
}

// Fields parse locates but decodes only for interesting records, by index
// in lazyFields.
const (
	lzA0   = iota // a0..a3: lzA0+n
	lzAuid = iota + 3
	lzUID
	lzGID
	lzEuid
	lzEgid
	lzSes
	lzCount
)

// lazyFields is where the last occurrence of each lazily decoded field's
// value lies in the body (the plain reading keeps the last one too).
type lazyFields struct {
	seen     uint16 // bit per field
	from, to [lzCount]int
}

func (l *lazyFields) set(f, from, to int) {
	l.seen |= 1 << f
	l.from[f], l.to[f] = from, to
}

// decodeLazy decodes the located fields as the plain reading would have.
func (s *sysRec) decodeLazy(b []byte, l *lazyFields) {
	ids := [lzCount]*int64{lzAuid: &s.auid, lzUID: &s.uid, lzGID: &s.gid, lzEuid: &s.euid, lzEgid: &s.egid, lzSes: &s.ses}
	for f := range lzCount {
		if l.seen&(1<<f) == 0 {
			continue
		}
		v := b[l.from[f]:l.to[f]]
		if f < lzAuid {
			s.a[f-lzA0], _ = hexU64(v)
		} else {
			*ids[f] = idVal(v)
		}
	}
}

// scan is parse's pass over the body: the fields every record needs are
// decoded, the lazy ones located in l. The kernel writes the fields in one
// order (kernelOrder), which scanOrdered reads at a word compare per key;
// from the first surprise on, scanFrom reads the rest of the body as it
// reads any body: the result is the same either way.
func (s *sysRec) scan(b []byte, l *lazyFields) {
	if i, done := s.scanOrdered(b, l); !done {
		s.scanFrom(b, i, l)
	}
}

// orderedKey is "key=" as a little-endian word (w) under mask m (its
// first eight bytes), and its length n.
type orderedKey struct {
	w, m uint64
	n    int
}

// keyWord is k's orderedKey.
func keyWord(k string) orderedKey {
	return orderedKey{w: leWord(k), m: ^uint64(0) >> (64 - 8*min(len(k), 8)), n: len(k)}
}

// kernelOrder is the order audit_log_exit (kernel/auditsc.c) writes a
// SYSCALL record's fields in, up to ses= (comm= and exe= follow; 99.5% of
// the SYSCALL records of the README's mixed log; the rest differ in a
// field or two and are read by scanFrom from there). scanOrdered reads
// them in this order, kernelOrder[k] for the k-th.
var kernelOrder = func() (out [22]orderedKey) {
	ks := []string{"arch", "syscall", "success", "exit", "a0", "a1", "a2", "a3", "items", "ppid", "pid",
		"auid", "uid", "gid", "euid", "suid", "fsuid", "egid", "sgid", "fsgid", "tty", "ses"}
	if len(ks) != len(out) {
		panic("kernelOrder: the array's length is not the number of fields")
	}
	for i, k := range ks {
		out[i] = keyWord(k + "=")
	}
	return out
}()

// leWord is the first eight bytes of s (zeros past its end) as a
// little-endian word, as binary.LittleEndian.Uint64 loads them.
func leWord(s string) uint64 {
	var w [8]byte
	copy(w[:], s)
	return binary.LittleEndian.Uint64(w[:])
}

// archWords are the words of the arch values of the tables (eight hex
// digits each); scanOrdered leaves any other to scanFrom.
var archWords = [...]struct {
	w    uint64
	arch uint64
}{{leWord("c000003e"), archX8664}, {leWord("c00000b7"), archAarch64}, {leWord("40000003"), archI386}}

// scanOrdered reads the fields of b that come in kernelOrder and then
// comm= and exe=, each as scanFrom reads it. done is true when it read up
// to exe=, as scanFrom returns there too; otherwise the fields before i
// are read and scanFrom must go on from i. It reads only the plain form
// of each field: on any other (a key out of order, two spaces, a quoted
// or overlong value, a number that is not plain digits, an unknown arch,
// the body's last bytes) it stops at that field and leaves it to
// scanFrom. One word holds a key and, mostly, its value and the space
// after it: keyAt compares the key under a mask, spaceIn finds the space
// (the key has none). The fields are written out one by one, with
// helpers the compiler inlines: a loop over kernelOrder cost twice the
// instructions (table loads, a dispatch, and spills of the loop's
// variables).
func (s *sysRec) scanOrdered(b []byte, l *lazyFields) (i int, done bool) {
	// Words are sliced from w, w[j:j+8]: checked against its length
	// alone. The fields keep b's capacity (rebase reads it).
	w := b[:len(b):len(b)]
	var (
		x  uint64
		e  int
		v  int64
		ok bool
	)
	// arch=
	if x, ok = keyAt(w, i, &kernelOrder[0]); !ok || !plainAt(b, i+5) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+5); e < 0 {
			return i, false
		}
	}
	if s.arch = archOf(w, i+5, e); s.arch == 0 {
		return i, false
	}
	i = e + 1
	// syscall=
	if x, ok = keyAt(w, i, &kernelOrder[1]); !ok || !plainAt(b, i+8) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+8); e < 0 {
			return i, false
		}
	}
	if v, ok = digitsIn(b, i+8, e); !ok {
		if v, ok = plainNumber(w, i+8, e); !ok {
			return i, false
		}
	}
	s.nr = v
	i = e + 1
	// success=
	if x, ok = keyAt(w, i, &kernelOrder[2]); !ok || !plainAt(b, i+8) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+8); e < 0 {
			return i, false
		}
	}
	s.hasSuccess = true
	s.success = string(b[i+8:e]) == "yes"
	i = e + 1
	// exit=
	if x, ok = keyAt(w, i, &kernelOrder[3]); !ok || !plainAt(b, i+5) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+5); e < 0 {
			return i, false
		}
	}
	if v, ok = digitsIn(b, i+5, e); !ok {
		if v, ok = plainNumber(w, i+5, e); !ok {
			return i, false
		}
	}
	s.exit = v
	i = e + 1
	// a0=
	if x, ok = keyAt(w, i, &kernelOrder[4]); !ok || !plainAt(b, i+3) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+3); e < 0 {
			return i, false
		}
	}
	l.set(lzA0, i+3, e)
	i = e + 1
	// a1=
	if x, ok = keyAt(w, i, &kernelOrder[5]); !ok || !plainAt(b, i+3) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+3); e < 0 {
			return i, false
		}
	}
	l.set(lzA0+1, i+3, e)
	i = e + 1
	// a2=
	if x, ok = keyAt(w, i, &kernelOrder[6]); !ok || !plainAt(b, i+3) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+3); e < 0 {
			return i, false
		}
	}
	l.set(lzA0+2, i+3, e)
	i = e + 1
	// a3=
	if x, ok = keyAt(w, i, &kernelOrder[7]); !ok || !plainAt(b, i+3) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+3); e < 0 {
			return i, false
		}
	}
	l.set(lzA0+3, i+3, e)
	i = e + 1
	// items=
	if x, ok = keyAt(w, i, &kernelOrder[8]); !ok || !plainAt(b, i+6) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+6); e < 0 {
			return i, false
		}
	}
	if v, ok = digitsIn(b, i+6, e); !ok {
		if v, ok = plainNumber(w, i+6, e); !ok {
			return i, false
		}
	}
	s.items = int(v)
	i = e + 1
	// ppid=
	if x, ok = keyAt(w, i, &kernelOrder[9]); !ok || !plainAt(b, i+5) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+5); e < 0 {
			return i, false
		}
	}
	if v, ok = digitsIn(b, i+5, e); !ok {
		if v, ok = plainNumber(w, i+5, e); !ok {
			return i, false
		}
	}
	s.ppid = int(v)
	i = e + 1
	// pid=
	if x, ok = keyAt(w, i, &kernelOrder[10]); !ok || !plainAt(b, i+4) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+4); e < 0 {
			return i, false
		}
	}
	if v, ok = digitsIn(b, i+4, e); !ok {
		if v, ok = plainNumber(w, i+4, e); !ok {
			return i, false
		}
	}
	s.pid = int(v)
	i = e + 1
	// auid=
	if x, ok = keyAt(w, i, &kernelOrder[11]); !ok || !plainAt(b, i+5) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+5); e < 0 {
			return i, false
		}
	}
	l.set(lzAuid, i+5, e)
	i = e + 1
	// uid=
	if x, ok = keyAt(w, i, &kernelOrder[12]); !ok || !plainAt(b, i+4) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+4); e < 0 {
			return i, false
		}
	}
	l.set(lzUID, i+4, e)
	i = e + 1
	// gid=
	if x, ok = keyAt(w, i, &kernelOrder[13]); !ok || !plainAt(b, i+4) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+4); e < 0 {
			return i, false
		}
	}
	l.set(lzGID, i+4, e)
	i = e + 1
	// euid=
	if x, ok = keyAt(w, i, &kernelOrder[14]); !ok || !plainAt(b, i+5) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+5); e < 0 {
			return i, false
		}
	}
	l.set(lzEuid, i+5, e)
	i = e + 1
	// suid=
	if x, ok = keyAt(w, i, &kernelOrder[15]); !ok || !plainAt(b, i+5) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+5); e < 0 {
			return i, false
		}
	}
	i = e + 1
	// fsuid=
	if x, ok = keyAt(w, i, &kernelOrder[16]); !ok || !plainAt(b, i+6) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+6); e < 0 {
			return i, false
		}
	}
	i = e + 1
	// egid=
	if x, ok = keyAt(w, i, &kernelOrder[17]); !ok || !plainAt(b, i+5) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+5); e < 0 {
			return i, false
		}
	}
	l.set(lzEgid, i+5, e)
	i = e + 1
	// sgid=
	if x, ok = keyAt(w, i, &kernelOrder[18]); !ok || !plainAt(b, i+5) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+5); e < 0 {
			return i, false
		}
	}
	i = e + 1
	// fsgid=
	if x, ok = keyAt(w, i, &kernelOrder[19]); !ok || !plainAt(b, i+6) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+6); e < 0 {
			return i, false
		}
	}
	i = e + 1
	// tty=
	if x, ok = keyAt(w, i, &kernelOrder[20]); !ok || !plainAt(b, i+4) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+4); e < 0 {
			return i, false
		}
	}
	s.tty = b[i+4 : e]
	i = e + 1
	// ses=
	if x, ok = keyAt(w, i, &kernelOrder[21]); !ok || !plainAt(b, i+4) {
		return i, false
	}
	if e = spaceIn(x, i); e < 0 {
		if e = spaceAfter(w, i+8, i+4); e < 0 {
			return i, false
		}
	}
	l.set(lzSes, i+4, e)
	i = e + 1

	// comm= and exe=, usually quoted (any value, as scanFrom reads it).
	if i+5 > len(b) || string(b[i:i+5]) != "comm=" {
		return i, false
	}
	vs := i + 5
	e = valEnd(b, vs)
	s.comm = b[vs:e]
	if e+4 >= len(b) || b[e] != ' ' || string(b[e+1:e+5]) != "exe=" {
		return e, false // scanFrom reads from e as from after any value
	}
	vs = e + 5
	e = valEnd(b, vs)
	s.exe = b[vs:e]
	s.rest = b[e:]
	return e, true
}

// keyAt is the word at w[i:] and whether it starts with o's key; false
// too in the body's last bytes.
func keyAt(w []byte, i int, o *orderedKey) (uint64, bool) {
	if i+8 > len(w) {
		return 0, false
	}
	x := binary.LittleEndian.Uint64(w[i : i+8])
	return x, x&o.m == o.w
}

// plainAt reports whether a value starts at b[vs] and is not quoted.
func plainAt(b []byte, vs int) bool {
	return vs < len(b) && b[vs] != '"' && b[vs] != '\''
}

// spaceIn is i plus the offset of the first space in x, the word at i
// (the lowest of swarZero's marks is exact), or -1.
func spaceIn(x uint64, i int) int {
	if m := swarZero(x ^ swarOnes*' '); m != 0 {
		return i + bits.TrailingZeros64(m)>>3
	}
	return -1
}

// spaceAfter is the first space at or after j, a word at a time, for a
// value starting at vs that is not over 16 bytes long, or -1.
func spaceAfter(w []byte, j, vs int) int {
	for ; j+8 <= len(w) && j-vs < 16; j += 8 {
		if e := spaceIn(binary.LittleEndian.Uint64(w[j:j+8]), j); e >= 0 {
			return e
		}
	}
	return -1
}

// archOf is the arch of the value w[vs:e] when it is one of archWords,
// else 0.
func archOf(w []byte, vs, e int) uint64 {
	if e-vs != 8 {
		return 0
	}
	z := binary.LittleEndian.Uint64(w[vs : vs+8])
	for _, a := range archWords {
		if z == a.w {
			return a.arch
		}
	}
	return 0
}

// digitsIn reads b[vs:e] as atoiAll does when it is one to eight digits
// (most numbers of a SYSCALL record): a byte loop the compiler inlines,
// where plainNumber is a call.
func digitsIn(b []byte, vs, e int) (v int64, ok bool) {
	if e-vs > 8 || vs >= e {
		return 0, false
	}
	for _, c := range b[vs:e] {
		c -= '0'
		if c > 9 {
			return 0, false
		}
		v = v*10 + int64(c)
	}
	return v, true
}

// plainNumber reads w[vs:e] as atoiAll does when it is up to 16 digits,
// or a minus and up to 15; ok is false for any other value.
func plainNumber(w []byte, vs, e int) (int64, bool) {
	neg := w[vs] == '-'
	if neg {
		vs++
	}
	nd := e - vs
	if nd == 0 || nd > 16 || vs+8 > len(w) {
		return 0, false
	}
	z := binary.LittleEndian.Uint64(w[vs : vs+8])
	var v uint64
	if nd <= 8 {
		if digitRun(z) < nd {
			return 0, false
		}
		v = eightDigits(z, nd)
	} else {
		if vs+16 > len(w) {
			return 0, false
		}
		z2 := binary.LittleEndian.Uint64(w[vs+8 : vs+16])
		if digitRun(z) < 8 || digitRun(z2) < nd-8 {
			return 0, false
		}
		v = eightDigits(z, 8)*uint64(pow10[nd-8]) + eightDigits(z2, nd-8)
	}
	if neg {
		return -int64(v), true
	}
	return int64(v), true
}

// pow10[d] is 10^d.
var pow10 = [9]int64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// valEnd is where the value starting at b[vs] ends, as scanFrom reads it:
// after its closing quote, else at the next space or the end.
func valEnd(b []byte, vs int) int {
	if vs < len(b) && (b[vs] == '"' || b[vs] == '\'') {
		// comm and exe: short, a word at a time beats a search's call.
		if e := scanTo(b, vs+1, b[vs], b[vs]); e < len(b) {
			return e + 1
		}
		return len(b)
	}
	return scanTo(b, vs, ' ', ' ')
}

// scanFrom is the general reading of scan from offset i: any order, any
// repetition (the last occurrence of a field wins), bare words skipped.
func (s *sysRec) scanFrom(b []byte, i int, l *lazyFields) {
	n := len(b)
	for i < n {
		if b[i] == ' ' {
			i++
			continue
		}
		ks := i
		// Keys and values are short: a byte loop beats a call.
		for i < n && b[i] != '=' && b[i] != ' ' {
			i++
		}
		if i >= n {
			return
		}
		if b[i] == ' ' {
			continue // a bare word: skip it
		}
		k := b[ks:i]
		i++
		vs := i
		if i < n && (b[i] == '"' || b[i] == '\'') {
			if e := bytes.IndexByte(b[i+1:], b[i]); e < 0 {
				i = n
			} else {
				i += e + 2
			}
		} else {
			for i < n && b[i] != ' ' {
				i++
			}
		}
		v := b[vs:i]
		switch len(k) {
		case 2:
			if k[0] == 'a' && k[1] >= '0' && k[1] <= '3' {
				l.set(lzA0+int(k[1]-'0'), vs, i)
			}
		case 3:
			switch string(k) {
			case "pid":
				x, _ := atoiAll(v)
				s.pid = int(x)
			case "uid":
				l.set(lzUID, vs, i)
			case "gid":
				l.set(lzGID, vs, i)
			case "ses":
				l.set(lzSes, vs, i)
			case "tty":
				s.tty = v
			case "key":
				s.key = v
			case "exe":
				s.exe = v
				// key (and subj) follow exe; plan reads key only for
				// events that are emitted.
				s.rest = b[i:]
				return
			}
		case 4:
			switch string(k) {
			case "arch":
				s.arch, _ = hexU64(v)
			case "exit":
				s.exit, _ = atoiAll(v)
			case "ppid":
				x, _ := atoiAll(v)
				s.ppid = int(x)
			case "auid":
				l.set(lzAuid, vs, i)
			case "euid":
				l.set(lzEuid, vs, i)
			case "egid":
				l.set(lzEgid, vs, i)
			case "comm":
				s.comm = v
			}
		case 5:
			if string(k) == "items" {
				x, _ := atoiAll(v)
				s.items = int(x)
			}
		case 7:
			switch string(k) {
			case "syscall":
				s.nr, _ = atoiAll(v)
			case "success":
				s.hasSuccess = true
				s.success = string(v) == "yes"
			}
		}
	}
}

// rebase moves the record's byte fields from the line they were parsed
// from to a copy of that line (the event's buffer), so they outlive the
// read block.
func (s *sysRec) rebase(from, to []byte) {
	for _, f := range []*[]byte{&s.comm, &s.exe, &s.tty, &s.key, &s.rest, &s.enriched} {
		if *f != nil {
			off := cap(from) - cap(*f) // *f is a subslice of from
			*f = to[off : off+len(*f)]
		}
	}
}

// keyVal is the rule key of the record.
func (s *sysRec) keyVal() []byte {
	if s.key != nil {
		return s.key
	}
	return field(s.rest, "key")
}

// sysClass is what a syscall means for file events and attribution.
type sysClass uint8

const (
	sysOther   sysClass = iota
	sysOpen             // open-like: flags decide overwrite (flagArg says where)
	sysCreate           // creat, mknod, link, symlink, mkdir: CREATE items
	sysRename           // rename*: one rename event, target + source
	sysDelete           // unlink*, rmdir: DELETE items
	sysExec             // execve*: process table
	sysAccept           // accept*: SOCKADDR gives the peer
	sysFork             // clone, fork, vfork: the child (exit) inherits the parent's newest connection
	sysChmod            // chmod family: an attribute change, for stories (flagArg is the mode argument)
	sysConnect          // connect: SOCKADDR gives the peer, for stories
)

// sysInfo classifies one syscall number of one arch. flagArg is the index
// of the open flags argument (a1 for open, a2 for openat), -1 when unknown;
// for the chmod family, the index of the mode argument.
type sysInfo struct {
	class   sysClass
	flagArg int8
	name    string
}

const (
	archX8664   = 0xc000003e
	archAarch64 = 0xc00000b7
	archI386    = 0x40000003
)

var (
	x8664 = map[uint16]sysInfo{
		2: {sysOpen, 1, "open"}, 257: {sysOpen, 2, "openat"}, 437: {sysOpen, -1, "openat2"},
		85: {sysOpen, -2, "creat"}, 133: {sysCreate, -1, "mknod"}, 259: {sysCreate, -1, "mknodat"},
		86: {sysCreate, -1, "link"}, 265: {sysCreate, -1, "linkat"}, 88: {sysCreate, -1, "symlink"},
		266: {sysCreate, -1, "symlinkat"}, 83: {sysCreate, -1, "mkdir"}, 258: {sysCreate, -1, "mkdirat"},
		82: {sysRename, -1, "rename"}, 264: {sysRename, -1, "renameat"}, 316: {sysRename, -1, "renameat2"},
		87: {sysDelete, -1, "unlink"}, 263: {sysDelete, -1, "unlinkat"}, 84: {sysDelete, -1, "rmdir"},
		59: {sysExec, -1, "execve"}, 322: {sysExec, -1, "execveat"},
		43: {sysAccept, -1, "accept"}, 288: {sysAccept, -1, "accept4"},
		56: {sysFork, -1, "clone"}, 57: {sysFork, -1, "fork"}, 58: {sysFork, -1, "vfork"}, 435: {sysFork, -1, "clone3"},
		90: {sysChmod, 1, "chmod"}, 91: {sysChmod, 1, "fchmod"}, 268: {sysChmod, 2, "fchmodat"}, 452: {sysChmod, 2, "fchmodat2"},
		42: {sysConnect, -1, "connect"},
	}
	aarch64 = map[uint16]sysInfo{
		56: {sysOpen, 2, "openat"}, 437: {sysOpen, -1, "openat2"}, 33: {sysCreate, -1, "mknodat"},
		37: {sysCreate, -1, "linkat"}, 36: {sysCreate, -1, "symlinkat"}, 34: {sysCreate, -1, "mkdirat"},
		38: {sysRename, -1, "renameat"}, 276: {sysRename, -1, "renameat2"},
		35: {sysDelete, -1, "unlinkat"}, 221: {sysExec, -1, "execve"}, 281: {sysExec, -1, "execveat"},
		202: {sysAccept, -1, "accept"}, 242: {sysAccept, -1, "accept4"},
		220: {sysFork, -1, "clone"}, 435: {sysFork, -1, "clone3"},
		52: {sysChmod, 1, "fchmod"}, 53: {sysChmod, 2, "fchmodat"}, 452: {sysChmod, 2, "fchmodat2"},
		203: {sysConnect, -1, "connect"},
	}
	i386 = map[uint16]sysInfo{
		5: {sysOpen, 1, "open"}, 295: {sysOpen, 2, "openat"}, 437: {sysOpen, -1, "openat2"},
		8: {sysOpen, -2, "creat"}, 14: {sysCreate, -1, "mknod"}, 297: {sysCreate, -1, "mknodat"},
		9: {sysCreate, -1, "link"}, 303: {sysCreate, -1, "linkat"}, 83: {sysCreate, -1, "symlink"},
		304: {sysCreate, -1, "symlinkat"}, 39: {sysCreate, -1, "mkdir"}, 296: {sysCreate, -1, "mkdirat"},
		38: {sysRename, -1, "rename"}, 302: {sysRename, -1, "renameat"}, 353: {sysRename, -1, "renameat2"},
		10: {sysDelete, -1, "unlink"}, 301: {sysDelete, -1, "unlinkat"}, 40: {sysDelete, -1, "rmdir"},
		11: {sysExec, -1, "execve"}, 358: {sysExec, -1, "execveat"},
		120: {sysFork, -1, "clone"}, 2: {sysFork, -1, "fork"}, 190: {sysFork, -1, "vfork"}, 435: {sysFork, -1, "clone3"},
		15: {sysChmod, 1, "chmod"}, 94: {sysChmod, 1, "fchmod"}, 306: {sysChmod, 2, "fchmodat"}, 452: {sysChmod, 2, "fchmodat2"},
		362: {sysConnect, -1, "connect"},
	}
	// byName serves arches we have no table for, when an ENRICHED log
	// names the syscall (SYSCALL=openat).
	byName = func() map[string]sysInfo {
		m := map[string]sysInfo{}
		for _, t := range []map[uint16]sysInfo{x8664, aarch64, i386} {
			for _, v := range t {
				m[v.name] = v
			}
		}
		return m
	}()
)

// maxNr bounds the syscall numbers the tables name (all are below 512).
const maxNr = 512

// sysTable is one arch's table indexed by number: classify runs for every
// SYSCALL record (interesting asks it), and indexing an array costs a
// fraction of a map lookup.
type sysTable [maxNr]sysInfo

func tableOf(m map[uint16]sysInfo) *sysTable {
	var t sysTable
	for nr, si := range m {
		t[nr] = si // every key is below maxNr (TestSysTablesComplete)
	}
	return &t
}

var x8664T, aarch64T, i386T = tableOf(x8664), tableOf(aarch64), tableOf(i386)

// classify returns the syscall's meaning; known is false for an arch or
// number we have no table for (then PATH items alone decide).
func classify(arch uint64, nr int64) (sysInfo, bool) {
	var t *sysTable
	switch arch {
	case archX8664:
		t = x8664T
	case archAarch64:
		t = aarch64T
	case archI386:
		t = i386T
	default:
		return sysInfo{}, false
	}
	if nr < 0 || nr >= maxNr {
		return sysInfo{}, true
	}
	return t[nr], true
}

// info classifies the syscall, falling back to the ENRICHED SYSCALL= name.
func (s *sysRec) info() (sysInfo, bool) {
	if si, known := classify(s.arch, s.nr); known {
		return si, true
	}
	if len(s.enriched) > 0 {
		if name := field(s.enriched, "SYSCALL"); len(name) > 0 {
			si, ok := byName[string(name)]
			return si, ok
		}
	}
	return sysInfo{}, false
}

// interesting reports whether the event can yield a file event, feed
// attribution or, for a story, tell a connection; everything else is
// dropped record by record.
func (s *sysRec) interesting(story bool) bool {
	if s.failed(story) {
		return false
	}
	if s.items > 0 {
		return true
	}
	si, _ := s.info()
	return si.class == sysAccept || si.class == sysFork || (story && si.class == sysConnect)
}

// einprogress is -EINPROGRESS: a non-blocking connect (Go, curl, most
// clients) returns it, so audit logs success=no for a connection that
// goes on to be made.
const einprogress = -115

// failed reports whether the syscall failed. A non-blocking connect in
// progress is a connection for a story.
func (s *sysRec) failed(story bool) bool {
	if !s.hasSuccess || s.success {
		return false
	}
	if story && s.exit == einprogress {
		si, _ := s.info()
		return si.class != sysConnect
	}
	return true
}

// Open flags, the same on x86, arm64 and i386.
const (
	oAccMode = 0x3
	oWronly  = 0x1
	oCreat   = 0x40
	oTrunc   = 0x200
	oAppend  = 0x400
)

// rewrites reports whether an open with these flags replaces the content of
// the existing file it opens: O_TRUNC (creat always truncates), or a
// creating, write-only, non-appending open — how scp -t, sftp-server and
// vsftpd open an upload's target, truncating it only after the transfer.
// (touch opens an existing file the same way: audit cannot tell the two.)
// Read-write opens (databases, lock files) and appends are not rewrites.
func rewrites(si sysInfo, a *[4]uint64) bool {
	switch {
	case si.flagArg == -2:
		return true
	case si.flagArg < 0:
		return false
	}
	f := a[si.flagArg]
	return f&oTrunc != 0 || f&oCreat != 0 && f&oAccMode == oWronly && f&oAppend == 0
}
