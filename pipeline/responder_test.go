package pipeline

import (
	"testing"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/story"
)

func TestResponderMarks(t *testing.T) {
	r := &responder{host: "h1", inode: "4242", session: 7}
	doc := func(host, inode string, ses any) detect.Alert {
		d := ecs.Doc{"host": map[string]any{"id": host}, "file": map[string]any{"inode": inode}}
		if ses != nil {
			d.Set("xferhunt.session.id", ses)
		}
		return detect.Alert{Doc: d}
	}
	a := doc("h1", "4242", int64(7))
	if r.markAlert(a) {
		t.Error("hidden without --hide-own")
	}
	if a.Doc.Get("xferhunt.responder.own_binary") != true || a.Doc.Get("xferhunt.responder.own_session") != true {
		t.Errorf("marks = %v", a.Doc.Get("xferhunt.responder"))
	}
	// JSON numbers (a restored alert) and another session.
	b := doc("h1", "1", float64(8))
	r.markAlert(b)
	if b.Doc.Get("xferhunt.responder") != nil {
		t.Errorf("another session's alert marked: %v", b.Doc.Get("xferhunt.responder"))
	}
	// Another host's event with the same inode and session is not ours.
	c := doc("h2", "4242", int64(7))
	r.markAlert(c)
	if c.Doc.Get("xferhunt.responder") != nil {
		t.Errorf("another host's alert marked: %v", c.Doc.Get("xferhunt.responder"))
	}
	r.hide = true
	if !r.markAlert(doc("h1", "1", 7)) || r.markAlert(doc("h1", "4242", nil)) {
		t.Error("--hide-own hides the own session's alerts only (an own-binary upload stays shown)")
	}
	e := story.Event{Host: "h1", Session: 7}
	r.markEvent(&e)
	o := story.Event{Host: "h1", Session: 8}
	r.markEvent(&o)
	if !e.Own || o.Own {
		t.Errorf("event marks: own session %v, other %v", e.Own, o.Own)
	}
	var none *responder
	if none.markAlert(a) {
		t.Error("a recording (no responder) hid an alert")
	}
}
