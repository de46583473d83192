package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScanDamagedState: a state.db cut in half or torn after its meta
// pages exits 1 with the one-line "state is damaged" advice (before: a
// SIGBUS and a freelist panic, both exit 2 with a Go stack), and
// --state-repair sets it aside and scans with fresh state.
func TestScanDamagedState(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed")
	if r := xferhunt(t, nil, "scan", "--state", seed, "testdata/capture/raw.log"); r.code != 0 {
		t.Fatalf("seed run: exit %d: %s", r.code, r.stderr)
	}
	good, err := os.ReadFile(filepath.Join(seed, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"cut in half": good[:len(good)/2],
		"torn":        append(append([]byte(nil), good[:2*4096]...), bytes.Repeat([]byte{0xAA}, len(good)-2*4096)...),
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "st")
			os.Mkdir(dir, 0o700)
			if err := os.WriteFile(filepath.Join(dir, "state.db"), bad, 0o600); err != nil {
				t.Fatal(err)
			}
			r := xferhunt(t, nil, "scan", "--state", dir, "testdata/capture/raw.log")
			if r.code != 1 || strings.Count(r.stderr, "\n") != 1 ||
				!strings.HasPrefix(r.stderr, "xferhunt: state is damaged: move it away (or --state-repair") {
				t.Fatalf("exit %d, stderr %.300q; want exit 1 and the one-line advice", r.code, r.stderr)
			}
			r = xferhunt(t, nil, "scan", "--state-repair", "--state", dir, "testdata/capture/raw.log")
			if r.code != 0 || len(alerts(t, r.stdout)) != 3 || !strings.Contains(r.stderr, "set aside as state.db.damaged-") {
				t.Fatalf("--state-repair: exit %d, %d alerts, stderr %q", r.code, len(alerts(t, r.stdout)), r.stderr)
			}
			m, _ := filepath.Glob(filepath.Join(dir, "state.db.damaged-*"))
			if len(m) != 1 {
				t.Fatalf("set-aside files %q, want one", m)
			}
		})
	}
}
