package alertdb

import (
	"slices"
	"testing"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/ecs"
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
	st.Add(buildRows(tableAlerts()[:3]), nil, SortTime, nil)
	snap := st.Snapshot()
	q := "process.name : (sshd or sftp-server)"
	pred := kql.MustParse(q).Match
	vis := Filter(snap, q, pred, SortTime)
	st.Add(buildRows(tableAlerts()[3:]), nil, SortTime, nil) // a4 scp, a5 sshd
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
	st.Add(buildRows(tableAlerts()), map[string]triage.Status{"a2": triage.StatusAcknowledged}, SortSeverity, nil)
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
	if SortProcess.Next() != SortTime {
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
