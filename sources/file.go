package sources

import (
	"io"
)

// Stats counts what a recorded-file scan saw.
type Stats struct {
	Lines     uint64 // input lines read
	Records   uint64 // audit records recognised (or documents, for NDJSON)
	Events    uint64 // normalized file events emitted
	Context   uint64 // story events emitted besides (execs, connections, logins), see Event.Context
	Malformed uint64 // lines that could not be parsed, skipped
	Gaps      uint64 // records that arrived after their event was finished (reassembly gaps)
}

// Add sums counters, for a summary over several files.
func (s *Stats) Add(o Stats) {
	s.Lines += o.Lines
	s.Records += o.Records
	s.Events += o.Events
	s.Context += o.Context
	s.Malformed += o.Malformed
	s.Gaps += o.Gaps
}

// ScanOptions configures ScanFile.
type ScanOptions struct {
	HostID, HostName string
	// Emit receives each normalized event in input order.
	Emit func(ev Event)
	// Workers bounds the goroutines a scanner may use (0 = GOMAXPROCS).
	Workers int
	// Story asks for the context events of a story too (Event.Context).
	Story bool
}

// ScanFunc reads one recorded input of a given format to its end.
type ScanFunc func(r io.Reader, opt ScanOptions) (Stats, error)

var scanners = map[Format]ScanFunc{}

// RegisterScanner makes ScanFile able to read format f. Format packages
// call it from init (sources/auditd does for the auditd formats), so the
// program must import them; sources itself cannot, they import it.
func RegisterScanner(f Format, fn ScanFunc) { scanners[f] = fn }
