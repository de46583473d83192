package auditrules

import (
	"strconv"
	"strings"
)

// dirSyscalls create directories. Neither coverage records them unless
// asked (DirLines): a directory is a file event the seed rule's query could
// match, so recording them always would change what the seed rule alerts on.
var dirSyscalls = []string{"mkdir", "mkdirat"}

// DirLines returns the rules that record directory creations, for rules that
// look at them (the built-in coverage-dirs): with Narrow, those of the given
// creators (the transfer programs, by executable: vsftpd serves FTP outside
// any login session) and those of login sessions (login uid set, selfPID
// left out, as in SessionLines: sftp-server, scp -t, rsync --server and
// internal-sftp run there); with Transfers, the creators' only; with Broad,
// every one on the host. Successful calls only. arm64 has no mkdir, only
// mkdirat.
func DirLines(c Coverage, creators []string, selfPID int) []string {
	var out []string
	for _, arch := range []string{"b64", "b32"} {
		sc := strings.Join(Known(arch, dirSyscalls), ",")
		if sc == "" {
			continue
		}
		head := "-a always,exit -F arch=" + arch + " -S " + sc
		if c == Broad {
			out = append(out, head+" -F success=1 -k "+Key)
			continue
		}
		for _, exe := range creators {
			if ruleSafe(exe) {
				out = append(out, head+" -F success=1 -F exe="+exe+" -k "+Key)
			}
		}
		if c == Transfers {
			continue // no session rules: interactive sessions pay nothing
		}
		filter := " -F auid!=unset"
		if selfPID > 0 {
			filter += " -F pid!=" + strconv.Itoa(selfPID)
		}
		out = append(out, head+filter+" -F success=1 -k "+Key)
	}
	return out
}

// ForDirs is For with DirLines added when dirs is set: the rule set of a
// run whose rules need directory creations.
func ForDirs(c Coverage, selfPID int, dirs bool) []string {
	out := For(c, selfPID)
	if dirs {
		out = append(out, DirLines(c, Executables(Creators), selfPID)...)
	}
	return out
}
