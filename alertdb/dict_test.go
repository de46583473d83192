package alertdb

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite alertdict.json from the capture (go generate ./alertdb)")

// dictFromCapture derives the deflate dictionary: the first alert the seed
// rule raises over the committed raw capture, as encodeDoc writes it.
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

// TestAlertDict: the embedded dictionary is what the alert builder makes
// today. A change to the builder, the seed rule or the parser that moves
// alerts away from it fails here instead of silently making every held
// alert bigger.
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
// when the dictionary was generated: 239–691 bytes over the ten alerts
// below (none compressed ~3.9–4.1 KB; the hand-written dictionary it
// replaced left 3.3–3.5 KB); the bound leaves ~30% for drift. The rule
// fields Kibana's build_alert writes (the parameters block, execution and
// rule uuids, dates) brought it to 449–912 bytes: the bound follows.
const maxAlertBlob = 1200

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
			flat, _ := flatten(a.Doc)
			blob, err := encodeDoc(a.Doc, flat)
			if err != nil {
				t.Fatal(err)
			}
			js, _ := json.Marshal(map[string]any(a.Doc))
			t.Logf("%s alert %d: %d bytes of JSON, %d compressed", name, i, len(js), len(blob))
			if len(blob) > maxAlertBlob {
				t.Errorf("%s alert %d compresses to %d bytes, over %d", name, i, len(blob), maxAlertBlob)
			}
			if d, err := decodeDoc(blob, flat); err != nil || d.Str("kibana.alert.uuid") != a.ID() {
				t.Errorf("%s alert %d does not round-trip: %v", name, i, err)
			}
		}
	}
}
