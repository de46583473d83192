// Command mkterms writes ECS NDJSON of sftp-server file creations that the
// built-in rule matches, each of a distinct (host.id, process.executable,
// file.path) tuple, spread evenly over -span of event time: the input that
// measures the order-free scan's memory per new-terms tuple (issue 12's 1M
// tuples over 9 days):
//
//	go run ./scripts/mkterms -n 1000000 -o /tmp/terms.ndjson
//	/usr/bin/time -f %M xferhunt scan --ephemeral \
//	    --new-terms-fields host.id,process.executable,file.path /tmp/terms.ndjson
//
// With --state DIR (a new directory, then the same one again) it measures
// the history's write at the end of the input and a second run's load;
// the README gives the figures (Detection semantics, "scan is order free").
//
// -distinct below -n repeats the tuples round after round (later rounds are
// history, not new).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	out := flag.String("o", "", "output file (required)")
	n := flag.Int("n", 1_000_000, "events to write")
	distinct := flag.Int("distinct", 0, "distinct tuples (0: as many as events)")
	span := flag.Duration("span", 9*24*time.Hour, "event time the file spans")
	flag.Parse()
	if *out == "" || *n <= 0 {
		fmt.Fprintln(os.Stderr, "mkterms: -o is required and -n must be positive")
		os.Exit(2)
	}
	if err := write(*out, *n, *distinct, *span); err != nil {
		fmt.Fprintln(os.Stderr, "mkterms:", err)
		os.Exit(1)
	}
}

func write(path string, n, distinct int, span time.Duration) error {
	if distinct <= 0 || distinct > n {
		distinct = n
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	step := span / time.Duration(n)
	for i := range n {
		d := i % distinct
		ts := start.Add(time.Duration(i) * step).Format("2006-01-02T15:04:05.000Z")
		fmt.Fprintf(w, `{"@timestamp":%q,"event":{"category":["file"],"action":"creation","kind":"event","id":"ev-%d","type":["creation"]},`+
			`"host":{"id":"host-%04d","name":"web-%d","os":{"type":"linux"}},`+
			`"process":{"name":"sftp-server","executable":"/usr/lib/openssh/sftp-server-%d","pid":%d},`+
			`"user":{"name":"user%d"},"file":{"path":"/home/user%d/uploads/%d/report-%d.pdf","name":"report-%d.pdf"}}`+"\n",
			ts, i, d%16, d%16, d%50, 1000+i%30000, d%97, d%97, d%1000, d, d)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
