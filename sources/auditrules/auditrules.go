// Package auditrules holds xferhunt's canonical kernel audit rule set, shared by the
// netlink source (which installs it) and the capture harness (which loads it with
// auditctl -R), so both always watch exactly the same syscalls.
package auditrules

import (
	_ "embed"
	"strings"
)

// Key is the audit key every xferhunt rule carries; cleanup removes rules by this key only.
const Key = "xferhunt"

// Text is the rule file verbatim, in auditctl -R format.
//
//go:embed xferhunt.rules
var Text string

// Lines returns the rule lines of Text without comments and blank lines, each in the
// flag syntax accepted by auditctl and by go-libaudit's rule/flags parser.
func Lines() []string {
	var out []string
	for _, l := range strings.Split(Text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	return out
}
