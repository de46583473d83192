package detect

import (
	"encoding/json"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/sharedtest"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/catalog"
)

// samePacked fails unless ev and tup come back from packing as they went
// in: the same types (reflect.DeepEqual), the same JSON and the same event
// key, which is all an alert reads of them.
func samePacked(t *testing.T, tup []string, ev ecs.Doc) {
	t.Helper()
	d := newOffDoc(ev, tup, Flags{})
	if d.packed == nil {
		t.Fatalf("not packed: %v", ev)
	}
	gotTup, got := d.event()
	if !reflect.DeepEqual(got, ev) {
		t.Fatalf("unpacked\n%#v\nwant\n%#v", got, ev)
	}
	if !reflect.DeepEqual(gotTup, tup) || !reflect.DeepEqual(d.tuple(), tup) {
		t.Fatalf("tuple %q / %q, want %q", gotTup, d.tuple(), tup)
	}
	a, err1 := ecs.AppendJSON(nil, ev)
	b, err2 := ecs.AppendJSON(nil, got)
	if err1 != nil || err2 != nil || string(a) != string(b) {
		t.Fatalf("JSON differs:\n%s\n%s (%v %v)", a, b, err1, err2)
	}
	if eventKey(got, "") != eventKey(ev, "") {
		t.Fatalf("event key %q, want %q", eventKey(got, ""), eventKey(ev, ""))
	}
}

// TestPackDocTypes: every value type a Doc is built from survives packing
// as that type — Doc and map, []string and []any, int, int64 and uint64,
// json.Number, nil and empty slices and maps.
func TestPackDocTypes(t *testing.T) {
	ev := ecs.Doc{
		"@timestamp": "2026-03-01T12:00:00.000Z",
		"s":          "", "u": "héllo\x00\xff", "t": true, "f": false, "n": nil,
		"f64": 1.5e300, "neg": math.Copysign(0, -1), "int": -7, "i64": int64(-1 << 62), "u64": uint64(1<<64 - 1),
		"num":     json.Number("12345678901234567890"),
		"anys":    []any{"a", 1.0, nil, []any{}, map[string]any{"x": []string{"y"}}},
		"nilanys": []any(nil), "strs": []string{"a", ""}, "nilstrs": []string(nil),
		"obj":    map[string]any{"dotted.key": ecs.Doc{"deep": map[string]any{}}},
		"nilmap": map[string]any(nil), "nildoc": ecs.Doc(nil),
		"event": map[string]any{"id": "ev-1"}, "host": map[string]any{"id": "h"},
	}
	samePacked(t, []string{"/usr/bin/scp", "", "h"}, ev)
	samePacked(t, []string{""}, ecs.Doc{})
	// No event.id: the key hashes the document's JSON.
	delete(ev, "event")
	samePacked(t, []string{"x"}, ev)
}

// TestPackDocUnknownType: a value of a type packing does not know keeps
// the document as it came, and the alert still gets it.
func TestPackDocUnknownType(t *testing.T) {
	ev := ecs.Doc{"when": time.Unix(0, 0), "a": []any{int32(1)}}
	d := newOffDoc(ev, []string{"t"}, Flags{Loss: true})
	if d.packed != nil {
		t.Fatal("packed a time.Time")
	}
	tup, got := d.event()
	if !reflect.DeepEqual(got, ev) || !reflect.DeepEqual(tup, []string{"t"}) || d.flags != offLoss {
		t.Fatalf("got %v %v %d", tup, got, d.flags)
	}
	if _, ok := packDoc(nil, nil, ecs.Doc{"deep": deepDoc(packMaxDepth + 5)}); ok {
		t.Fatal("packed a document nested deeper than packMaxDepth")
	}
}

func deepDoc(n int) any {
	var v any = "leaf"
	for range n {
		v = map[string]any{"a": v}
	}
	return v
}

// TestPackDocSamples packs every event the sources make of the public
// samples (auditd text, Auditbeat, ECS, laurel JSON: the value types real
// input gives) and requires each back unchanged.
func TestPackDocSamples(t *testing.T) {
	dir := filepath.Join(sharedtest.Dir, "samples")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no samples: %v", err)
	}
	formats := catalog.Formats()
	events := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) == ".md" {
			return err
		}
		in, err := formats.OpenInput(p)
		if err != nil {
			return nil // not a log or document file
		}
		defer in.Close()
		_, _ = in.Scan(sources.ScanOptions{HostID: "h", HostName: "n", Story: true, Emit: func(ev sources.Event) {
			events++
			samePacked(t, []string{ev.Doc.Str("file.path")}, ev.Doc)
		}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if events < 1000 {
		t.Fatalf("only %d events packed: the samples were not read", events)
	}
	t.Logf("%d events", events)
}
