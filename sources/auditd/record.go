package auditd

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// Records: one line's header (type, msg=audit stamp, node=, the
// ENRICHED suffix) and its key=value body, read without allocating, and the
// value decoding (quoted, hex) every later stage uses.

// header is what every audit record line starts with:
// [node=N ]type=T msg=audit(SEC.MSEC:SERIAL): BODY[\x1dENRICHED]
type header struct {
	node     []byte // NAME of a "node=NAME " prefix (a central log of several hosts), else nil
	typ      []byte
	sec      int64
	msec     int64
	serial   uint64
	raw      []byte // the RAW part of the line (without the enriched suffix)
	body     []byte // key=value text after "): "
	enriched []byte // after \x1d, nil for RAW logs
	// nt is a PATH record's nametype read ahead (Scan's splitters);
	// ntUnread when it is not.
	nt nameType
}

// parseHeader splits one log line without allocating. ok is false when the
// line is not an audit record (garbage, truncated header).
func parseHeader(line []byte) (h header, ok bool) {
	ok = parseStamp(line, &h)
	if ok {
		h.splitEnriched(line)
	}
	return h, ok
}

// parseStamp is parseHeader without looking for the ENRICHED part: body
// runs to the end of the line and raw is the whole line. It is all a
// record that only moves the log's clock needs, and saves a search
// through the whole line. It fills h, which must be zero: a header
// returned by value costs its caller a stall per line (the copy's wide
// loads read the callee's narrower stores before they reach the cache).
// It runs on every line: the constant texts are compared as constants
// (inline), the type's end is found a word at a time and the stamp's
// numbers are read by stampWords when they have their usual widths.
func parseStamp(line []byte, h *header) (ok bool) {
	// auditd with name_format prefixes "node=NAME "; skip any such prefix
	// but insist that "type=" starts a word.
	i := 0
	if len(line) < len("type=") || string(line[:len("type=")]) != "type=" {
		j := bytes.Index(line, []byte(" type="))
		if j < 0 || !bytes.HasPrefix(line, []byte("node=")) {
			return false
		}
		h.node = line[len("node="):j]
		i = j + 1
	}
	// Offsets into line rather than reslicing: each reslice costs a few
	// checks and moves, on every line. Words are sliced from w, whose
	// capacity is its length (the check is one compare).
	w := line[:len(line):len(line)]
	t := i + len("type=")
	sp := t // the type's end
	for {
		if sp+8 > len(w) {
			for sp < len(w) && w[sp] != ' ' {
				sp++
			}
			break
		}
		if m := swarZero(binary.LittleEndian.Uint64(w[sp:sp+8]) ^ swarOnes*' '); m != 0 {
			sp += bits.TrailingZeros64(m) >> 3
			break
		}
		sp += 8
	}
	if sp == t || sp == len(line) {
		return false
	}
	h.typ = line[t:sp]
	const msgAudit = " msg=audit("
	p := sp + len(msgAudit)
	if p > len(line) || string(line[sp:p]) != msgAudit {
		return false
	}
	var n int
	if h.sec, h.msec, h.serial, n = stampWords(line[p:]); n == 0 {
		if h.sec, h.msec, h.serial, n, ok = stampDigits(line[p:]); !ok {
			return false
		}
	}
	p += n
	if p < len(line) && line[p] == ':' {
		p++
	}
	if p < len(line) && line[p] == ' ' {
		p++
	}
	h.body = line[p:]
	h.raw = line
	return true
}

// stampDigits reads "SEC.MSEC:SERIAL)" at the start of b; n is the length
// read, up to and with the ')'.
func stampDigits(b []byte) (sec, msec int64, serial uint64, n int, ok bool) {
	sec, n = atoi(b)
	if n == 0 || n >= len(b) || b[n] != '.' {
		return 0, 0, 0, 0, false
	}
	i := n + 1
	msec, n = atoi(b[i:])
	if n == 0 || i+n >= len(b) || b[i+n] != ':' {
		return 0, 0, 0, 0, false
	}
	i += n + 1
	var ser int64
	ser, n = atoi(b[i:])
	if n == 0 || i+n >= len(b) || b[i+n] != ')' {
		return 0, 0, 0, 0, false
	}
	return sec, msec, uint64(ser), i + n + 1, true
}

// stampWords is stampDigits for the stamps of every log since 2001 and
// until 2286: ten digits of seconds, three of milliseconds and a serial
// of one to seven digits, read in three words; n is 0 for any other
// stamp (stampDigits reads it).
func stampWords(b []byte) (sec, msec int64, serial uint64, n int) {
	if len(b) < 23 {
		return 0, 0, 0, 0
	}
	w1 := binary.LittleEndian.Uint64(b[0:8])   // SSSSSSSS
	w2 := binary.LittleEndian.Uint64(b[8:16])  // SS.MMM:R
	w3 := binary.LittleEndian.Uint64(b[15:23]) // R…) with R the serial
	// w1 all digits, w2 digits but for its '.' and ':'.
	const dots = 0x00ff000000ff0000
	if nonDigits(w1) != 0 || nonDigits(w2)&^dots != 0 || w2&dots != ':'<<48|'.'<<16 {
		return 0, 0, 0, 0
	}
	d := bits.TrailingZeros64(nonDigits(w3)) >> 3
	if d == 0 || d == 8 || byte(w3>>(8*d)) != ')' {
		return 0, 0, 0, 0
	}
	sec = int64(eightDigits(w1, 8))*100 + int64(byte(w2)-'0')*10 + int64(byte(w2>>8)-'0')
	msec = int64(byte(w2>>24)-'0')*100 + int64(byte(w2>>32)-'0')*10 + int64(byte(w2>>40)-'0')
	return sec, msec, eightDigits(w3, d), 15 + d + 1
}

// splitEnriched cuts the ENRICHED part (after \x1d) off a parseStamp
// header of line.
func (h *header) splitEnriched(line []byte) {
	if k := bytes.IndexByte(h.body, 0x1d); k >= 0 {
		h.enriched = h.body[k+1:]
		h.body = h.body[:k]
		h.raw = line[:len(line)-len(h.enriched)-1]
	}
}

type recKind uint8

const (
	rkOther recKind = iota
	rkSyscall
	rkCwd
	rkPath
	rkProctitle
	rkExecve
	rkSockaddr
	rkEOE
	rkUserStart // USER_START: a session opens (its records attribute)
	rkUserLogin // USER_LOGIN: a session record too, not its opening
	rkLogin     // LOGIN: the kernel assigns a session id (a new session)
	rkCredAcq   // CRED_ACQ: both session and PAM-by-pid
	rkPAM       // USER_AUTH, USER_ACCT
	rkUserEnd   // USER_END: a login session closes
)

func kindOf(t []byte) recKind {
	switch string(t) {
	case "SYSCALL":
		return rkSyscall
	case "CWD":
		return rkCwd
	case "PATH":
		return rkPath
	case "PROCTITLE":
		return rkProctitle
	case "EXECVE":
		return rkExecve
	case "SOCKADDR":
		return rkSockaddr
	case "EOE":
		return rkEOE
	case "USER_START":
		return rkUserStart
	case "USER_LOGIN":
		return rkUserLogin
	case "LOGIN":
		return rkLogin
	case "CRED_ACQ":
		return rkCredAcq
	case "USER_AUTH", "USER_ACCT":
		return rkPAM
	case "USER_END":
		return rkUserEnd
	}
	return rkOther
}

const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// scanTo returns the index of the first c1 or c2 in b at or after i, or
// len(b). It tests eight bytes at a time: keys and values of audit records
// are a few bytes long, and a byte loop spends most of its work on the
// loop itself. A word's mark (swarZero) is exact for its lowest match,
// the only one read.
func scanTo(b []byte, i int, c1, c2 byte) int {
	m1, m2 := swarOnes*uint64(c1), swarOnes*uint64(c2)
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if m := swarZero(x^m1) | swarZero(x^m2); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(b); i++ {
		if b[i] == c1 || b[i] == c2 {
			return i
		}
	}
	return len(b)
}

// swarZero sets the high bit of every zero byte of x. A borrow may also
// mark bytes above a zero one, never below: the lowest mark is exact.
func swarZero(x uint64) uint64 { return (x - swarOnes) &^ x & swarHigh }

// atoiMax is the most digits atoi reads: 18 cannot overflow an int64, so
// hostile input cannot wrap around.
const atoiMax = 18

// atoi reads leading decimal digits (at most atoiMax); n is how many were
// read. The numbers of audit records are short: a byte loop beats the
// word-wise reading (digitRun, eightDigits) but for the stamp's fixed
// widths (stampWords).
func atoi(b []byte) (v int64, n int) {
	for n < len(b) && n < atoiMax && b[n] >= '0' && b[n] <= '9' {
		v = v*10 + int64(b[n]-'0')
		n++
	}
	return v, n
}

// digitRun is how many of x's bytes, from the lowest (the first in memory),
// are ASCII digits before the first that is not (0 to 8). A byte c is a
// digit when its high nibble is 3 and stays 3 after adding 6. The addition
// carries only out of a byte of 0xfa or more, which is no digit, and only
// into bytes above it: the lowest marked byte is exact.
func digitRun(x uint64) int {
	return bits.TrailingZeros64(nonDigits(x)) >> 3 // 64>>3 = 8 when every byte is a digit
}

// nonDigits is nonzero in every byte of x that is no ASCII digit, and in
// no byte below the lowest such one (digitRun); it is exact in every
// byte when no byte of x is 0xfa or more.
func nonDigits(x uint64) uint64 {
	const hi, three, six = 0xf0f0f0f0f0f0f0f0, 0x3030303030303030, 0x0606060606060606
	return (x&hi ^ three) | ((x+six)&hi ^ three)
}

// eightDigits is the number written by the d (1 to 8) lowest bytes of x,
// all digits: the digits are moved to the top (the bytes below become
// leading zeros), then combined in pairs, fours and eights by three
// multiplications (the SWAR conversion of simdjson and fast_float).
func eightDigits(x uint64, d int) uint64 {
	// Bytes above the digits may borrow; borrows only move up, and the
	// shift drops those bytes.
	x = (x - 0x3030303030303030) << (64 - 8*uint(d))
	x = x*10 + x>>8 // each 16-bit lane: its two digits' value in the low byte
	const mask, mul1, mul2 = 0x000000ff000000ff, 100 + 1000000<<32, 1 + 10000<<32
	return (x&mask*mul1 + (x>>16)&mask*mul2) >> 32
}

// atoiAll parses a whole value as a decimal number.
//
// A value of 8 to 16 digits (an unset auid or ses, 4294967295, is ten) is
// read in two words, the second ending with the value (they overlap):
// nothing past the value is read.
func atoiAll(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg = true
		b = b[1:]
	}
	var v int64
	if nd := len(b); nd >= 8 && nd <= 16 {
		z1 := binary.LittleEndian.Uint64(b[:8])
		z2 := binary.LittleEndian.Uint64(b[nd-8 : nd])
		if nonDigits(z1)|nonDigits(z2) != 0 {
			return 0, false
		}
		// z2's top nd-8 bytes are the digits after z1's.
		v = int64(eightDigits(z1, 8))
		if nd > 8 {
			v = v*pow10[nd-8] + int64(eightDigits(z2>>(8*uint(16-nd)), nd-8))
		}
	} else {
		var n int
		if v, n = atoi(b); n == 0 || n != len(b) {
			return 0, false
		}
	}
	if neg {
		v = -v
	}
	return v, true
}

func idVal(v []byte) int64 {
	n, ok := atoiAll(v)
	if !ok {
		return -1
	}
	return n
}

// hexU64 parses a hex value such as a syscall argument (a1=80241).
func hexU64(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		d, ok := unhex(c)
		if !ok {
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}

// hexVal maps a byte to its hex digit value, or 0xff.
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
		t[c-'a'+'A'] = byte(c - 'a' + 10)
	}
	return t
}()

func unhex(c byte) (byte, bool) {
	v := hexVal[c]
	return v, v != 0xff
}

// kv is a tokenizer over "k=v k2="quoted" k3='nested'" text. Values keep
// their quotes so the caller can tell quoted text from hex encoding.
type kv struct {
	b []byte
	i int
}

// next returns the next key and raw value; ok is false at the end.
func (t *kv) next() (key, val []byte, ok bool) {
	b := t.b
	for t.i < len(b) {
		for t.i < len(b) && b[t.i] == ' ' {
			t.i++
		}
		if t.i >= len(b) {
			return nil, nil, false
		}
		start := t.i
		eq := -1
		for t.i < len(b) && b[t.i] != ' ' {
			if b[t.i] == '=' {
				eq = t.i
				break
			}
			t.i++
		}
		if eq < 0 {
			continue // a bare word: skip it
		}
		key = b[start:eq]
		t.i = eq + 1
		vs := t.i
		if t.i < len(b) && (b[t.i] == '"' || b[t.i] == '\'') {
			q := b[t.i]
			e := bytes.IndexByte(b[t.i+1:], q)
			if e < 0 {
				t.i = len(b)
			} else {
				t.i += e + 2
			}
		} else if e := bytes.IndexByte(b[t.i:], ' '); e >= 0 {
			t.i += e
		} else {
			t.i = len(b)
		}
		return key, b[vs:t.i], true
	}
	return nil, nil, false
}

// field finds key=value anywhere in b where key starts a word (after a
// space, a quote, or at the start), including inside msg='...' of user
// space records. The returned value keeps its quotes.
func field(b []byte, key string) []byte {
	off := 0
	for {
		j := indexKey(b[off:], key)
		if j < 0 {
			return nil
		}
		j += off
		if j == 0 || b[j-1] == ' ' || b[j-1] == '\'' {
			return fieldValue(b, j+len(key)+1)
		}
		off = j + 1
	}
}

// fieldValue is the value that starts at b[vs:]: a quoted string with its
// quotes, else the text up to a space or a quote.
func fieldValue(b []byte, vs int) []byte {
	if vs < len(b) && (b[vs] == '"' || b[vs] == '\'') {
		e := bytes.IndexByte(b[vs+1:], b[vs])
		if e < 0 {
			return b[vs:]
		}
		return b[vs : vs+e+2]
	}
	// Up to the first space or quote: a word at a time (values are
	// mostly short, and a search is a call).
	return b[vs:scanTo(b, vs, ' ', '\'')]
}

// indexKey finds "key=" in b without building the needle on the heap.
func indexKey(b []byte, key string) int {
	off := 0
	for {
		j := bytes.Index(b[off:], []byte(key))
		if j < 0 {
			return -1
		}
		j += off
		if j+len(key) < len(b) && b[j+len(key)] == '=' {
			return j
		}
		off = j + 1
	}
}

// decode returns the text of an audit value: quoted → as is, hex → bytes,
// anything else (numbers, "?", "(null)", "(none)") → as is. Quoted text is
// returned without copying; hex is decoded into a new slice.
func decode(v []byte) []byte {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	if len(v) > 0 && (v[0] == '"' || v[0] == '\'') {
		return v[1:] // truncated quote: keep what is there
	}
	if isHex(v) {
		out := make([]byte, len(v)/2)
		for i := range out {
			out[i] = hexVal[v[2*i]]<<4 | hexVal[v[2*i+1]]
		}
		return out
	}
	return v
}

// decodeStr is decode as a string; "" for absent and placeholder values.
func decodeStr(v []byte) string {
	if len(v) == 0 || string(v) == "(null)" || string(v) == "?" || string(v) == "(none)" {
		return ""
	}
	return string(decode(v))
}

// isHex reports whether v is a non-empty, even-length run of hex digits:
// the kernel's encoding for untrusted strings that need escaping.
func isHex(v []byte) bool {
	if len(v) == 0 || len(v)%2 != 0 {
		return false
	}
	for _, c := range v {
		if hexVal[c] == 0xff {
			return false
		}
	}
	return true
}

// interner hands out one string per distinct decoded value. Names, paths
// and keys repeat from record to record (the same cwd, account, rule key),
// so most lookups allocate nothing; it is cleared when full to stay bounded.
type interner struct {
	m       map[string]string
	bytes   int // of the values in m
	scratch []byte
}

// internMax and internBytes bound an interner. The bytes matter too: a
// hostile log's values can be as long as a line (sources.MaxLine), and
// Scan keeps an interner per block in flight besides the grouper's.
const (
	internMax   = 8192
	internBytes = 1 << 20
)

// str is decodeStr through the interner.
func (in *interner) str(v []byte) string {
	if len(v) == 0 || string(v) == "(null)" || string(v) == "?" || string(v) == "(none)" {
		return ""
	}
	var d []byte
	switch {
	case len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0]:
		d = v[1 : len(v)-1]
	case len(v) > 0 && (v[0] == '"' || v[0] == '\''):
		d = v[1:]
	case isHex(v):
		in.scratch = in.scratch[:0]
		for i := 0; i+1 < len(v); i += 2 {
			in.scratch = append(in.scratch, hexVal[v[i]]<<4|hexVal[v[i+1]])
		}
		d = in.scratch
	default:
		d = v
	}
	return in.intern(d)
}

// intern returns the interner's string equal to d, adding one.
func (in *interner) intern(d []byte) string {
	if s, ok := in.m[string(d)]; ok {
		return s
	}
	if in.m == nil || len(in.m) >= internMax || in.bytes+len(d) > internBytes {
		in.m, in.bytes = make(map[string]string, 256), 0
	}
	s := string(d)
	in.bytes += len(s)
	in.m[s] = s
	return s
}
