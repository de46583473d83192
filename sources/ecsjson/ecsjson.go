// Package ecsjson reads ECS NDJSON documents already in Elastic Defend's
// shape (an Elastic export, a replay) and passes them on as they are. It
// also tells Auditbeat NDJSON from other ECS NDJSON for format detection.
package ecsjson

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditbeat"
)

func init() {
	sources.RegisterScanner(sources.ECSNDJSON, Scan)
	sources.RegisterSniffer(Sniff)
}

// Options configure a Decoder.
type Options struct {
	// HostID fills host.id when a document has none.
	HostID string
	Emit   func(sources.Event)
}

// Decoder turns NDJSON lines into events.
type Decoder struct {
	opt   Options
	stats sources.Stats
}

// NewDecoder returns a decoder emitting through opt.Emit.
func NewDecoder(opt Options) *Decoder { return &Decoder{opt: opt} }

// Stats returns the counters so far.
func (d *Decoder) Stats() sources.Stats { return d.stats }

// Line decodes one document. A search-hit wrapper ({"_index","_source"})
// is unwrapped; invalid JSON is counted and skipped.
func (d *Decoder) Line(line []byte) {
	d.stats.Lines++
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	doc, ok := Decode(line)
	if !ok {
		d.stats.Malformed++
		return
	}
	d.stats.Records++
	if d.opt.HostID != "" && doc.Str("host.id") == "" {
		doc.Set("host.id", d.opt.HostID)
	}
	d.stats.Events++
	if d.opt.Emit != nil {
		d.opt.Emit(sources.Event{Doc: doc})
	}
}

// Flush is a no-op: every line is a whole document.
func (d *Decoder) Flush() {}

// Decode parses one JSON object, unwrapping an Elasticsearch hit.
func Decode(line []byte) (ecs.Doc, bool) {
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil || m == nil {
		return nil, false
	}
	if src, ok := m["_source"].(map[string]any); ok {
		if _, hit := m["_index"]; hit {
			m = src
		}
	}
	return ecs.Doc(m), true
}

// Sniff recognises NDJSON from its first non-blank line: Auditbeat's
// auditd/file_integrity documents, or any other JSON object as ECS.
func Sniff(head []byte) sources.Format {
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
		if line[0] != '{' {
			return sources.Unknown
		}
		doc, ok := Decode(line)
		if !ok {
			// The head may cut the first document short; a JSON object
			// start is still NDJSON, and Auditbeat names its module early.
			if bytes.Contains(line, []byte(`"auditd"`)) || bytes.Contains(line, []byte(`"file_integrity"`)) {
				return sources.AuditbeatNDJSON
			}
			return sources.ECSNDJSON
		}
		if auditbeat.Is(doc) {
			return sources.AuditbeatNDJSON
		}
		return sources.ECSNDJSON
	}
	return sources.Unknown
}

// Scan reads a recorded ECS NDJSON stream to its end.
func Scan(r io.Reader, opt sources.ScanOptions) (sources.Stats, error) {
	d := NewDecoder(Options{HostID: opt.HostID, Emit: opt.Emit})
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
