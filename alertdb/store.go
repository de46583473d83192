package alertdb

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/liveness"
	"github.com/xferhunt/xferhunt/internal/visible"
	"github.com/xferhunt/xferhunt/triage"
)

// SortMode is the list order: a column, and SortReverse to flip its
// natural direction.
type SortMode int

// Sort columns. Each has a natural direction: time newest first, severity
// most urgent first, status open first, text columns A to Z.
const (
	SortTime SortMode = iota // newest first
	SortSeverity
	SortProcess
	SortUser
	SortIP
	SortPath
	SortStatus
	sortModes
)

// SortReverse, or'ed into a mode, flips its direction (oldest first, Z to A).
const SortReverse SortMode = 1 << 8

var sortNames = [...]string{"time", "severity", "process", "user", "source ip", "file path", "status"}

// Column is the mode without its direction.
func (s SortMode) Column() SortMode { return s &^ SortReverse }

// Reversed reports whether the natural direction is flipped.
func (s SortMode) Reversed() bool { return s&SortReverse != 0 }

// Descending reports whether the column is shown from the highest value
// down (newest, most severe, Z to A), for the header's marker.
func (s SortMode) Descending() bool {
	natural := s.Column() == SortTime || s.Column() == SortSeverity
	return natural != s.Reversed()
}

func (s SortMode) String() string {
	c := s.Column()
	if c < 0 || c >= sortModes {
		return "?"
	}
	dir := " ↑"
	if s.Descending() {
		dir = " ↓"
	}
	return sortNames[c] + dir
}

// Next is the next column in its natural direction, wrapping around.
func (s SortMode) Next() SortMode { return (s.Column() + 1) % sortModes }

// ParseSortColumn reads a column name as String spells it ("source ip",
// "ip", "file path", "path" …), in its natural direction.
func ParseSortColumn(name string) (SortMode, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	switch name {
	case "ip", "source.ip", "src":
		return SortIP, true
	case "path", "file", "file.path":
		return SortPath, true
	case "sev":
		return SortSeverity, true
	case "newest":
		return SortTime, true
	case "oldest":
		return SortTime | SortReverse, true
	}
	for i, n := range sortNames {
		if n == name {
			return SortMode(i), true
		}
	}
	return 0, false
}

// SortColumns are the column names ParseSortColumn knows, for completion.
func SortColumns() []string {
	return []string{"time", "severity", "process", "user", "ip", "path", "status", "newest", "oldest"}
}

// Row is one alert with its list columns extracted and sanitized once, at
// arrival, so drawing a frame never walks a document. Rows are immutable:
// a status change replaces the row, which lets filter passes read a
// snapshot of the row slice from another goroutine without locks.
type Row struct {
	// seq and pid are int32, the time two words and the small columns
	// bytes, so a row is 160 bytes (a size class), not 224: 6 MB over
	// 100k alerts.
	seq  int32
	pid  int32
	nsec int32 // the event time: Unix seconds (sec) and nanoseconds
	sev  int8  // triage.Severity
	// status is a triage.Status.
	status     uint8
	historical bool
	sec        int64
	// blob is the alert JSON as codec.go holds it, flat the index of its
	// leaf values relative to tmpl, the template of the alert's rule and
	// program, so filters need not decode blob (flat.go). Both are one
	// allocation, and uuid and path point into flat when it holds them.
	// A nil tmpl means no index: filters decode.
	blob string
	flat string
	tmpl *template
	uuid string
	// arrival is the document as it came in, kept only until the row is
	// stored so a live filter need not decode what it was just handed.
	arrival ecs.Doc
	process string
	user    string
	ip      string
	path    string
	// live is where the alert came from (internal/liveness), shared by
	// the rows of one origin: whether the host may be acted on for it is
	// decided from this, per key press.
	live *liveness.Stamp
}

// NewRow turns an alert into a row: column extraction, sanitizing and
// compression, CPU only (~0.1 ms). Its arrival number is set when a Store
// adds it.
func NewRow(a detect.Alert) *Row { return newRow(0, a) }

func newRow(seq int, a detect.Alert) *Row {
	d := a.Doc
	r := &Row{seq: int32(seq), arrival: d}
	if err := r.encode(d); err != nil {
		js, _ := marshalDoc(ecs.Doc{"kibana.alert.uuid": d.Str("kibana.alert.uuid"), "xferhunt.tui_error": err.Error()})
		blob, _ := encodeDoc(js, "", nil)
		r.blob = string(blob)
	}
	pid, err := strconv.ParseInt(ecs.Display(d.Get("process.pid")), 10, 32)
	if err != nil {
		pid = 0 // absent, not a number, or no Linux pid
	}
	ts := d.Str("kibana.alert.original_time")
	if ts == "" {
		ts = d.Str("@timestamp")
	}
	at, _ := time.Parse(time.RFC3339Nano, ts)
	hist, _ := d.Get("xferhunt.historical").(bool)
	// The responder's own footprint is labelled where the eye is, never
	// hidden: their upload of xferhunt, their login session.
	user, path := visible.String(d.Str("user.name")), visible.String(d.Str("file.path"))
	if d.Get("xferhunt.responder.own_session") == true {
		user += " (you)"
	}
	if d.Get("xferhunt.responder.own_binary") == true {
		path = "[xferhunt itself] " + path
	}
	r.pid = int32(pid)
	r.sec, r.nsec = at.Unix(), int32(at.Nanosecond())
	r.sev = int8(triage.ParseSeverity(d.Str("kibana.alert.severity")))
	r.status = uint8(triage.ParseStatus(d.Str("kibana.alert.workflow_status")))
	r.historical = hist
	r.process = intern(visible.String(d.Str("process.name")))
	r.user = intern(user)
	r.ip = intern(visible.String(d.Str("source.ip")))
	r.uuid = within(r.flat, d.Str("kibana.alert.uuid"))
	r.path = within(r.flat, path)
	r.live = internStamp(liveness.Read(d))
	return r
}

// encode sets r's blob, flat and tmpl from d.
func (r *Row) encode(d ecs.Doc) error {
	js, err := marshalDoc(d)
	if err != nil {
		return err
	}
	flat, tmpl := flatten(d, js)
	blob, err := encodeDoc(js, flat, tmpl)
	if err != nil {
		return err
	}
	data := flat + string(blob)
	r.flat, r.blob, r.tmpl = data[:len(flat)], data[len(flat):], tmpl
	return nil
}

// within returns s, or the same bytes in flat when flat holds them, so a
// row keeps no second copy of its uuid or path.
func within(flat, s string) string {
	if len(s) < 8 {
		return s
	}
	if i := strings.Index(flat, s); i >= 0 {
		return flat[i : i+len(s)]
	}
	return s
}

// withStatus returns a copy of r whose document carries the new status, so
// copy, export and KQL filters all see what the analyst decided.
func (r *Row) withStatus(s triage.Status) *Row {
	n := *r
	n.status = uint8(s)
	doc := r.doc()
	doc["kibana.alert.workflow_status"] = s.String()
	if n.encode(doc) == nil {
		// Not into the old row's index, which the new row lets go.
		n.uuid = within(n.flat, strings.Clone(r.uuid))
		n.path = within(n.flat, strings.Clone(r.path))
	}
	return &n
}

// Live is the alert's origin stamp (internal/liveness).
func (r *Row) Live() liveness.Stamp {
	if r.live == nil {
		return liveness.Stamp{}
	}
	return *r.live
}

// Seq is the row's arrival number in its Store; a re-sent alert keeps the
// number of the first copy.
func (r *Row) Seq() int { return int(r.seq) }

// UUID is kibana.alert.uuid.
func (r *Row) UUID() string { return r.uuid }

// PID is process.pid, 0 when absent or not a number.
func (r *Row) PID() int { return int(r.pid) }

// Time is when the alerted event happened (kibana.alert.original_time,
// else @timestamp); zero when neither parses.
func (r *Row) Time() time.Time {
	if r.sec == zeroSec && r.nsec == 0 {
		return time.Time{}
	}
	return time.Unix(r.sec, int64(r.nsec)).UTC()
}

// zeroSec is the zero time.Time in Unix seconds.
var zeroSec = time.Time{}.Unix()

// Severity is kibana.alert.severity.
func (r *Row) Severity() triage.Severity { return triage.Severity(r.sev) }

// Status is the workflow status.
func (r *Row) Status() triage.Status { return triage.Status(r.status) }

// Historical reports an alert raised over past events (backfill, replay).
func (r *Row) Historical() bool { return r.historical }

// Process is process.name, made visible for display.
func (r *Row) Process() string { return r.process }

// User is user.name, made visible for display; " (you)" on an alert of
// the responder's own login session.
func (r *Row) User() string { return r.user }

// IP is source.ip, made visible for display.
func (r *Row) IP() string { return r.ip }

// Path is file.path, made visible for display; "[xferhunt itself] " in
// front of the upload of the running xferhunt.
func (r *Row) Path() string { return r.path }

// JSON is the alert document as JSON, exactly as it was compressed.
func (r *Row) JSON() ([]byte, error) { return inflate(r) }

// Doc decodes the alert document. A blob we wrote ourselves cannot fail to
// decode short of memory corruption; the error still reaches the screen.
func (r *Row) Doc() ecs.Doc { return r.doc() }

func (r *Row) doc() ecs.Doc {
	d, err := decodeDoc(r)
	if err != nil {
		return ecs.Doc{"kibana.alert.uuid": r.uuid, "xferhunt.tui_error": err.Error()}
	}
	return d
}

// Alert returns the row as a detect.Alert, decoded.
func (r *Row) Alert() detect.Alert { return detect.Alert{Doc: r.doc()} }

// compareRows orders a before b (-1) under mode. Ties fall back to time
// (newest first, or oldest first when reversed) and arrival, so the order
// is total and a sort is stable across passes.
func compareRows(mode SortMode, a, b *Row) int {
	c := 0
	switch mode.Column() {
	case SortSeverity:
		c = -cmpInt(int(a.sev), int(b.sev))
	case SortProcess:
		c = strings.Compare(a.process, b.process)
	case SortUser:
		c = strings.Compare(a.user, b.user)
	case SortIP:
		c = compareIP(a.ip, b.ip)
	case SortPath:
		c = strings.Compare(a.path, b.path)
	case SortStatus:
		c = cmpInt(int(a.status), int(b.status))
	}
	if c == 0 {
		c = tieBreak(a, b)
	}
	if mode.Reversed() {
		return -c
	}
	return c
}

// tieBreak orders rows equal in the sorted column: newest first, then
// latest arrival.
func tieBreak(a, b *Row) int {
	if c := -cmp.Compare(a.sec, b.sec); c != 0 {
		return c
	}
	if c := -cmp.Compare(a.nsec, b.nsec); c != 0 {
		return c
	}
	return -cmpInt(int(a.seq), int(b.seq))
}

// ipKey is a row's source.ip parsed once for a whole sort: parsing in the
// comparison made a 100k sort take a second.
type ipKey struct {
	addr netip.Addr
	ok   bool
	text string
}

func (k ipKey) compare(o ipKey) int {
	switch {
	case k.ok && o.ok:
		return k.addr.Compare(o.addr)
	case k.ok:
		return -1
	case o.ok:
		return 1
	}
	return strings.Compare(k.text, o.text)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareIP orders addresses numerically (10.0.0.9 before 10.0.0.10);
// text that is no address (absent, escaped) goes after, as text.
func compareIP(a, b string) int {
	x, errA := netip.ParseAddr(a)
	y, errB := netip.ParseAddr(b)
	switch {
	case errA == nil && errB == nil:
		return x.Compare(y)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// Store holds every alert in arrival order plus the shown, ordered view.
// It is a value the view model owns and changes only from its update
// loop; whole-history passes run over a Snapshot instead.
type Store struct {
	rows   []*Row
	byUUID map[string]int32
	vis    []int32 // display order, indexes into rows
	counts [3]int
}

// NewStore returns an empty store.
func NewStore() Store { return Store{byUUID: map[string]int32{}} }

// Len is how many alerts the store holds.
func (s *Store) Len() int { return len(s.rows) }

// Shown is how many alerts the view shows.
func (s *Store) Shown() int { return len(s.vis) }

// At returns the row shown at position i, 0 <= i < Shown().
func (s *Store) At(i int) *Row { return s.rows[s.vis[i]] }

// Count is how many held alerts have workflow status st.
func (s *Store) Count(st triage.Status) int { return s.counts[st] }

// Position returns where the row with arrival number seq is shown, or -1.
func (s *Store) Position(seq int) int {
	for i, idx := range s.vis {
		if int(s.rows[idx].seq) == seq {
			return i
		}
	}
	return -1
}

// Snapshot returns the rows in arrival order for a pass on another
// goroutine. It is a copy because SetStatus replaces rows in place.
func (s *Store) Snapshot() []*Row { return slices.Clone(s.rows) }

// ShownRows returns the shown rows in display order.
func (s *Store) ShownRows() []*Row {
	rows := make([]*Row, len(s.vis))
	for i, idx := range s.vis {
		rows[i] = s.rows[idx]
	}
	return rows
}

// Add appends alerts (replacing ones already known by uuid) and merges the
// new ones that pass pred into vis. A replaced alert is checked against
// pred again and re-placed, as its fields (and sort keys) may have
// changed. Cost is O(len(vis)+batch) per batch, not a full re-sort.
func (s *Store) Add(batch []*Row, statuses map[string]triage.Status, mode SortMode, pred func(ecs.Doc) bool) {
	var fresh []int32
	var replaced map[int32]bool // index → passes pred, the latest copy decides
	for _, r := range batch {
		r.seq = int32(len(s.rows))
		doc := r.arrival
		r.arrival = nil
		if st, ok := statuses[r.uuid]; ok && st != r.Status() {
			r = r.withStatus(st)
			doc = nil // the arrival copy has the old status
		}
		if i, ok := s.byUUID[r.uuid]; ok && r.uuid != "" {
			old := s.rows[i]
			r.seq = old.seq
			s.counts[old.status]--
			s.counts[r.status]++
			s.rows[i] = r
			if replaced == nil {
				replaced = map[int32]bool{}
			}
			if pred != nil && doc == nil {
				doc = r.doc()
			}
			replaced[i] = pred == nil || pred(doc)
			continue
		}
		idx := int32(len(s.rows))
		s.rows = append(s.rows, r)
		if r.uuid != "" {
			s.byUUID[r.uuid] = idx
		}
		s.counts[r.status]++
		if pred != nil && doc == nil {
			doc = r.doc()
		}
		if pred == nil || pred(doc) {
			fresh = append(fresh, idx)
		}
	}
	if replaced != nil {
		gone := func(i int32) bool { _, ok := replaced[i]; return ok }
		s.vis = slices.DeleteFunc(s.vis, gone)
		fresh = slices.DeleteFunc(fresh, gone) // new in this batch, then re-sent
		for i, keep := range replaced {
			if keep {
				fresh = append(fresh, i)
			}
		}
	}
	s.merge(fresh, mode)
}

// Show installs a view computed by Filter over the first upto rows of a
// Snapshot, with pred and mode, then merges the rows that arrived since
// (they were not in the snapshot).
func (s *Store) Show(vis []int32, upto int, pred func(ecs.Doc) bool, mode SortMode) {
	s.vis = vis
	var late []int32
	for i := upto; i < len(s.rows); i++ {
		if pred == nil || pred(s.rows[i].doc()) {
			late = append(late, int32(i))
		}
	}
	s.merge(late, mode)
}

// merge inserts idx (any order) into the sorted vis.
func (s *Store) merge(idx []int32, mode SortMode) {
	if len(idx) == 0 {
		return
	}
	cmp := func(a, b int32) int { return compareRows(mode, s.rows[a], s.rows[b]) }
	slices.SortFunc(idx, cmp)
	// Live alerts usually go on top: prepend without a merge walk.
	if len(s.vis) == 0 || cmp(idx[len(idx)-1], s.vis[0]) <= 0 {
		s.vis = append(idx, s.vis...)
		return
	}
	out := make([]int32, 0, len(s.vis)+len(idx))
	i, j := 0, 0
	for i < len(s.vis) && j < len(idx) {
		if cmp(idx[j], s.vis[i]) < 0 {
			out = append(out, idx[j])
			j++
		} else {
			out = append(out, s.vis[i])
			i++
		}
	}
	out = append(out, s.vis[i:]...)
	out = append(out, idx[j:]...)
	s.vis = out
}

// Row returns the row of uuid, nil when unknown.
func (s *Store) Row(uuid string) *Row {
	if i, ok := s.byUUID[uuid]; ok {
		return s.rows[i]
	}
	return nil
}

// SetStatus replaces the row of uuid with one carrying st, reporting
// whether anything changed.
func (s *Store) SetStatus(uuid string, st triage.Status) bool {
	i, ok := s.byUUID[uuid]
	if !ok || s.rows[i].Status() == st {
		return false
	}
	s.counts[s.rows[i].status]--
	s.counts[st]++
	s.rows[i] = s.rows[i].withStatus(st)
	return true
}

// Matcher is a compiled filter. A *kql.Query is evaluated on the rows'
// index, per rule template (leafeval.go); any other Matcher is handed
// documents.
type Matcher interface {
	Match(d ecs.Doc) bool
}

// MatchFunc is a predicate as a Matcher.
type MatchFunc func(ecs.Doc) bool

// Match calls f.
func (f MatchFunc) Match(d ecs.Doc) bool { return f(d) }

// Filter returns the display order of the rows (a Snapshot) that m keeps,
// sorted by mode; nil m keeps all. Call it off the UI loop: with 100k
// alerts a KQL pass plus a sort is too slow for a key press. A *kql.Query
// is evaluated on the rows' index without documents when it has a
// leafwise form (no nested query, no exists on an object). Otherwise
// query is the text m was compiled from, parsed again only to learn which
// fields m reads, so the pass can hand m documents built from the index
// (filterplan.go) instead of decoding every row.
func Filter(rows []*Row, query string, m Matcher, mode SortMode) []int32 {
	if m == nil {
		return viewOf(rows, nil, mode)
	}
	if q, ok := m.(*kql.Query); ok {
		if lp := newLeafPlan(q); lp != nil {
			keep := make([]bool, len(rows))
			leafMatch(rows, lp, q, keep)
			return viewOf(rows, keep, mode)
		}
	}
	// Planned per pass, not kept: rows that arrived since may carry
	// fields the last plan did not know.
	return computeView(rows, m.Match, planQuery(query), mode)
}

// CountKeyword counts the rows (a Snapshot) whose field holds value as a
// keyword, as an exception on field : value would match them.
func CountKeyword(rows []*Row, field, value string) int {
	var n atomic.Int64
	parallelMatch(rows, planFields([]string{field}, false, len(value) <= maxInline, false), func(_ int, d ecs.Doc) {
		if slices.Contains(d.Keywords(field), value) {
			n.Add(1)
		}
	})
	return int(n.Load())
}

// Matching returns, in row order, the indexes of the rows (a Snapshot)
// that pred keeps, where pred reads only the given fields: the pass reads
// them from the rows' index like a filter does (an exception preview, the
// alerts to close with a new exception), decoding only when it must.
func Matching(rows []*Row, fields []string, pred func(ecs.Doc) bool) []int {
	keep := make([]bool, len(rows))
	// As for a nested query: pred may read an object's entries together
	// (an exception's nested entry), which an array of objects would mix.
	parallelMatch(rows, planFields(fields, false, false, true), func(i int, d ecs.Doc) { keep[i] = pred(d) })
	var out []int
	for i, k := range keep {
		if k {
			out = append(out, i)
		}
	}
	return out
}

// computeView filters and sorts rows. pl, when set, lets the predicate run
// on the rows' index (flat.go).
func computeView(rows []*Row, pred func(ecs.Doc) bool, pl *plan, mode SortMode) []int32 {
	var keep []bool
	if pred != nil {
		keep = make([]bool, len(rows))
		parallelMatch(rows, pl, func(i int, d ecs.Doc) { keep[i] = pred(d) })
	}
	return viewOf(rows, keep, mode)
}

// viewOf is the display order of the rows keep says (nil: all), sorted.
func viewOf(rows []*Row, keep []bool, mode SortMode) []int32 {
	vis := make([]int32, 0, len(rows))
	for i := range rows {
		if keep == nil || keep[i] {
			vis = append(vis, int32(i))
		}
	}
	if mode.Column() == SortIP {
		keys := make([]ipKey, len(rows))
		for _, i := range vis {
			a, err := netip.ParseAddr(rows[i].ip)
			keys[i] = ipKey{a, err == nil, rows[i].ip}
		}
		slices.SortFunc(vis, func(a, b int32) int {
			c := keys[a].compare(keys[b])
			if c == 0 {
				c = tieBreak(rows[a], rows[b])
			}
			if mode.Reversed() {
				return -c
			}
			return c
		})
		return vis
	}
	slices.SortFunc(vis, func(a, b int32) int { return compareRows(mode, rows[a], rows[b]) })
	return vis
}
