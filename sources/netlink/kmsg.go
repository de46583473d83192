package netlink

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"
	"time"
)

// printedLog reads the kernel log for the audit records kauditd printed
// instead of delivering. When a unicast reader's socket is full the kernel
// retries a few times, then prints the record and — unless audit=1 was given
// at boot — drops it without counting it in its lost counter. The kernel log is
// the only place that loss is told, so a unicast source reads it and counts
// each printed record timed inside its window. The "callbacks suppressed"
// lines are not counted: printk's rate limit is shared by the whole kernel,
// its count arrives with whatever is printed next (minutes later, under
// another reader's run) and says nothing of when the swallowed lines were
// due; Suppressed keeps them apart as a hint.
type printedLog struct {
	f *os.File
	// since is the wall time from which a printed record is ours to count:
	// what the kernel printed before we were its reader was never ours.
	since time.Time
	// config is the serial of the last configuration change printed.
	config uint64
	buf    []byte
}

// openPrintedLog opens /dev/kmsg positioned at its end; nil when the kernel
// log cannot be read (the loss it would tell then goes uncounted).
func openPrintedLog(since time.Time) *printedLog {
	f, err := os.OpenFile("/dev/kmsg", os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil
	}
	if _, err := f.Seek(0, 2); err != nil {
		f.Close()
		return nil
	}
	return &printedLog{f: f, since: since, buf: make([]byte, 8192)}
}

// read returns how many undelivered records the log told of since the last
// call, the suppressed lines' counts, and whether one of our own
// configuration records (type 1305) was among the lines: the sign that the
// kernel printed past our window.
func (p *printedLog) read() (n, suppressed uint64, config bool) {
	if p == nil {
		return 0, 0, false
	}
	for range 100000 { // bounded: a log that never stops must not hold the caller
		k, err := syscall.Read(int(p.f.Fd()), p.buf)
		if errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.EPIPE) {
			continue // EPIPE: records overwritten before we read; go on
		}
		if err != nil || k <= 0 {
			return n, suppressed, config
		}
		l := parseKmsg(p.buf[:k])
		switch {
		case l.suppressed > 0:
			suppressed += l.suppressed
		case l.typ == 1305:
			// A configuration change is logged by design, and the
			// syscall records of its event follow it: none of them is
			// a loss.
			config = true
			p.config = l.serial
		case l.typ != 0 && l.serial != p.config && !l.at.Before(p.since):
			n++
		}
	}
	return n, suppressed, config
}

func (p *printedLog) close() {
	if p != nil {
		p.f.Close()
	}
}

// kmsgLine is what one /dev/kmsg record says of audit.
type kmsgLine struct {
	typ        int // audit record type of a printed record, else 0
	serial     uint64
	at         time.Time
	suppressed uint64 // count of a "kauditd_printk_skb: N callbacks suppressed" line
}

// parseKmsg reads one /dev/kmsg record ("prio,seq,usec,flags;text").
func parseKmsg(rec []byte) kmsgLine {
	var l kmsgLine
	i := bytes.IndexByte(rec, ';')
	if i < 0 {
		return l
	}
	text := rec[i+1:]
	if j := bytes.IndexByte(text, '\n'); j >= 0 {
		text = text[:j]
	}
	if rest, ok := bytes.CutPrefix(text, []byte("kauditd_printk_skb: ")); ok {
		if num, _, ok := bytes.Cut(rest, []byte(" callbacks suppressed")); ok {
			l.suppressed, _ = strconv.ParseUint(string(num), 10, 64)
		}
		return l
	}
	rest, ok := bytes.CutPrefix(text, []byte("audit: type="))
	if !ok {
		return l
	}
	typ, rest, _ := bytes.Cut(rest, []byte(" "))
	ts, ok := bytes.CutPrefix(rest, []byte("audit("))
	if !ok {
		return l
	}
	stamp, _, _ := bytes.Cut(ts, []byte(")"))
	sec, rest, _ := bytes.Cut(stamp, []byte("."))
	ms, serial, _ := bytes.Cut(rest, []byte(":"))
	t, err1 := strconv.Atoi(string(typ))
	s, err2 := strconv.ParseInt(string(sec), 10, 64)
	m, err3 := strconv.ParseInt(string(ms), 10, 64)
	n, err4 := strconv.ParseUint(string(serial), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return l
	}
	l.typ, l.serial, l.at = t, n, time.Unix(s, m*int64(time.Millisecond))
	return l
}
