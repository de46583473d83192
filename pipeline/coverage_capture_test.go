package pipeline

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/methods"
)

// scanLog runs `xferhunt scan --ephemeral` with rules over an audit log
// held in memory and returns its alerts.
func scanLog(t *testing.T, log []byte, ruleNames ...string) []ecs.Doc {
	t.Helper()
	in := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(in, log, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cfg := Config{Rules: ruleNames, Ephemeral: true, HostID: "coverage-capture", Stdout: &out, Stderr: io.Discard}
	if err := Scan(cfg, []string{in}); err != nil {
		t.Fatal(err)
	}
	docs, err := methods.ParseAlerts(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

func loadCoverageCapture(t *testing.T) (methods.Run, []byte) {
	t.Helper()
	run, err := methods.LoadRun("../testdata/coverage/windows.json")
	if err != nil {
		t.Fatal(err)
	}
	log, err := os.ReadFile("../testdata/coverage/raw.log")
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Windows) != len(methods.Table) {
		t.Fatalf("the capture has %d methods, the table %d: record it again (testdata/coverage/README.md)", len(run.Windows), len(methods.Table))
	}
	return run, log
}

// Every method of the table, scanned alone from the real capture
// (testdata/coverage), gives exactly its row: with the seed rule alone
// (without the directory records that rule set does not ask the kernel
// for) and with the coverage rules.
func TestCoverageCaptureMethods(t *testing.T) {
	run, log := loadCoverageCapture(t)
	for _, w := range run.Windows {
		m, ok := methods.Find(w.ID)
		if !ok {
			t.Fatalf("the capture's method %s is not in the table", w.ID)
		}
		slice := methods.Slice(log, w)
		for _, p := range methods.Check(m, m.Seed, run.Dir, scanLog(t, methods.DropDirs(slice), "seed")) {
			t.Errorf("--rule seed: %s", p)
		}
		for _, p := range methods.Check(m, m.Coverage, run.Dir, scanLog(t, slice, "seed", "coverage")) {
			t.Errorf("--rule seed --rule coverage: %s", p)
		}
	}
}

// The whole capture in one scan is what the live run raised: new_terms
// rules alert on a program's first time, across methods.
func TestCoverageCaptureWhole(t *testing.T) {
	run, log := loadCoverageCapture(t)
	got := scanLog(t, log, "seed", "coverage")
	want := methods.LiveWant()
	for _, w := range run.Windows {
		m, _ := methods.Find(w.ID)
		var mine []ecs.Doc
		for _, d := range got {
			if ms := eventMS(d); ms >= w.StartMS && ms <= w.EndMS {
				mine = append(mine, d)
			}
		}
		for _, p := range methods.Check(m, want[m.ID], run.Dir, mine) {
			t.Error(p)
		}
	}
}

func eventMS(d ecs.Doc) int64 {
	a := detect.Alert{Doc: d}
	return a.EventTime().UnixMilli()
}
