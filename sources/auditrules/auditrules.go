// Package auditrules holds xferhunt's kernel audit rule sets, shared by the netlink
// source (which installs them) and the capture harness (which loads them with
// auditctl -R), so both always watch exactly the same syscalls.
//
// Two coverages exist. Broad (xferhunt.rules) records every creation, exec and
// connection on the host: the most complete picture, and on a busy host the most
// expensive one, since every file any process creates becomes a kernel record.
// Narrow, the default, asks the kernel to record only what the rules' queries can
// match — file creations by the transfer programs — plus what attributes them (their
// execs and accepted connections), filtered in the kernel by executable (-F exe=),
// so an unrelated process creating 200k files produces no record at all — plus,
// for the session story, what processes of login sessions do (SessionLines),
// filtered in the kernel by login uid so that daemons cost no record.
package auditrules

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/elastic/go-libaudit/v2/rule"
)

// Key is the audit key every xferhunt rule carries; cleanup removes rules by this key only.
const Key = "xferhunt"

// Text is the broad rule file verbatim, in auditctl -R format.
//
//go:embed xferhunt.rules
var Text string

// Coverage names a kernel rule set.
type Coverage int

const (
	// Narrow records creations, execs and connections of the transfer programs only.
	Narrow Coverage = iota
	// Broad records every creation, exec and connection on the host.
	Broad
	// Transfers is Narrow without the session rules: the transfer programs
	// and their servers only, for a host where a busy interactive session
	// must not pay for stories (they then hold the programs' own events).
	Transfers
)

// String is the name --coverage takes.
func (c Coverage) String() string {
	switch c {
	case Broad:
		return "broad"
	case Transfers:
		return "transfers"
	}
	return "narrow"
}

// ParseCoverage reads a --coverage value.
func ParseCoverage(s string) (Coverage, error) {
	switch s {
	case "", "narrow":
		return Narrow, nil
	case "broad":
		return Broad, nil
	case "transfers":
		return Transfers, nil
	}
	return Narrow, fmt.Errorf("coverage must be narrow, broad or transfers, not %q", s)
}

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

// Creators are the places the transfer programs live on the common
// distributions: what the built-in rules' process.name values (scp, ftp, sftp,
// vsftpd, sftp-server) run as. Their file creations are recorded. (`sync`, also
// in the query, never creates a file: recording it would cost every creating
// open on the host one more comparison for nothing.) A rule of the user's own
// about another program needs Broad.
var Creators = []string{
	"/usr/bin/scp",
	"/usr/bin/sftp",
	"/usr/bin/ftp",
	"/usr/sbin/vsftpd",
	"/usr/lib/openssh/sftp-server",
	"/usr/libexec/openssh/sftp-server",
	"/usr/libexec/sftp-server",
	"/usr/lib/ssh/sftp-server",
	"/usr/lib/sftp-server",
}

// Servers accept the connections the transfers arrive on: their execs,
// accepts and forks are recorded for attribution, their file creations are
// not. (internal-sftp creates files as sshd, which no built-in query matches;
// each program in the creation rules costs every creating open on the host an
// executable comparison in the kernel.)
var Servers = []string{
	"/usr/sbin/sshd",
	"/usr/lib/openssh/sshd-session",
	"/usr/libexec/openssh/sshd-session",
	"/usr/lib/ssh/sshd-session",
}

// Programs are Creators and Servers: every program narrow coverage names.
var Programs = append(append([]string(nil), Creators...), Servers...)

// Executables returns the real paths of the candidates that exist as regular
// files, symlinks resolved (the kernel compares -F exe= with the inode of the
// running binary, and /usr/bin/ftp is usually a link into /etc/alternatives),
// duplicates removed, in the candidates' order.
func Executables(candidates []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range candidates {
		p, err := filepath.EvalSymlinks(c)
		if err != nil {
			continue
		}
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}

// creationSyscalls create a file without an open: each arch names the
// ones it has (Known).
var creationSyscalls = []string{"creat", "mknod", "mknodat", "link", "linkat", "symlink", "symlinkat", "rename", "renameat", "renameat2"}

// NarrowLines returns the narrow rule set for the given executables: per
// executable and arch, the creating opens (flags filtered as in the broad set)
// and the other creation syscalls, then ServerLines' execs, connections and
// forks that attribute them. Paths with white space cannot be written as
// auditctl rules and are skipped.
func NarrowLines(exes []string) []string {
	out := perArch(exes, func(head, tail, arch string) []string {
		return syscallLines(arch, head, tail,
			syscallRule{[]string{"open"}, "-F a1&0x40 -F success=1"},
			syscallRule{[]string{"openat"}, "-F a2&0x40 -F success=1"},
			syscallRule{[]string{"openat2"}, "-F success=1"},
			syscallRule{creationSyscalls, "-F success=1"})
	})
	return append(out, ServerLines(exes)...)
}

// ServerLines returns the attribution rules for the given executables: per
// executable and arch, their execs, accepts, connects and forks (a forking
// server's child serves the connection accepted last) — no file creation.
func ServerLines(exes []string) []string {
	return perArch(exes, func(head, tail, arch string) []string {
		return syscallLines(arch, head, tail,
			syscallRule{[]string{"execve", "execveat", "accept4", "connect", "accept"}, "-F success=1"},
			syscallRule{[]string{"clone", "clone3", "fork", "vfork"}, "-F success=1"})
	})
}

// syscallRule is one rule line's syscalls and filters.
type syscallRule struct {
	syscalls []string
	filter   string
}

// syscallLines writes each rule with the syscalls the arch has (Known): a
// rule naming one it lacks is refused whole (arm64 has no open, creat,
// mknod, link, symlink, rename, fork or vfork; i386 accepts through
// socketcall), and naming them cost the others of the line; a rule left
// with none is not written.
func syscallLines(arch, head, tail string, rules ...syscallRule) []string {
	var out []string
	for _, r := range rules {
		if known := Known(arch, r.syscalls); len(known) > 0 {
			out = append(out, head+" -S "+strings.Join(known, ",")+" "+r.filter+tail)
		}
	}
	return out
}

// perArch calls lines for every usable executable and both arches with the
// rule's head (list, action, arch) and tail (exe filter, key).
func perArch(exes []string, lines func(head, tail, arch string) []string) []string {
	var out []string
	for _, exe := range exes {
		if !ruleSafe(exe) {
			continue
		}
		for _, arch := range []string{"b64", "b32"} {
			out = append(out, lines("-a always,exit -F arch="+arch, " -F exe="+exe+" -k "+Key, arch)...)
		}
	}
	return out
}

func ruleSafe(exe string) bool { return exe != "" && !strings.ContainsAny(exe, " \t\n") }

// For returns the rule lines of a coverage on this host. selfPID is the
// process that installs them (xferhunt itself), which narrow coverage's
// session rules leave out: see SessionLines.
func For(c Coverage, selfPID int) []string {
	if c == Broad {
		return Lines()
	}
	creators := Executables(Creators)
	var servers []string
	for _, s := range Executables(Servers) {
		if !slices.Contains(creators, s) {
			servers = append(servers, s)
		}
	}
	out := append(NarrowLines(creators), ServerLines(servers)...)
	if c == Transfers {
		return out
	}
	return append(out, SessionLines(selfPID)...)
}

// sessionRules are the syscalls SessionLines records, one rule each group,
// with the filters (argument, result) the group needs. Everything without an
// argument filter shares one rule: the kernel walks the whole exit list on
// every syscall of every audited process, so each rule costs the host a
// little even for syscalls it does not name. Unlike the narrow creation rules
// these name removals and mode changes too: a story shows a file made
// executable and the file deleted after use.
var sessionRules = []struct {
	syscalls []string
	filter   string
}{
	{[]string{
		"execve", "execveat", // with the EXECVE record: the command line
		"openat2", // flags inside struct open_how, which audit cannot filter on
		"creat", "mknod", "mknodat", "link", "linkat", "symlink", "symlinkat", "rename", "renameat", "renameat2",
		"chmod", "fchmod", "fchmodat", "fchmodat2",
		"unlink", "unlinkat", "rmdir",
		"connect",
	}, " -F success=1"},
	// O_CREAT is 0x40 on x86 and the generic (arm, arm64) flags alike.
	{[]string{"open"}, " -F a1&0x40 -F success=1"},
	{[]string{"openat"}, " -F a2&0x40 -F success=1"},
	// A non-blocking connect (Go, curl, Python with a timeout, ssh with
	// ConnectTimeout: most clients) returns EINPROGRESS and learns the result
	// later; with success=1 alone a story would show none of them. Such a
	// record is an attempt: it may still be refused.
	{[]string{"connect"}, " -F exit=-EINPROGRESS"},
}

// SessionLines returns the rules of the session story: per arch, the execs,
// creations (creating opens as in the broad set), mode changes, removals and
// connections of processes in a login session (audit login uid set, as
// pam_loginuid does for ssh and console logins, inherited through su and
// sudo), successful ones only (and connects in progress). Daemons and services keep the login uid unset,
// so on a server their activity costs one comparison per audited syscall and
// no record. selfPID, when positive, is excluded (-F pid!= compares the
// thread group, so every thread of it): the responder runs xferhunt inside
// their own login session, and without it the tool would record its own
// reading of /proc and its database writes, feeding on itself. Syscalls an
// arch lacks (arm64 has only the *at forms: no open, chmod, unlink, rmdir,
// link, rename, creat) are left out of that arch's rules, since a rule naming
// one is rejected whole.
func SessionLines(selfPID int) []string {
	filter := " -F auid!=unset"
	if selfPID > 0 {
		filter += " -F pid!=" + strconv.Itoa(selfPID)
	}
	var out []string
	for _, arch := range []string{"b64", "b32"} {
		for _, r := range sessionRules {
			sc := Known(arch, r.syscalls)
			if len(sc) == 0 {
				continue
			}
			out = append(out, "-a always,exit -F arch="+arch+" -S "+strings.Join(sc, ",")+filter+r.filter+" -k "+Key)
		}
	}
	return out
}

// Known returns the syscalls of names that arch ("b64" or "b32", read as
// go-libaudit reads them: the running machine's 64- or 32-bit ABI) has, in
// order. It asks go-libaudit's rule builder, the one the netlink source
// installs rules with, so a name kept here never makes it reject a rule.
func Known(arch string, names []string) []string {
	var out []string
	for _, n := range names {
		r := &rule.SyscallRule{
			Type:     rule.AppendSyscallRuleType,
			List:     "exit",
			Action:   "always",
			Filters:  []rule.FilterSpec{{Type: rule.ValueFilterType, LHS: "arch", Comparator: "=", RHS: arch}},
			Syscalls: []string{n},
		}
		if _, err := rule.Build(r); err == nil {
			out = append(out, n)
		}
	}
	return out
}
