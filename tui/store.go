package tui

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/visible"
)

// Severity orders alerts by kibana.alert.severity.
type Severity int

// Severities from least to most urgent.
const (
	SevUnknown Severity = iota
	SevLow
	SevMedium
	SevHigh
	SevCritical
)

func parseSeverity(s string) Severity {
	switch strings.ToLower(s) {
	case "low":
		return SevLow
	case "medium":
		return SevMedium
	case "high":
		return SevHigh
	case "critical":
		return SevCritical
	}
	return SevUnknown
}

// Status is an alert's workflow status.
type Status int

// Workflow statuses as Kibana names them.
const (
	StatusOpen Status = iota
	StatusAcknowledged
	StatusClosed
)

var statusNames = [...]string{"open", "acknowledged", "closed"}

func (s Status) String() string { return statusNames[s] }

func parseStatus(s string) Status {
	switch s {
	case "acknowledged":
		return StatusAcknowledged
	case "closed":
		return StatusClosed
	}
	return StatusOpen
}

// SortMode is the list order.
type SortMode int

// Sort modes, cycled with the sort key.
const (
	SortTime SortMode = iota // newest first
	SortSeverity
	SortProcess
	sortModes
)

var sortNames = [...]string{"newest", "severity", "process"}

func (s SortMode) String() string { return sortNames[s] }

// row is one alert with its list columns extracted and sanitized once, at
// arrival, so drawing a frame never walks a document. Rows are immutable:
// a status change replaces the row, which lets filter Cmds read a snapshot
// of the row slice from another goroutine without locks.
type row struct {
	seq  int
	blob []byte // deflated alert JSON, see codec.go
	// flat indexes the leaf values relative to tmpl, the template of the
	// alert's rule, so filters need not decode blob (flat.go). A nil tmpl
	// means no index: filters decode.
	flat string
	tmpl *template
	uuid string
	pid  int
	// arrival is the document as it came in, kept only until the row is
	// stored so a live filter need not decode what it was just handed.
	arrival    ecs.Doc
	at         time.Time
	sev        Severity
	status     Status
	historical bool
	process    string
	user       string
	ip         string
	path       string
}

func newRow(seq int, a detect.Alert) *row {
	d := a.Doc
	blob, err := encodeDoc(d)
	var flat string
	var tmpl *template
	if err != nil {
		blob, _ = encodeDoc(ecs.Doc{"kibana.alert.uuid": d.Str("kibana.alert.uuid"), "xferhunt.tui_error": err.Error()})
	} else {
		flat, tmpl = flatten(d)
	}
	pid, _ := strconv.Atoi(ecs.Display(d.Get("process.pid")))
	ts := d.Str("kibana.alert.original_time")
	if ts == "" {
		ts = d.Str("@timestamp")
	}
	at, _ := time.Parse(time.RFC3339Nano, ts)
	hist, _ := d.Get("xferhunt.historical").(bool)
	return &row{
		seq:        seq,
		arrival:    d,
		blob:       blob,
		flat:       flat,
		tmpl:       tmpl,
		pid:        pid,
		uuid:       d.Str("kibana.alert.uuid"),
		at:         at,
		sev:        parseSeverity(d.Str("kibana.alert.severity")),
		status:     parseStatus(d.Str("kibana.alert.workflow_status")),
		historical: hist,
		process:    visible.String(d.Str("process.name")),
		user:       visible.String(d.Str("user.name")),
		ip:         visible.String(d.Str("source.ip")),
		path:       visible.String(d.Str("file.path")),
	}
}

// withStatus returns a copy of r whose document carries the new status, so
// copy, export and KQL filters all see what the analyst decided.
func (r *row) withStatus(s Status) *row {
	n := *r
	n.status = s
	doc := r.doc()
	doc["kibana.alert.workflow_status"] = s.String()
	if blob, err := encodeDoc(doc); err == nil {
		n.blob = blob
		n.flat, n.tmpl = flatten(doc)
	}
	return &n
}

// doc decodes the alert document. A blob we wrote ourselves cannot fail to
// decode short of memory corruption; the error still reaches the screen.
func (r *row) doc() ecs.Doc {
	d, err := decodeDoc(r.blob)
	if err != nil {
		return ecs.Doc{"kibana.alert.uuid": r.uuid, "xferhunt.tui_error": err.Error()}
	}
	return d
}

// alert returns the row as a detect.Alert for the Backend.
func (r *row) alert() detect.Alert { return detect.Alert{Doc: r.doc()} }

// less orders rows for display under mode: true when a goes above b.
func less(mode SortMode, a, b *row) bool {
	switch mode {
	case SortSeverity:
		if a.sev != b.sev {
			return a.sev > b.sev
		}
	case SortProcess:
		if c := strings.Compare(a.process, b.process); c != 0 {
			return c < 0
		}
	}
	if !a.at.Equal(b.at) {
		return a.at.After(b.at)
	}
	return a.seq > b.seq
}

// store holds every alert in arrival order plus the visible, ordered view.
type store struct {
	rows   []*row
	byUUID map[string]int32
	vis    []int32 // display order, indexes into rows
	counts [3]int
}

func newStore() store { return store{byUUID: map[string]int32{}} }

// add appends alerts (replacing ones already known by uuid) and merges the
// new ones that pass pred into vis. A replaced alert is checked against
// pred again and re-placed, as its fields (and sort keys) may have
// changed. Cost is O(len(vis)+batch) per batch, not a full re-sort.
func (s *store) add(batch []*row, statuses map[string]Status, mode SortMode, pred func(ecs.Doc) bool) {
	var fresh []int32
	var replaced map[int32]bool // index → passes pred, the latest copy decides
	for _, r := range batch {
		r.seq = len(s.rows)
		doc := r.arrival
		r.arrival = nil
		if st, ok := statuses[r.uuid]; ok && st != r.status {
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

// merge inserts idx (any order) into the sorted vis.
func (s *store) merge(idx []int32, mode SortMode) {
	if len(idx) == 0 {
		return
	}
	cmp := func(a, b int32) int {
		if less(mode, s.rows[a], s.rows[b]) {
			return -1
		}
		if less(mode, s.rows[b], s.rows[a]) {
			return 1
		}
		return 0
	}
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

// setStatus replaces the row of uuid with one carrying st.
func (s *store) setStatus(uuid string, st Status) bool {
	i, ok := s.byUUID[uuid]
	if !ok || s.rows[i].status == st {
		return false
	}
	s.counts[s.rows[i].status]--
	s.counts[st]++
	s.rows[i] = s.rows[i].withStatus(st)
	return true
}

// computeView filters and sorts a snapshot of rows. It runs inside a Cmd:
// with 100k alerts a KQL pass plus a sort is too slow for a key press. pl,
// when set, lets the predicate run on the rows' index (flat.go).
func computeView(rows []*row, pred func(ecs.Doc) bool, pl *plan, mode SortMode) []int32 {
	vis := make([]int32, 0, len(rows))
	if pred == nil {
		for i := range rows {
			vis = append(vis, int32(i))
		}
	} else {
		keep := make([]bool, len(rows))
		parallelMatch(rows, pl, func(i int, d ecs.Doc) { keep[i] = pred(d) })
		for i, k := range keep {
			if k {
				vis = append(vis, int32(i))
			}
		}
	}
	slices.SortFunc(vis, func(a, b int32) int {
		if less(mode, rows[a], rows[b]) {
			return -1
		}
		if less(mode, rows[b], rows[a]) {
			return 1
		}
		return 0
	})
	return vis
}
