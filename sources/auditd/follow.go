package auditd

import "bytes"

// Following a log as it is written (Options.Follow): the tailer's idle
// flush must not finish an event auditd is still writing. The kernel writes
// a syscall event's records SYSCALL first and PROCTITLE last (then EOE,
// which auditd 3 does not log), so an event whose SYSCALL has arrived and
// whose PROCTITLE has not is still being written, however long its writer
// pauses: auditd waiting on a slow disk must not cut an upload's event
// short of its PATH records.

// Awaiting reports a syscall event whose last record has not arrived
// (tail.Awaiter). Without Options.Follow it is always false, which tells a
// tailer to flush at once: build a tailed log's parser with Follow.
func (p *Parser) Awaiting() bool { return p.open.n > 0 }

// openEvents remembers the syscall events begun and not yet ended by their
// PROCTITLE or EOE record. The kernel interleaves the events of several
// CPUs, so there may be a few; as many as the parser keeps open suffice,
// and beyond that the oldest is forgotten (the parser finishes it anyway).
type openEvents struct {
	ids [maxPending]eventID
	n   int
}

// eventID is a record's node= name and msg=audit(…) stamp, up to 64 bytes
// of each: enough to tell events apart, and a hostile line cannot make a
// copy larger.
type eventID struct {
	node, stamp [64]byte
	nn, ns      uint8
}

func (o *openEvents) reset() { o.n = 0 }

func (o *openEvents) see(line []byte) {
	typ, id, ok := recordOf(line)
	if !ok {
		return
	}
	switch string(typ) {
	case "SYSCALL":
		if o.find(id) >= 0 {
			return
		}
		if o.n == len(o.ids) {
			copy(o.ids[:], o.ids[1:])
			o.n--
		}
		o.ids[o.n] = id
		o.n++
	case "PROCTITLE", "EOE":
		if i := o.find(id); i >= 0 {
			copy(o.ids[i:o.n], o.ids[i+1:o.n])
			o.n--
		}
	}
}

func (o *openEvents) find(id eventID) int {
	for i := range o.n {
		if o.ids[i] == id {
			return i
		}
	}
	return -1
}

// recordOf splits "[node=N ]type=T msg=audit(STAMP): …" into T and the
// event's identity.
func recordOf(line []byte) (typ []byte, id eventID, ok bool) {
	if rest, found := bytes.CutPrefix(line, []byte("node=")); found {
		sp := bytes.IndexByte(rest, ' ')
		if sp < 0 {
			return nil, id, false
		}
		id.nn = uint8(copy(id.node[:], rest[:sp]))
		line = rest[sp+1:]
	}
	rest, found := bytes.CutPrefix(line, []byte("type="))
	if !found {
		return nil, id, false
	}
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return nil, id, false
	}
	typ, rest = rest[:sp], rest[sp+1:]
	rest, found = bytes.CutPrefix(rest, []byte("msg=audit("))
	end := bytes.IndexByte(rest, ')')
	if !found || end <= 0 {
		return nil, id, false
	}
	id.ns = uint8(copy(id.stamp[:], rest[:end]))
	return typ, id, true
}
