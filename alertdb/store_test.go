package alertdb

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/sharedtest/alerts"
	"github.com/xferhunt/xferhunt/internal/visible"
	"github.com/xferhunt/xferhunt/triage"
)

func shownUUIDs(s *Store) []string {
	var out []string
	for i := range s.Shown() {
		out = append(out, s.At(i).UUID())
	}
	return out
}

// TestStoreShowMergesLateRows: a filter computed over a snapshot is
// installed with the rows that arrived while it ran, filtered the same way.
func TestStoreShowMergesLateRows(t *testing.T) {
	st := NewStore()
	st.Add(buildRows(alerts.TableAlerts()[:3]), nil, SortTime, nil)
	snap := st.Snapshot()
	q := "process.name : (sshd or sftp-server)"
	parsed := kql.MustParse(q)
	pred := parsed.Match
	vis := Filter(snap, q, parsed, SortTime)
	st.Add(buildRows(alerts.TableAlerts()[3:]), nil, SortTime, nil) // a4 scp, a5 sshd
	st.Show(vis, len(snap), pred, SortTime)
	if got, want := shownUUIDs(&st), []string{"a5", "a3", "a2"}; !slices.Equal(got, want) {
		t.Fatalf("shown %v, want %v", got, want)
	}
	if p := st.Position(st.At(1).Seq()); p != 1 {
		t.Fatalf("position of the second row %d", p)
	}
}

// TestStoreStatus: a status change replaces the row (rows are immutable),
// moves the counts and is what the document says afterwards.
func TestStoreStatus(t *testing.T) {
	st := NewStore()
	st.Add(buildRows(alerts.TableAlerts()), map[string]triage.Status{"a2": triage.StatusAcknowledged}, SortSeverity, nil)
	if st.Count(triage.StatusOpen) != 4 || st.Count(triage.StatusAcknowledged) != 1 {
		t.Fatalf("counts open %d ack %d", st.Count(triage.StatusOpen), st.Count(triage.StatusAcknowledged))
	}
	snap := st.Snapshot()
	if !st.SetStatus("a5", triage.StatusClosed) || st.SetStatus("a5", triage.StatusClosed) || st.SetStatus("nope", triage.StatusClosed) {
		t.Fatal("SetStatus reports changes wrongly")
	}
	top := st.At(0) // critical first
	if top.UUID() != "a5" || top.Status() != triage.StatusClosed || top.Doc().Str("kibana.alert.workflow_status") != "closed" {
		t.Fatalf("top row %s %v", top.UUID(), top.Status())
	}
	if snap[4].Status() != triage.StatusOpen {
		t.Fatal("a snapshot saw a later status change")
	}
	if triage.ParseStatus("acknowledged") != triage.StatusAcknowledged || triage.ParseStatus("bogus") != triage.StatusOpen {
		t.Fatal("triage.ParseStatus")
	}
	if SortStatus.Next() != SortTime || (SortUser|SortReverse).Next() != SortIP {
		t.Fatal("sort modes do not wrap")
	}
}

// The responder's own footprint is labelled in the list columns.
func TestRowLabelsResponder(t *testing.T) {
	doc := ecs.Doc{"user": map[string]any{"name": "ann"}, "file": map[string]any{"path": "/tmp/xf"},
		"xferhunt": map[string]any{"responder": map[string]any{"own_session": true, "own_binary": true}}}
	r := NewRow(detect.Alert{Doc: doc})
	if r.User() != "ann (you)" || r.Path() != "[xferhunt itself] /tmp/xf" {
		t.Fatalf("user %q path %q", r.User(), r.Path())
	}
	plain := NewRow(detect.Alert{Doc: ecs.Doc{"user": map[string]any{"name": "ann"}}})
	if plain.User() != "ann" {
		t.Fatalf("unlabelled user %q", plain.User())
	}
}

// TestSortEveryColumn: each column sorts in its natural direction, the
// reverse flag flips it, addresses sort as numbers, and ties fall back to
// newest first.
func TestSortEveryColumn(t *testing.T) {
	mk := func(uuid, sev, proc, user, ip, path string, sec int) detect.Alert {
		return detect.Alert{Doc: ecs.Doc{
			"kibana.alert.uuid": uuid, "kibana.alert.severity": sev,
			"kibana.alert.original_time": time.Unix(int64(1700000000+sec), 0).UTC().Format(time.RFC3339),
			"process.name":               proc, "user.name": user, "source.ip": ip, "file.path": path,
		}}
	}
	alerts := []detect.Alert{
		mk("a", "low", "sshd", "bob", "10.0.0.10", "/b", 1),
		mk("b", "high", "scp", "ann", "10.0.0.9", "/c", 2),
		mk("c", "medium", "vsftpd", "cat", "", "/a", 3),
		mk("d", "high", "scp", "ann", "10.0.0.9", "/a", 4),
	}
	rows := make([]*Row, len(alerts))
	for i, a := range alerts {
		rows[i] = NewRow(a)
		rows[i].seq = int32(i)
	}
	order := func(mode SortMode) string {
		var b strings.Builder
		for _, i := range Filter(rows, "", nil, mode) {
			b.WriteString(rows[i].UUID())
		}
		return b.String()
	}
	for _, c := range []struct {
		mode SortMode
		want string
	}{
		{SortTime, "dcba"},
		{SortTime | SortReverse, "abcd"},
		{SortSeverity, "dbca"},
		{SortSeverity | SortReverse, "acbd"},
		{SortProcess, "dbac"},
		{SortUser, "dbac"},
		{SortUser | SortReverse, "cabd"},
		{SortIP, "dbac"}, // 10.0.0.9 < 10.0.0.10 < no address
		{SortPath, "dcab"},
	} {
		if got := order(c.mode); got != c.want {
			t.Errorf("%v: order %s, want %s", c.mode, got, c.want)
		}
	}
	for _, name := range SortColumns() {
		if _, ok := ParseSortColumn(name); !ok {
			t.Errorf("ParseSortColumn(%q) fails", name)
		}
	}
	if m, _ := ParseSortColumn("oldest"); m != SortTime|SortReverse || !SortTime.Descending() || (SortTime | SortReverse).Descending() || SortPath.Descending() {
		t.Error("directions")
	}
}

// TestRowSize pins the row struct at 160 bytes (a Go size class): at
// 100k alerts every 16 bytes is 1.6 MB.
func TestRowSize(t *testing.T) {
	if n := unsafe.Sizeof(Row{}); n > 160 {
		t.Errorf("Row is %d bytes, over 160", n)
	}
}

// TestInternBounded: repeated column values share one copy, and once the
// table is full a new value is kept as it came.
func TestInternBounded(t *testing.T) {
	a, b := intern(strings.Clone("sftp-server")), intern(strings.Clone("sftp-server"))
	if unsafe.StringData(a) != unsafe.StringData(b) {
		t.Error("the same value interned twice gave two copies")
	}
	for i := 0; len(interned.m) < maxInterned; i++ {
		intern(fmt.Sprintf("fill-%d", i))
	}
	s := strings.Clone("one more value")
	if got := intern(s); unsafe.StringData(got) != unsafe.StringData(s) || len(interned.m) != maxInterned {
		t.Errorf("a full table grew to %d or copied the value", len(interned.m))
	}
}

// TestRowKeepsOneCopy: a row's uuid and path are the bytes its index
// already holds (no second allocation per alert), also after a status
// change, and its time and origin stamp read back as the document says.
func TestRowKeepsOneCopy(t *testing.T) {
	as := captureAlerts(t, "enriched.log", []string{"file.path", "host.id"})
	NewRow(as[0]) // the template of its rule and program
	inside := func(r *Row, s string) bool {
		if len(s) == 0 || len(r.flat) == 0 {
			return false
		}
		p, lo := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(r.flat)))
		return p >= lo && p+uintptr(len(s)) <= lo+uintptr(len(r.flat))
	}
	shared := 0
	for _, a := range as[1:] {
		r := NewRow(a)
		for _, st := range []*Row{r, r.withStatus(triage.StatusClosed)} {
			if !strings.Contains(st.flat, a.ID()) {
				continue // the first alert of its program: its template
			}
			shared++
			if !inside(st, st.UUID()) || st.UUID() != a.ID() {
				t.Errorf("%s: uuid %q not shared with the index", a.ID(), st.UUID())
			}
			// A path with control characters is shown escaped: another
			// string. One equal to the template's is not in the index.
			if p := a.Doc.Str("file.path"); visible.String(p) == p && strings.Contains(st.flat, p) && (!inside(st, st.Path()) || st.Path() != p) {
				t.Errorf("%s: path %q not shared with the index", a.ID(), st.Path())
			}
		}
		want, _ := time.Parse(time.RFC3339Nano, a.Doc.Str("kibana.alert.original_time"))
		if !r.Time().Equal(want) || r.Live().HostID == "" || r.Live() != NewRow(a).Live() {
			t.Errorf("%s: time %v (want %v), stamp %+v", a.ID(), r.Time(), want, r.Live())
		}
	}
	if shared < 4 {
		t.Errorf("only %d rows with an index", shared)
	}
	if r := NewRow(detect.Alert{Doc: ecs.Doc{"kibana.alert.uuid": "no-time"}}); !r.Time().IsZero() {
		t.Errorf("no time reads back as %v", r.Time())
	}
}
