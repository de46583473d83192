package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestHelpOnStdout: help that is asked for goes to stdout with exit 0, so
// `xferhunt --help | less` shows it; each command has its own.
func TestHelpOnStdout(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		r := xferhunt(t, nil, args...)
		if r.code != 0 || r.stderr != "" || !strings.Contains(string(r.stdout), "Usage:") || !strings.Contains(string(r.stdout), "-source") {
			t.Errorf("%v: exit %d, stderr %q, stdout %.80q", args, r.code, r.stderr, r.stdout)
		}
	}
	for _, args := range [][]string{{"scan", "--help"}, {"help", "scan"}, {"scan", "-h"}} {
		r := xferhunt(t, nil, args...)
		out := string(r.stdout)
		if r.code != 0 || r.stderr != "" || !strings.HasPrefix(out, "Usage: xferhunt scan") {
			t.Errorf("%v: exit %d, stderr %q, stdout %.80q", args, r.code, r.stderr, out)
		}
		// Only the flags scan reads.
		if strings.Contains(out, "-source") || strings.Contains(out, "-headless") || !strings.Contains(out, "-ephemeral") {
			t.Errorf("%v: flags listed are not scan's:\n%s", args, out)
		}
	}
	r := xferhunt(t, nil, "story", "--help")
	if r.code != 0 || !strings.HasPrefix(string(r.stdout), "Usage: xferhunt story") || !strings.Contains(string(r.stdout), "-session") {
		t.Errorf("story --help: exit %d, stdout %.80q", r.code, r.stdout)
	}
	if r := xferhunt(t, nil, "help", "nope"); r.code != 2 || len(r.stdout) != 0 {
		t.Errorf("help nope: exit %d, stdout %q", r.code, r.stdout)
	}
}

// TestBadFlagOnce: an unknown flag is one line on stderr naming it and
// pointing at the command's help, exit 2, nothing on stdout.
func TestBadFlagOnce(t *testing.T) {
	for _, c := range []struct {
		args []string
		help string
	}{
		{[]string{"--bogus"}, "`xferhunt --help`"},
		{[]string{"scan", "--bogus", "x.log"}, "`xferhunt scan --help`"},
		{[]string{"scan", "--history-window", "nonsense", "x.log"}, "`xferhunt scan --help`"},
	} {
		r := xferhunt(t, nil, c.args...)
		lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
		if r.code != 2 || len(r.stdout) != 0 || len(lines) != 1 || !strings.Contains(lines[0], c.help) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", c.args, r.code, r.stdout, r.stderr)
		}
		if strings.Count(r.stderr, "bogus") > 1 || strings.Contains(r.stderr, "Usage") {
			t.Errorf("%v: error repeated or usage dumped: %q", c.args, r.stderr)
		}
	}
}

// TestScanRejectsLiveFlags: scan would ignore the live run's flags; it
// says so instead (exit 2, one line), before reading anything.
func TestScanRejectsLiveFlags(t *testing.T) {
	for _, f := range [][]string{{"--source", "auto"}, {"--headless"}, {"--coverage", "broad"}, {"--hide-own"}} {
		args := append(append([]string{"scan", "--ephemeral"}, f...), "testdata/capture/raw.log")
		r := xferhunt(t, nil, args...)
		if r.code != 2 || len(r.stdout) != 0 || !strings.Contains(r.stderr, "scan does not use "+f[0]) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %d bytes, stderr %q", f, r.code, len(r.stdout), r.stderr)
		}
	}
}

// TestScanSaysWhyRemembered: the second scan of a file over the same state
// raises nothing, and the summary says it is the remembered history and
// how to start fresh; an ephemeral scan never says it.
func TestScanSaysWhyRemembered(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	first := xferhunt(t, nil, "scan", "--state", state, "testdata/capture/raw.log")
	if first.code != 0 || strings.Contains(first.stderr, "earlier runs") {
		t.Fatalf("first scan: exit %d: %s", first.code, first.stderr)
	}
	second := xferhunt(t, nil, "scan", "--state", state, "testdata/capture/raw.log")
	if second.code != 0 || len(alerts(t, second.stdout)) != 0 {
		t.Fatalf("second scan: exit %d, %d alerts", second.code, len(alerts(t, second.stdout)))
	}
	if !strings.Contains(second.stderr, "5 matches raised no alert: the term history in "+state+" already held 3 terms from earlier runs") || !strings.Contains(second.stderr, "--ephemeral") {
		t.Fatalf("second scan does not say why it is silent:\n%s", second.stderr)
	}
	eph := xferhunt(t, nil, "scan", "--ephemeral", "testdata/capture/raw.log")
	if strings.Contains(eph.stderr, "earlier runs") {
		t.Fatalf("ephemeral scan blames remembered history:\n%s", eph.stderr)
	}
}
