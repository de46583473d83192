// Package auditbeat reads Auditbeat's NDJSON output and maps its auditd
// and file_integrity documents onto the normalized file event (SPEC §3).
// Auditbeat itself never says event.action "creation" (an openat with
// O_CREAT is "opened-file", a new file seen by file_integrity is
// "created"); the mapping derives the normalized action from the PATH items
// and keeps Auditbeat's own under xferhunt.original.action.
package auditbeat

import (
	"bytes"
	"encoding/json"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/sources"
)

// Options configure a Decoder.
type Options struct {
	// HostName fills host.name when a document has none; HostID only
	// prefixes the dedup key, as sources/auditd does (a missing host.id
	// stays missing: no new-terms bucket, as in Kibana).
	HostID, HostName string
	Emit             func(sources.Event)
}

// Decoder maps NDJSON lines to events.
type Decoder struct {
	opt   Options
	stats sources.Stats
}

// NewDecoder returns a decoder emitting through opt.Emit.
func NewDecoder(opt Options) *Decoder { return &Decoder{opt: opt} }

// Stats returns the counters so far.
func (d *Decoder) Stats() sources.Stats { return d.stats }

// Line decodes one document; blank lines are ignored, invalid JSON counted.
func (d *Decoder) Line(line []byte) {
	d.stats.Lines++
	line = trimSpace(line)
	if len(line) == 0 {
		return
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		d.stats.Malformed++
		return
	}
	d.stats.Records++
	doc, ok := Map(ecs.Doc(m), string(line), d.opt.HostID, d.opt.HostName)
	if !ok {
		return
	}
	d.stats.Events++
	if d.opt.Emit != nil {
		d.opt.Emit(sources.Event{Doc: doc, Key: Key(doc, d.opt.HostID)})
	}
}

// Flush is a no-op: every line is a whole document.
func (d *Decoder) Flush() {}

// Is reports whether a document comes from Auditbeat's auditd or
// file_integrity module (or the auditd_manager integration).
func Is(d ecs.Doc) bool {
	// An alert document (xferhunt's own export, or Kibana's) carries its
	// event's module, auditd included, but it is an ECS document already.
	if _, ok := d["kibana.alert.uuid"]; ok {
		return false
	}
	if _, ok := d["auditd"].(map[string]any); ok {
		return true
	}
	switch d.Str("event.module") {
	case "file_integrity":
		return true
	case "auditd":
		// Auditbeat and Filebeat write the audit fields under auditd, which
		// is what Map reads. An event that names the module without them is
		// ECS already: xferhunt's own events do (sources/auditd), and read
		// back as Auditbeat's they were dropped as "not a file event".
		return d.Get("auditd") != nil
	}
	return strings.HasPrefix(d.Str("data_stream.dataset"), "auditd_manager.")
}

// Map turns one Auditbeat document into a normalized file event, in place.
// ok is false for documents that are not file events (logins, execs,
// failed syscalls); raw is kept as event.original when the document
// carries no raw records of its own.
func Map(d ecs.Doc, raw, hostID, hostName string) (ecs.Doc, bool) {
	var action, typ string
	switch {
	case d.Str("event.module") == "file_integrity" || d.Get("hash") != nil && d.Get("auditd") == nil:
		action, typ = fimAction(d)
	case d.Get("auditd") != nil:
		action, typ = auditdAction(d)
	default:
		return nil, false
	}
	if action == "" {
		return nil, false
	}
	orig := d.Values("event.action")
	d.Set("xferhunt.original.action", orig)
	d.Set("xferhunt.mapped_from", "auditbeat")
	d.Set("event.action", action)
	d.Set("event.type", []any{typ})
	d.Set("event.category", []any{"file"})
	d.Set("event.kind", "event")
	if d.Get("event.original") == nil && raw != "" {
		d.Set("event.original", raw)
	}
	if d.Str("host.os.type") == "" {
		d.Set("host.os.type", "linux")
	}
	// host.id stays as Auditbeat wrote it (add_host_metadata sets it):
	// without one Kibana's new_terms makes no bucket, so neither does
	// xferhunt; --host-id is for auditd text only.
	if d.Str("host.name") == "" {
		if n := d.Str("beat.hostname"); n != "" {
			d.Set("host.name", n)
		} else if hostName != "" {
			d.Set("host.name", hostName)
		}
	}
	// Auditbeat 6.x named the executable process.exe.
	if d.Str("process.executable") == "" {
		if exe := d.Str("process.exe"); exe != "" {
			d.Set("process.executable", exe)
		}
	}
	if d.Str("process.name") == "" {
		if exe := d.Str("process.executable"); exe != "" {
			d.Set("process.name", path.Base(exe))
		}
	}
	setNameParts(d)
	return d, true
}

// fimAction maps file_integrity's action list: a new file is a creation
// even when the same event also reports it updated.
func fimAction(d ecs.Doc) (action, typ string) {
	has := map[string]bool{}
	for _, v := range d.Values("event.action") {
		if s, ok := v.(string); ok {
			has[s] = true
		}
	}
	switch {
	case has["created"]:
		return "creation", "creation"
	case has["moved"]:
		if tp := d.Str("file.target_path"); tp != "" {
			d.Set("file.Ext.original.path", d.Str("file.path"))
			d.Set("file.path", tp)
		}
		return "rename", "change"
	case has["deleted"]:
		return "deletion", "deletion"
	case has["updated"], has["attributes_modified"]:
		return "modification", "change"
	}
	return "", ""
}

type item struct {
	name, nametype, inode, mode, ouid, ogid string
}

func items(d ecs.Doc) []item {
	raw, _ := d.Get("auditd.paths").([]any)
	out := make([]item, 0, len(raw))
	for _, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			continue
		}
		p := ecs.Doc(m)
		nt := p.Str("nametype")
		if nt == "" {
			nt = p.Str("objtype") // auditd_manager's name for it
		}
		out = append(out, item{name: p.Str("name"), nametype: nt, inode: p.Str("inode"),
			mode: p.Str("mode"), ouid: p.Str("ouid"), ogid: p.Str("ogid")})
	}
	return out
}

// auditdAction derives the normalized action of an auditd-module document
// from its syscall and PATH items, as sources/auditd does for raw records.
func auditdAction(d ecs.Doc) (action, typ string) {
	for _, r := range []string{d.Str("auditd.result"), d.Str("event.outcome")} {
		if r == "fail" || r == "failure" {
			return "", ""
		}
	}
	sc := d.Str("auditd.data.syscall")
	its := items(d)
	find := func(nt string) (item, bool) {
		for i := len(its) - 1; i >= 0; i-- {
			if its[i].nametype == nt && its[i].name != "" {
				return its[i], true
			}
		}
		return item{}, false
	}
	create, hasCreate := find("CREATE")
	del, hasDelete := find("DELETE")
	switch {
	case strings.HasPrefix(sc, "rename") && hasCreate:
		setFile(d, its, create)
		if hasDelete {
			d.Set("file.Ext.original.path", resolve(d, its, del.name))
		}
		return "rename", "change"
	case (strings.HasPrefix(sc, "unlink") || sc == "rmdir") && hasDelete:
		setFile(d, its, del)
		return "deletion", "deletion"
	case hasCreate:
		setFile(d, its, create)
		return "creation", "creation"
	case sc == "creat" || truncates(d, sc):
		if n, ok := find("NORMAL"); ok {
			setFile(d, its, n)
			return "overwrite", "change"
		}
	}
	return "", ""
}

// truncates reports O_TRUNC (0x200 on Linux) in an open's flags argument.
func truncates(d ecs.Doc, sc string) bool {
	arg := ""
	switch sc {
	case "open":
		arg = d.Str("auditd.data.a1")
	case "openat":
		arg = d.Str("auditd.data.a2")
	default:
		return false
	}
	v, err := strconv.ParseUint(arg, 16, 64)
	return err == nil && v&0x200 != 0
}

// resolve makes a PATH name absolute with the process's cwd, else the
// directory of the PARENT item.
func resolve(d ecs.Doc, its []item, name string) string {
	if strings.HasPrefix(name, "/") {
		return path.Clean(name)
	}
	dir := d.Str("process.working_directory")
	if dir == "" {
		dir = d.Str("auditd.data.cwd")
	}
	if dir == "" {
		for _, it := range its {
			if it.nametype == "PARENT" && strings.HasPrefix(it.name, "/") {
				dir = it.name
				break
			}
		}
	}
	if dir == "" {
		return name
	}
	return path.Join(dir, name)
}

func setFile(d ecs.Doc, its []item, it item) {
	d.Set("file.path", resolve(d, its, it.name))
	if it.inode != "" {
		d.Set("file.inode", it.inode)
	}
	if it.mode != "" {
		d.Set("file.mode", it.mode)
	}
	if it.ouid != "" {
		d.Set("file.uid", it.ouid)
	}
	if it.ogid != "" {
		d.Set("file.gid", it.ogid)
	}
}

// setNameParts fills file.name/directory/extension from file.path.
func setNameParts(d ecs.Doc) {
	p := d.Str("file.path")
	if p == "" {
		return
	}
	dir, name := path.Split(p)
	d.Set("file.name", name)
	if dir != "" {
		d.Set("file.directory", path.Clean(dir))
	}
	if i := strings.LastIndexByte(name, '.'); i > 0 && i < len(name)-1 {
		d.Set("file.extension", name[i+1:])
	} else {
		d.Delete("file.extension")
	}
}

// Key is the dedup key of an auditd-module document, in sources/auditd's
// form (host:sec.msec:serial), so the same kernel event read from auditd's
// log and from Auditbeat is processed once. "" when it has no sequence.
func Key(d ecs.Doc, hostID string) string {
	if hostID == "" {
		hostID = d.Str("host.id")
	}
	// The raw records, when kept, carry the exact audit(sec.msec:serial).
	for _, v := range d.Values("event.original") {
		s, _ := v.(string)
		if i := strings.Index(s, "msg=audit("); i >= 0 {
			if j := strings.IndexByte(s[i:], ')'); j > 0 {
				return hostID + ":" + s[i+len("msg=audit("):i+j]
			}
		}
	}
	seq := d.Str("auditd.sequence")
	ts, err := time.Parse(time.RFC3339Nano, d.Str("@timestamp"))
	if seq == "" || err != nil {
		return ""
	}
	ms := ts.UnixMilli()
	return hostID + ":" + strconv.FormatInt(ms/1000, 10) + "." + pad3(ms%1000) + ":" + seq
}

func pad3(v int64) string {
	s := strconv.FormatInt(v, 10)
	return strings.Repeat("0", 3-len(s)) + s
}

func trimSpace(b []byte) []byte {
	// Windows tools start exported JSON with a UTF-8 byte order mark.
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
