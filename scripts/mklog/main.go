// Command mklog builds a large auditd log for benchmarks by repeating a real capture
// (testdata/capture/raw.log by default) with every copy's timestamps and serials
// shifted past the previous copy's, so that each event stays distinct and in order.
//
//	go run ./scripts/mklog -n 500000 -o /tmp/big.log
//
// With -mix DIR it builds the realistic noisy log instead: the capture interleaved with
// every auditd text log of DIR/auditd-raw and DIR/auditd-enriched (the public samples of
// many distributions and real hosts in ../shared/samples, *.log and *.txt), all of them
// repeated round after round until -n lines, every event restamped so that the whole
// file spans -span (24 h) in time order with serials that never repeat:
//
//	go run ./scripts/mklog -mix ../shared/samples -n 1000000 -o /tmp/mixed.log
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	in := flag.String("i", "testdata/capture/raw.log", "auditd log to repeat")
	out := flag.String("o", "", "output file (required)")
	n := flag.Int("n", 500000, "minimum number of lines to write")
	mix := flag.String("mix", "", "samples directory: interleave its auditd logs with the capture")
	span := flag.Duration("span", 24*time.Hour, "with -mix: the time the whole file spans")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "mklog: -o is required")
		os.Exit(2)
	}
	var lines int
	var err error
	if *mix != "" {
		lines, err = buildMixed(*in, *mix, *out, *n, *span)
	} else {
		lines, err = build(*in, *out, *n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mklog:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d lines\n", *out, lines)
}

// stamp is one record's audit(sec.milli:serial) and where it sits in the line.
type stamp struct {
	start, end int // bounds of "sec.milli:serial" inside the line
	sec, milli int64
	serial     int64
	hasStamp   bool
}

var marker = []byte("msg=audit(")

func parse(line []byte) stamp {
	i := bytes.Index(line, marker)
	if i < 0 {
		return stamp{}
	}
	s := i + len(marker)
	e := bytes.IndexByte(line[s:], ')')
	if e < 0 {
		return stamp{}
	}
	body := line[s : s+e]
	dot, colon := bytes.IndexByte(body, '.'), bytes.IndexByte(body, ':')
	if dot < 0 || colon < dot {
		return stamp{}
	}
	sec, err1 := strconv.ParseInt(string(body[:dot]), 10, 64)
	ms, err2 := strconv.ParseInt(string(body[dot+1:colon]), 10, 64)
	ser, err3 := strconv.ParseInt(string(body[colon+1:]), 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return stamp{}
	}
	return stamp{start: s, end: s + e, sec: sec, milli: ms, serial: ser, hasStamp: true}
}

func build(inPath, outPath string, want int) (int, error) {
	data, err := os.ReadFile(inPath)
	if err != nil {
		return 0, err
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	stamps := make([]stamp, len(lines))
	var minSec, maxSec, minSer, maxSer int64 = 1 << 62, 0, 1 << 62, 0
	for i, l := range lines {
		st := parse(l)
		stamps[i] = st
		if st.hasStamp {
			minSec, maxSec = min(minSec, st.sec), max(maxSec, st.sec)
			minSer, maxSer = min(minSer, st.serial), max(maxSer, st.serial)
		}
	}
	if maxSec == 0 {
		return 0, fmt.Errorf("%s: no audit records", inPath)
	}
	secSpan, serSpan := maxSec-minSec+1, maxSer-minSer+1
	f, err := os.Create(outPath)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	written := 0
	for k := int64(0); written < want; k++ {
		for i, l := range lines {
			st := stamps[i]
			if !st.hasStamp {
				w.Write(l)
			} else {
				w.Write(l[:st.start])
				fmt.Fprintf(w, "%d.%03d:%d", st.sec+k*secSpan, st.milli, st.serial+k*serSpan)
				w.Write(l[st.end:])
			}
			written++
		}
	}
	return written, finish(w, f)
}

// finish flushes w into f and closes f, reporting the first failure.
func finish(w *bufio.Writer, f *os.File) error {
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
