package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/enrich"
	"github.com/xferhunt/xferhunt/internal/liveness"
	"github.com/xferhunt/xferhunt/sources"
)

// ruleFieldKeys are the alert keys whose values every alert of a rule
// shares (detect.alertBase) and that could be written through: the rule's
// non-empty objects and arrays, and the top-level threat.
func ruleFieldKeys(a detect.Alert) []string {
	var out []string
	for k, v := range a.Doc {
		switch rv := reflect.ValueOf(v); rv.Kind() {
		case reflect.Map, reflect.Slice:
			if rv.Len() == 0 {
				continue // every empty slice points at the same address
			}
		default:
			continue // a string or number cannot be written through
		}
		if k == "threat" || len(k) > len("kibana.alert.rule.") && k[:len("kibana.alert.rule.")] == "kibana.alert.rule." {
			out = append(out, k)
		}
	}
	return out
}

// TestAlertsShareReadOnlyRuleFields: alerts of one rule share the rule's
// fields instead of each holding a deep copy (and alerts of one process its
// ancestry, within the enricher's cache time), and nothing on the live
// path writes through them: after enrichment from this host, liveness,
// the responder's marks, the journal, the settle copy, the NDJSON writer
// and the TUI's row store have handled many alerts, the first alert's rule
// fields still encode as they did when it was raised.
func TestAlertsShareReadOnlyRuleFields(t *testing.T) {
	dir := t.TempDir()
	var errb bytesSink
	s, err := newSetup(&Config{Rules: []string{"seed"}, StateDir: filepath.Join(dir, "state"), NewTermsFields: []string{"file.path", "host.id"}, Stderr: &errb})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.journal = newJournal(s.store)
	s.here = liveness.Host{ID: "h1", Boot: liveness.BootID()}
	l := newLive(s, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	jdone := make(chan struct{})
	go func() { defer close(jdone); s.journal.run(ctx) }()

	var raised, sent []detect.Alert
	var first []byte    // the first alert's rule fields as raised
	var firstAnc []byte // and its process ancestry as enriched
	encode := func(a detect.Alert) []byte {
		fields := map[string]any{}
		for _, k := range ruleFieldKeys(a) {
			fields[k] = a.Doc[k]
		}
		b, err := json.Marshal(fields)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	enc := &ndjson{w: bytesSink{}}
	sink := func(a detect.Alert) {
		sent = append(sent, a)
		if err := enc.write(a.Doc); err != nil {
			t.Error(err)
		}
		if _, err := alertdb.NewRow(a).JSON(); err != nil {
			t.Error(err)
		}
	}
	for i := range 20 {
		p := filepath.Join(dir, "up", string(rune('a'+i)))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("payload"), 0o644)
		ev := creation("/usr/bin/scp", p)
		ev.Set("process.pid", os.Getpid())
		ev.Set("user.id", "0")
		l.detect([]sources.Event{{Doc: ev, Key: p}}, func(st stagedAlert) {
			if first == nil {
				if n := len(ruleFieldKeys(st.alert)); n < 5 {
					t.Fatalf("alert has %d object-valued rule fields, want the rule's", n)
				}
				first = encode(st.alert)
			}
			raised = append(raised, st.alert)
			l.finish(ctx, ctx, st, sink)
			if firstAnc == nil {
				firstAnc, _ = json.Marshal(st.alert.Doc.Get(enrich.ProcessAncestry))
			}
			// What a settler does with an alert whose facts change later.
			l.settle(ctx, ctx, st.alert, false, sink)
		})
	}
	l.settling.Wait()
	cancel()
	<-jdone
	if len(raised) != 20 || len(sent) != 40 {
		t.Fatalf("%d alerts raised, %d sent for 20 new files: want 20 and 40 (each settled once)", len(raised), len(sent))
	}
	shared := 0
	for _, k := range ruleFieldKeys(raised[0]) {
		if reflect.ValueOf(raised[0].Doc[k]).UnsafePointer() == reflect.ValueOf(raised[19].Doc[k]).UnsafePointer() {
			shared++
		}
	}
	if shared == 0 {
		t.Errorf("the first and last alert share none of the rule's fields: each holds a copy")
	}
	if now := encode(raised[0]); string(now) != string(first) {
		t.Errorf("rule fields changed after the live path handled the alerts:\nwas %s\nnow %s", first, now)
	}
	// The enricher shares one process's ancestry the same way.
	anc := raised[0].Doc.Get(enrich.ProcessAncestry)
	if a, ok := anc.([]any); !ok || len(a) == 0 {
		t.Fatalf("no process ancestry enriched from this process: %v", anc)
	}
	if reflect.ValueOf(anc).UnsafePointer() != reflect.ValueOf(raised[19].Doc.Get(enrich.ProcessAncestry)).UnsafePointer() {
		t.Errorf("alerts of one process within the enricher's cache time hold copies of its ancestry")
	}
	if now, _ := json.Marshal(anc); string(now) != string(firstAnc) {
		t.Errorf("process ancestry changed after the live path handled the alerts:\nwas %s\nnow %s", firstAnc, now)
	}
}
