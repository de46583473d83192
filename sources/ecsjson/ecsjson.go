// Package ecsjson reads JSON exports of events: NDJSON line by line, and
// every other shape a responder has (pretty-printed documents, arrays,
// Elasticsearch _search responses, Kibana archives, integration test
// files) as a stream of documents. Documents already in Elastic Defend's
// shape pass as they are; Auditbeat and go-libaudit coalesced documents
// are mapped by sources/auditbeat. It also tells Auditbeat NDJSON from
// other JSON for format detection.
package ecsjson

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditbeat"
)

// Options configure a Decoder.
type Options struct {
	// HostID prefixes the dedup key of Auditbeat documents; HostName fills
	// host.name for them. Neither fills host.id (see emit).
	HostID, HostName string
	Emit             func(sources.Event)
	// Sparse lets the decoder build only the fields it names of the
	// documents the consumer does not need whole (sparse.go).
	Sparse *sources.Sparse
}

// Decoder turns NDJSON lines into events. A line may also be one of the
// export wrappers (search hit or response, archive record, {"events":[…]}).
type Decoder struct {
	em     emitter
	p      *parser
	sparse *sparseSpec // nil: every document decoded whole
}

// NewDecoder returns a decoder emitting through opt.Emit.
func NewDecoder(opt Options) *Decoder {
	return &Decoder{em: emitter{opt: opt}, p: newParser(), sparse: newSparseSpec(opt.Sparse)}
}

// Stats returns the counters so far.
func (d *Decoder) Stats() sources.Stats { return d.em.stats }

// Line decodes one line; blank lines are ignored, invalid JSON counted and
// skipped.
func (d *Decoder) Line(line []byte) {
	d.em.stats.Lines++
	line = bytes.TrimSpace(bytes.TrimPrefix(line, bom))
	if len(line) == 0 {
		return
	}
	if d.sparse != nil && d.sparseLine(line) {
		return
	}
	m, err := d.p.object(line)
	if err != nil {
		d.em.stats.Malformed++
		return
	}
	d.em.object(m, line)
}

// Flush is a no-op: every line is a whole document.
func (d *Decoder) Flush() {}

// bom is the UTF-8 byte order mark Windows tools put before exported JSON.
var bom = []byte("\xef\xbb\xbf")

// Decode parses one JSON object and returns the first event document it
// holds, unwrapping a search hit, archive record or golden-file element.
func Decode(line []byte) (ecs.Doc, bool) {
	m, err := (&parser{}).object(line)
	if err != nil {
		return nil, false
	}
	var first map[string]any
	eachDoc(m, func(doc map[string]any, _ string, _ bool) {
		if first == nil {
			first = doc
		}
	})
	if first == nil {
		return nil, false
	}
	return ecs.Doc(first), true
}

// emitter classifies each document (Auditbeat, go-libaudit coalesced, or
// ECS as Elastic Defend writes it) and emits the file events, counting as
// it goes. Both the line and the document reader feed it.
type emitter struct {
	opt   Options
	stats sources.Stats
}

// object emits the documents of one decoded top-level object or array
// element. raw is its text when the reader has it on one line, else nil.
func (e *emitter) object(m map[string]any, raw []byte) {
	e.stats.Malformed += uint64(eachDoc(m, func(doc map[string]any, id string, wrapped bool) {
		if wrapped {
			raw = nil // the line is the wrapper, not the event
		}
		e.doc(ecs.Doc(doc), raw, id)
	}))
}

// doc emits one event document. id is the Elasticsearch _id it was stored
// under: it stands in for the dedup key (and so the alert's ancestor id)
// when the event carries no id of its own.
func (e *emitter) doc(d ecs.Doc, raw []byte, id string) {
	e.stats.Records++
	coalesced := auditbeat.IsCoalesced(d)
	var key string
	if coalesced || auditbeat.Is(d) {
		orig := ""
		if d.Get("event.original") == nil {
			if raw == nil {
				// Pretty-printed or wrapped: keep the event as it came, on
				// one line, before the mapping rewrites it.
				raw, _ = json.Marshal(d)
			}
			orig = string(raw)
		}
		if coalesced {
			auditbeat.FromCoalesced(d)
		}
		mapped, ok := auditbeat.Map(d, orig, e.opt.HostID, e.opt.HostName)
		if !ok {
			return
		}
		if coalesced {
			mapped.Set("xferhunt.mapped_from", "go-libaudit")
		}
		d, key = mapped, auditbeat.Key(mapped, e.opt.HostID)
	}
	// host.id is left as the document has it: a document without one
	// gives no new-terms bucket in Kibana (composite aggregations skip
	// missing values), and filling in this host's id would invent a
	// term for data recorded elsewhere. Only auditd text, which never
	// carries a host.id, gets --host-id (sources/auditd).
	if key == "" && id != "" && d.Str("event.id") == "" {
		key = id
	}
	e.stats.Events++
	if e.opt.Emit != nil {
		e.opt.Emit(sources.Event{Doc: d, Key: key})
	}
}

// Sniff recognises JSON input from its first non-blank line. A complete
// JSON object there means NDJSON: Auditbeat's auditd/file_integrity
// documents, or any other object as ECS. Anything else that opens like
// JSON (an array, a pretty-printed or cut-off object) is read as
// JSONDocuments.
func Sniff(head []byte) sources.Format {
	head = bytes.TrimPrefix(head, bom)
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		switch line[0] {
		case '[':
			return sources.JSONDocuments
		case '{':
		default:
			return sources.Unknown
		}
		m, err := (&parser{}).object(line)
		if err != nil {
			return sources.JSONDocuments
		}
		if auditbeat.Is(ecs.Doc(m)) {
			return sources.AuditbeatNDJSON
		}
		return sources.ECSNDJSON
	}
	return sources.Unknown
}

// Scan reads a recorded ECS NDJSON stream to its end. With more than one
// worker (opt.Workers, 0 = GOMAXPROCS) blocks of lines are decoded and
// mapped in parallel (decoding is nearly all of the cost) and their events
// emitted in input order on the calling goroutine, as from one decoder.
func Scan(r io.Reader, opt sources.ScanOptions) (sources.Stats, error) {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers > 1 {
		return scanParallel(r, opt, workers)
	}
	d := NewDecoder(Options{HostID: opt.HostID, HostName: opt.HostName, Emit: opt.Emit, Sparse: opt.Sparse})
	br := bufio.NewReaderSize(r, 256<<10)
	var long []byte
	for {
		chunk, err := br.ReadSlice('\n')
		switch err {
		case nil:
			if long != nil {
				d.Line(append(long, chunk...))
				long = nil
			} else {
				d.Line(chunk)
			}
		case bufio.ErrBufferFull:
			long = append(long, chunk...)
		case io.EOF:
			if len(long)+len(chunk) > 0 {
				d.Line(append(long, chunk...))
			}
			return d.Stats(), nil
		default:
			return d.Stats(), fmt.Errorf("read: %w", err)
		}
	}
}
