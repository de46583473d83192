package sources

import (
	"io"

	"github.com/xferhunt/xferhunt/ecs"
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
	// Sparse, when set, lets a scanner build only the fields the consumer
	// reads of most documents (see Sparse): the JSON decoder, and the
	// auditd scan for file events no query matches.
	Sparse *Sparse
}

// Sparse says which documents a consumer needs whole. Fields are the
// dotted paths whose values decide it; Whole is asked of a document that
// holds only those fields (every spelling of each path, dotted keys,
// nested objects and arrays, as Elasticsearch resolves them: what ecs.Doc
// reads of them is what it reads of the whole document) and must answer
// from them alone. The spelling is the scanner's (auditd's is dotted keys
// only), so Whole must read values by path, never objects (a nested
// query's f:{ ... } finds no object f in a document of dotted keys). A
// document Whole refuses may be emitted holding just those fields: the
// consumer promises to read nothing else of it. Whole may be called from
// several goroutines at once.
type Sparse struct {
	Fields []string
	Whole  func(ecs.Doc) bool
}

// ScanFunc reads one recorded input of a given format to its end.
type ScanFunc func(r io.Reader, opt ScanOptions) (Stats, error)

// Formats is a registry of the recorded formats an input may be in: how to
// tell each from an input's head (after the built-in auditd check) and how
// to scan it. The format packages import this one, so it cannot know them:
// the program's registry is built explicitly by sources/catalog, and a
// test builds the one it needs. It is read-only once built.
type Formats struct {
	scanners map[Format]ScanFunc
	sniffers []func(head []byte) Format
}

// NewFormats returns a registry that scans each format of scanners with
// its function and consults sniffers, in order, for inputs that are not
// auditd text; a sniffer returns Unknown when the head is not its format.
func NewFormats(scanners map[Format]ScanFunc, sniffers ...func(head []byte) Format) *Formats {
	return &Formats{scanners: scanners, sniffers: sniffers}
}
