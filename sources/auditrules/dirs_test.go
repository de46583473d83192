package auditrules_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/sources/auditrules"
)

// Directory rules: only when asked, built by go-libaudit as auditctl
// would, per creator and for login sessions in narrow coverage, host-wide
// in broad; never xferhunt's own pid.
func TestDirLines(t *testing.T) {
	if got := auditrules.ForDirs(auditrules.Narrow, 4242, false); !slices.Equal(got, auditrules.For(auditrules.Narrow, 4242)) {
		t.Error("directory rules added when no rule asked for them")
	}
	creators := []string{"/usr/sbin/vsftpd", "/usr/bin/scp", "/bad path/x"}
	narrow := auditrules.DirLines(auditrules.Narrow, creators, 4242)
	var perExe, session int
	for _, l := range narrow {
		build(t, l)
		if sc := syscalls(l); !slices.Contains(sc, "mkdirat") || len(sc) > 2 {
			t.Errorf("not a directory rule: %s", l)
		}
		if !strings.Contains(l, " -F success=1 ") || !strings.HasSuffix(l, " -k "+auditrules.Key) {
			t.Errorf("records failures or lacks the key: %s", l)
		}
		switch {
		case strings.Contains(l, " -F exe="):
			perExe++
			if strings.Contains(l, "/bad path") {
				t.Errorf("a path with a space became a rule: %s", l)
			}
		case strings.Contains(l, " -F auid!=unset -F pid!=4242 "):
			session++
		default:
			t.Errorf("narrow directory rule for every process: %s", l)
		}
	}
	if perExe != 4 || session != 2 {
		t.Errorf("narrow: %d per-executable and %d session rules, want 4 and 2:\n%s", perExe, session, strings.Join(narrow, "\n"))
	}
	for _, l := range auditrules.DirLines(auditrules.Transfers, creators, 4242) {
		if !strings.Contains(l, " -F exe=") {
			t.Errorf("transfers coverage records directories beyond the transfer programs: %s", l)
		}
	}
	broad := auditrules.DirLines(auditrules.Broad, creators, 4242)
	if len(broad) != 2 {
		t.Errorf("broad: %d rules, want one per arch: %v", len(broad), broad)
	}
	for _, l := range broad {
		build(t, l)
		if strings.Contains(l, "exe=") || strings.Contains(l, "auid") {
			t.Errorf("broad directory rule is filtered: %s", l)
		}
	}
	with := auditrules.ForDirs(auditrules.Narrow, 4242, true)
	if len(with) <= len(auditrules.For(auditrules.Narrow, 4242)) {
		t.Error("ForDirs(…, true) added nothing")
	}
}
