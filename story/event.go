// Package story keeps what logins did — every file event, exec, connection,
// attribute change, login and logout a source reports, matched by a rule or
// not — in a store bounded by bytes, and answers stories: the events of one
// scope (a login session, a source address, a user, a process tree, a file
// through its renames) in time order. Facts come from the events alone,
// never from the host the store runs on.
package story

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xferhunt/xferhunt/ecs"
)

// Kind is what an event did.
type Kind uint8

// The kinds of events a story tells.
const (
	Other Kind = iota
	LogOn
	LogOff
	Exec
	Create
	Overwrite
	Rename
	Delete
	Chmod
	Connect
	Accept
)

var kindNames = [...]string{"other", "login", "logout", "exec", "create", "overwrite", "rename", "delete", "chmod", "connect", "accept"}

// String is the kind's short name, as the story table prints it.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "other"
}

// kindOf maps event.action to a kind.
func kindOf(action string) Kind {
	switch action {
	case "log_on":
		return LogOn
	case "log_off":
		return LogOff
	case "exec":
		return Exec
	case "creation":
		return Create
	case "overwrite":
		return Overwrite
	case "rename":
		return Rename
	case "deletion":
		return Delete
	case "attributes_modified":
		return Chmod
	case "connection_attempted":
		return Connect
	case "connection_accepted":
		return Accept
	}
	return Other
}

// NoSession is Event.Session when the event belongs to no audit login
// session (the kernel's 4294967295, or a format that does not say).
const NoSession = -1

// Event is one normalized event, reduced to what a story shows and
// indexes. Strings are the source's, unescaped: sanitize before printing.
type Event struct {
	Seq     uint64 `json:"-"`           // arrival order in the store, 1-based
	Time    int64  `json:"t"`           // event time, Unix milliseconds
	Kind    Kind   `json:"-"`           // from Action
	Action  string `json:"a"`           // event.action as the source wrote it
	Key     string `json:"k,omitempty"` // the source's event key (host:time:serial), "" if none
	Host    string `json:"h,omitempty"` // host.id
	Session int64  `json:"s"`           // audit session id, or NoSession
	// SesStart is when the login that holds Session began (Unix ms, 0 if
	// unknown): session ids restart at boot, so the id alone can name two
	// logins.
	SesStart int64    `json:"ss,omitempty"`
	Addr     string   `json:"ip,omitempty"`   // the login's address: xferhunt.session.addr, else source.ip
	Port     int      `json:"port,omitempty"` // the login connection's port, 0 if unknown
	User     string   `json:"u,omitempty"`    // user.name, else the login account
	Login    string   `json:"lu,omitempty"`   // the audit (login) user's name or id
	PID      int      `json:"pid,omitempty"`
	PPID     int      `json:"ppid,omitempty"`
	Process  string   `json:"p,omitempty"` // process.name
	Exe      string   `json:"x,omitempty"` // process.executable
	Args     []string `json:"args,omitempty"`
	Cwd      string   `json:"cwd,omitempty"`
	Path     string   `json:"f,omitempty"`  // file.path (exec: the file the kernel ran)
	OldPath  string   `json:"of,omitempty"` // rename: the name before
	Inode    string   `json:"ino,omitempty"`
	Mode     string   `json:"m,omitempty"`    // file.mode (chmod: the new mode)
	Peer     string   `json:"peer,omitempty"` // connect: destination ip:port; accept: source ip:port
	Via      string   `json:"via,omitempty"`  // how the login was attributed (session, ancestry, none)
	// Alert is the uuid of an alert raised on this event, when one was.
	Alert string `json:"alert,omitempty"`
	// Own marks an event of the responder's own login session (the one
	// xferhunt was started from), labelled so that it is not mistaken for
	// the intruder's.
	Own bool `json:"own,omitempty"`
}

// MaxEncoded caps one encoded event: a stored record larger than this is
// not an event this package wrote (a damaged or planted state file).
const MaxEncoded = 1 << 20

// encoded is Event's durable form: JSON strings are UTF-8, so a string
// holding other bytes (a file name is any bytes) is kept beside, as bytes
// (base64 in JSON), by its place in strings(); two files named "a\xff" and
// "a\xfe" stay two after a restart.
type encoded struct {
	*Event
	Raw map[int][]byte `json:"raw,omitempty"`
}

// strings lists the event's string fields and arguments, in a fixed order.
func (e *Event) strings() []*string {
	out := []*string{&e.Action, &e.Key, &e.Host, &e.Addr, &e.User, &e.Login, &e.Process, &e.Exe, &e.Cwd,
		&e.Path, &e.OldPath, &e.Inode, &e.Mode, &e.Peer, &e.Via, &e.Alert}
	for i := range e.Args {
		out = append(out, &e.Args[i])
	}
	return out
}

// Encode is the event's durable form (the state journal's records).
func (e *Event) Encode() ([]byte, error) {
	enc := encoded{Event: e}
	for i, p := range e.strings() {
		if !utf8.ValidString(*p) {
			if enc.Raw == nil {
				enc.Raw = map[int][]byte{}
			}
			enc.Raw[i] = []byte(*p)
		}
	}
	return json.Marshal(enc)
}

// Decode reads an event Encode wrote.
func Decode(b []byte) (Event, error) {
	var e Event
	if len(b) > MaxEncoded {
		return e, fmt.Errorf("story event of %d bytes, more than %d", len(b), MaxEncoded)
	}
	enc := encoded{Event: &e}
	if err := json.Unmarshal(b, &enc); err != nil {
		return e, fmt.Errorf("story event: %w", err)
	}
	if len(enc.Raw) > 0 {
		fields := e.strings()
		for i, raw := range enc.Raw {
			if i < 0 || i >= len(fields) {
				return e, fmt.Errorf("story event: raw bytes for field %d of %d", i, len(fields))
			}
			*fields[i] = string(raw)
		}
	}
	e.Kind = kindOf(e.Action)
	return e, nil
}

// Time of the event as a time.Time in UTC.
func (e *Event) When() time.Time { return time.UnixMilli(e.Time).UTC() }

// FromDoc reduces a normalized ECS document to a story event. ok is false
// when the document has no usable time: a story is ordered by time.
func FromDoc(d ecs.Doc, key string) (Event, bool) {
	ms, ok := docTime(d)
	if !ok {
		return Event{}, false
	}
	e := Event{
		Time:    ms,
		Action:  d.Str("event.action"),
		Key:     key,
		Host:    d.Str("host.id"),
		Session: NoSession,
		PID:     intOf(d.Get("process.pid")),
		PPID:    intOf(d.Get("process.parent.pid")),
		Process: d.Str("process.name"),
		Exe:     d.Str("process.executable"),
		Cwd:     d.Str("process.working_directory"),
		Path:    d.Str("file.path"),
		OldPath: d.Str("file.Ext.original.path"),
		Inode:   str(d.Get("file.inode")),
		Mode:    d.Str("file.mode"),
		Via:     d.Str("xferhunt.session.attributed_by"),
	}
	e.Kind = kindOf(e.Action)
	if e.Key == "" {
		e.Key = d.Str("event.id")
	}
	if v := d.Get("xferhunt.session.id"); v != nil {
		e.Session = int64(intOf(v))
	} else if s := d.Str("auditd.session"); s != "" && s != "4294967295" {
		// Auditbeat's auditd module names the session this way.
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			e.Session = n
		}
	}
	if s, ok := d.Get("xferhunt.session.login_time").(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			e.SesStart = t.UnixMilli()
		}
	}
	e.User = d.Str("user.name")
	if e.User == "" {
		e.User = d.Str("xferhunt.session.user")
	}
	if e.Login = d.Str("user.audit.name"); e.Login == "" {
		e.Login = d.Str("xferhunt.session.user")
	}
	e.Args = keepArgs(d.Values("process.args"))
	switch e.Kind {
	case Connect:
		e.Peer = hostPort(d, "destination")
		e.Addr = d.Str("xferhunt.session.addr")
	case Accept:
		e.Peer = hostPort(d, "source")
		e.Addr = d.Str("source.ip")
	default:
		if e.Addr = d.Str("xferhunt.session.addr"); e.Addr == "" {
			e.Addr = d.Str("source.ip")
		}
		if d.Str("source.ip") == e.Addr {
			e.Port = intOf(d.Get("source.port"))
		}
	}
	if e.Addr != "" {
		if a, err := netip.ParseAddr(e.Addr); err == nil {
			e.Addr = a.String() // one spelling per address, for the index
		}
	}
	return e, true
}

// FromAlert reduces an alert document to the story event it was raised
// on: the event's time (kibana.alert.original_time) and key (the first
// ancestor), and the alert's own uuid in Alert.
func FromAlert(d ecs.Doc) (Event, bool) {
	e, ok := FromDoc(d, AlertKey(d))
	if !ok {
		return e, false
	}
	if s, ok := d.Get("kibana.alert.original_time").(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			e.Time = t.UnixMilli()
		}
	}
	e.Alert = d.Str("kibana.alert.uuid")
	return e, true
}

// AlertKey is the source key of the event an alert was raised on (its
// first ancestor's id), the key Store.MarkAlert takes; "" when it has none.
func AlertKey(d ecs.Doc) string {
	if anc, ok := d.Get("kibana.alert.ancestors").([]any); ok && len(anc) > 0 {
		if m, ok := anc[0].(map[string]any); ok {
			key, _ := m["id"].(string)
			return key
		}
	}
	return ""
}

// Bounds of what a story keeps of one exec's arguments: the kernel allows
// megabytes of them, and a hostile session running execs with huge argv
// must not grow the store, the journal or the time a story takes. What is
// cut is said in a last argument.
const (
	maxArgs     = 64
	maxArgBytes = 8 << 10
)

// argsCutFormat is keepArgs' last argument when it cut the rest.
const argsCutFormat = "…(%d more arguments, %d bytes, not kept)"

// ArgsCut reports whether keepArgs cut the event's arguments: whoever
// needs them all (the upload-exec chain looks for a script among an
// interpreter's arguments, and a hostile command line can push it past
// the cut) reads them from the event's document instead. A real argument
// shaped like the note only costs that reading.
func (e *Event) ArgsCut() bool {
	if len(e.Args) == 0 {
		return false
	}
	last := e.Args[len(e.Args)-1]
	return strings.HasPrefix(last, "…(") && strings.HasSuffix(last, " bytes, not kept)")
}

func keepArgs(vs []any) []string {
	var out []string
	size := 0
	for i, v := range vs {
		s, ok := v.(string)
		if !ok {
			continue
		}
		if len(out) == maxArgs || size+len(s) > maxArgBytes {
			rest := 0
			for _, w := range vs[i:] {
				if s, ok := w.(string); ok {
					rest += len(s)
				}
			}
			return append(out, fmt.Sprintf(argsCutFormat, len(vs)-i, rest))
		}
		out = append(out, s)
		size += len(s)
	}
	return out
}

func hostPort(d ecs.Doc, obj string) string {
	ip := d.Str(obj + ".ip")
	if ip == "" {
		return ""
	}
	if p := intOf(d.Get(obj + ".port")); p > 0 {
		if a, err := netip.ParseAddr(ip); err == nil {
			return netip.AddrPortFrom(a, uint16(p)).String()
		}
	}
	return ip
}

func docTime(d ecs.Doc) (int64, bool) {
	for _, f := range []string{"@timestamp", "event.created", "event.ingested"} {
		if s, ok := d.Get(f).(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t.UnixMilli(), true
			}
		}
	}
	return 0, false
}

func intOf(v any) int {
	if s, ok := v.(string); ok {
		n, _ := strconv.Atoi(s)
		return n
	}
	f, _ := ecs.Float(v)
	return int(f)
}

func str(v any) string {
	s, _ := ecs.Keyword(v)
	return s
}

// Files are the paths an event touches: its file, the name before a
// rename, and for an exec the paths among its arguments (a script given
// to its interpreter), made absolute with the working directory.
func (e *Event) Files() []string {
	var out []string
	add := func(p string) {
		if p == "" {
			return
		}
		for _, o := range out {
			if o == p {
				return
			}
		}
		out = append(out, p)
	}
	add(e.Path)
	add(e.OldPath)
	if e.Kind == Exec {
		for i, a := range e.Args {
			if i == 0 && a == e.Exe {
				continue
			}
			// A word without a slash is a command's word, not a path.
			if strings.Contains(a, "/") {
				add(ArgPath(a, e.Cwd))
			}
		}
	}
	return out
}

// ArgPath reads an exec's argument as a path, made absolute with the
// working directory cwd: "" for a flag, for text no file name holds (NUL,
// newline, longer than PATH_MAX), and for a relative argument when cwd is
// not absolute. Which arguments name files is the caller's to say (Files
// takes those with a slash; detect's chain, an interpreter's script).
func ArgPath(a, cwd string) string {
	if a == "" || strings.HasPrefix(a, "-") || strings.ContainsAny(a, "\x00\n") || len(a) > 4096 {
		return ""
	}
	if strings.HasPrefix(a, "/") {
		return path.Clean(a)
	}
	if strings.HasPrefix(cwd, "/") {
		return path.Join(cwd, a)
	}
	return ""
}

// size estimates the bytes an event holds, for the store's budget: the
// struct (about 350 bytes), its strings and argument list, and its index
// entries (measured: TestBurstStaysInBudget).
func (e *Event) size() int64 {
	n := 400 + len(e.Action) + len(e.Key) + len(e.Host) + len(e.Addr) + len(e.User) + len(e.Login) +
		len(e.Process) + len(e.Exe) + len(e.Cwd) + len(e.Path) + len(e.OldPath) + len(e.Inode) +
		len(e.Mode) + len(e.Peer) + len(e.Via) + len(e.Alert)
	for _, a := range e.Args {
		n += 16 + len(a)
	}
	return int64(n)
}
