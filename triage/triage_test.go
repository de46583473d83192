package triage

import (
	"encoding/json"
	"testing"
)

func TestParseAndString(t *testing.T) {
	for _, s := range []Severity{SevUnknown, SevLow, SevMedium, SevHigh, SevCritical} {
		if s != SevUnknown && ParseSeverity(s.String()) != s {
			t.Errorf("severity %d round trip: %q", s, s.String())
		}
	}
	if ParseSeverity("CRITICAL") != SevCritical || ParseSeverity("urgent") != SevUnknown || SevUnknown.String() != "?" {
		t.Error("ParseSeverity: case is ignored, unknown names are unknown")
	}
	for _, s := range []Status{StatusOpen, StatusAcknowledged, StatusClosed} {
		if ParseStatus(s.String()) != s {
			t.Errorf("status %d round trip: %q", s, s.String())
		}
	}
	if ParseStatus("bogus") != StatusOpen {
		t.Error("an unknown status must read as open")
	}
}

// The state store persists a status as Kibana's word, as it did when the
// field was a string.
func TestStatusJSON(t *testing.T) {
	b, err := json.Marshal(struct{ S Status }{StatusAcknowledged})
	if err != nil || string(b) != `{"S":"acknowledged"}` {
		t.Fatalf("%s %v", b, err)
	}
	var v struct{ S Status }
	if err := json.Unmarshal([]byte(`{"S":"closed"}`), &v); err != nil || v.S != StatusClosed {
		t.Fatalf("%v %v", v, err)
	}
}
