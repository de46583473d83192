package auditrules

import (
	"strconv"
	"strings"
)

// dirSyscalls create directories. No coverage records them unless asked
// (DirLines): a directory is a file event the seed rule's query could match,
// so recording them always would change what the seed rule alerts on.
var dirSyscalls = []string{"mkdir", "mkdirat"}

// DirCreators are the transfer programs that create directories outside any
// login session: vsftpd serves FTP with the login uid unset. The others
// (sftp-server, scp -t, rsync --server, sshd's internal-sftp) run in the
// session of the login they serve, which DirLines' session rule records.
// Each executable named costs every mkdir on the host one comparison in the
// kernel, so narrow coverage names only what the session rule cannot see.
var DirCreators = []string{"/usr/sbin/vsftpd"}

// DirLines returns the rules that record directory creations, for rules that
// look at them (the built-in coverage-dirs): with Narrow, those of the given
// creators (by executable) and those of login sessions (login uid set,
// selfPID left out, as in SessionLines); with Transfers, the creators' only
// (no session rule: interactive sessions pay nothing); with Broad, every one
// on the host. Successful calls only. arm64 has no mkdir, only mkdirat.
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
			continue
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
// run whose rules need directory creations. Narrow names DirCreators by
// executable (its session rule sees the rest); Transfers, which has no
// session rule, names every transfer program (Creators).
func ForDirs(c Coverage, selfPID int, dirs bool) []string {
	out := For(c, selfPID)
	if !dirs {
		return out
	}
	creators := DirCreators
	if c == Transfers {
		creators = Creators
	}
	return append(out, DirLines(c, Executables(creators), selfPID)...)
}
