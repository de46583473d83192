package sources

import (
	"bytes"
	"errors"
	"fmt"
)

// Format is the kind of a recorded input, decided from its first bytes.
type Format int

// Formats xferhunt reads. New formats are appended; the zero value is
// Unknown so an unset Format never passes for a real one.
const (
	Unknown Format = iota
	AuditdRaw
	AuditdEnriched
	AuditbeatNDJSON
	ECSNDJSON
	// JSONDocuments is JSON that is not one object per line: pretty-printed
	// documents, arrays, Elasticsearch responses and archives.
	JSONDocuments
)

var formatNames = [...]string{
	Unknown:         "unknown",
	AuditdRaw:       "auditd-raw",
	AuditdEnriched:  "auditd-enriched",
	AuditbeatNDJSON: "auditbeat-ndjson",
	ECSNDJSON:       "ecs-ndjson",
	JSONDocuments:   "json-documents",
}

// String names the format as the summary prints it.
func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("format(%d)", int(f))
}

// ErrUnknownFormat is returned when no reader recognises an input.
var ErrUnknownFormat = errors.New("unknown input format")

// SniffHeadSize is how many leading bytes Sniff wants to see.
const SniffHeadSize = 64 << 10

// Sniff decides the format of an input from its head (SniffHeadSize bytes
// or the whole input when shorter): auditd text, else the first format
// one of the registry's sniffers recognises. Blank leading lines are
// skipped.
func (fs *Formats) Sniff(head []byte) (Format, error) {
	if f := sniffAuditd(head); f != Unknown {
		return f, nil
	}
	for _, fn := range fs.sniffers {
		if f := fn(head); f != Unknown {
			return f, nil
		}
	}
	return Unknown, ErrUnknownFormat
}

// sniffAuditd recognises auditd text: a line starting with "type=" (or
// "node=… type=") followed by " msg=audit(". Any 0x1D among the first
// audit lines means ENRICHED.
func sniffAuditd(head []byte) Format {
	found, enriched := 0, false
	for checked := 0; len(head) > 0 && checked < 16; {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		checked++
		if isAuditLine(line) {
			found++
			if bytes.IndexByte(line, 0x1d) >= 0 {
				enriched = true
			}
		}
	}
	switch {
	case found == 0:
		return Unknown
	case enriched:
		return AuditdEnriched
	}
	return AuditdRaw
}

func isAuditLine(line []byte) bool {
	if bytes.HasPrefix(line, []byte("node=")) {
		i := bytes.Index(line, []byte(" type="))
		if i < 0 {
			return false
		}
		line = line[i+1:]
	}
	if !bytes.HasPrefix(line, []byte("type=")) {
		return false
	}
	return bytes.Contains(line, []byte(" msg=audit("))
}
