package alertdb

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite alertdict.json from the capture (go generate ./alertdb)")

// dictFromCapture derives alertDict: the first alert the seed
// rule raises over the committed raw capture, as marshalDoc writes it.
func dictFromCapture(tb testing.TB) []byte {
	alerts := captureAlerts(tb, "raw.log", nil)
	if len(alerts) == 0 {
		tb.Fatal("the seed rule raised no alert over raw.log")
	}
	js, err := json.Marshal(map[string]any(alerts[0].Doc))
	if err != nil {
		tb.Fatal(err)
	}
	return js
}

// TestAlertDict: the embedded alert is what the alert builder makes today.
// A change to the builder, the seed rule or the parser that moves alerts
// away from it fails here instead of silently making decoding allocate the
// keys internKeys no longer holds.
func TestAlertDict(t *testing.T) {
	want := dictFromCapture(t)
	if *update {
		if err := os.WriteFile("alertdict.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(alertDict, want) {
		t.Fatalf("alertdict.json (%d bytes) is stale: the alert builder now writes %d bytes; run go generate ./alertdb", len(alertDict), len(want))
	}
}

// maxAlertBlob is the most a real alert may take compressed. Measured
// when alerts became deltas against their template (delta.go): 12 bytes
// for a template's own alert, 273–434 for the others below (449–912 when
// each was deflated whole against one dictionary); the bound leaves ~60%
// for drift.
const maxAlertBlob = 700

// TestAlertSize compresses every alert the seed rule raises (with
// file.path as the new term, so every upload outside /run alerts) over
// both captures: raw.log, which the dictionary comes from, and
// enriched.log, another recording it has never seen.
func TestAlertSize(t *testing.T) {
	for _, name := range []string{"raw.log", "enriched.log"} {
		alerts := captureAlerts(t, name, []string{"file.path", "host.id"})
		if len(alerts) != 5 {
			t.Fatalf("%s: %d alerts, want 5", name, len(alerts))
		}
		for i, a := range alerts {
			r := NewRow(a)
			js, _ := json.Marshal(map[string]any(a.Doc))
			t.Logf("%s alert %d: %d bytes of JSON, %d compressed, index %d", name, i, len(js), len(r.blob), len(r.flat))
			if len(r.blob) > maxAlertBlob {
				t.Errorf("%s alert %d compresses to %d bytes, over %d", name, i, len(r.blob), maxAlertBlob)
			}
			if d, err := decodeDoc(r); err != nil || d.Str("kibana.alert.uuid") != a.ID() {
				t.Errorf("%s alert %d does not round-trip: %v", name, i, err)
			}
		}
	}
}
