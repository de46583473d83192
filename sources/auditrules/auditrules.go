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
// so an unrelated process creating 200k files produces no record at all.
package auditrules

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
)

// String is the name --coverage takes.
func (c Coverage) String() string {
	if c == Broad {
		return "broad"
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
	}
	return Narrow, fmt.Errorf("coverage must be narrow or broad, not %q", s)
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

// NarrowLines returns the narrow rule set for the given executables: per
// executable and arch, the creating opens (flags filtered as in the broad set)
// and the other creation syscalls, then ServerLines' execs, connections and
// forks that attribute them. Paths with white space cannot be written as
// auditctl rules and are skipped.
func NarrowLines(exes []string) []string {
	out := perArch(exes, func(head, tail, _ string) []string {
		return []string{
			head + " -S open -F a1&0x40 -F success=1" + tail,
			head + " -S openat -F a2&0x40 -F success=1" + tail,
			head + " -S openat2 -F success=1" + tail,
			head + " -S creat,mknod,mknodat,link,linkat,symlink,symlinkat,rename,renameat,renameat2 -F success=1" + tail,
		}
	})
	return append(out, ServerLines(exes)...)
}

// ServerLines returns the attribution rules for the given executables: per
// executable and arch, their execs, accepts, connects and forks (a forking
// server's child serves the connection accepted last) — no file creation.
func ServerLines(exes []string) []string {
	return perArch(exes, func(head, tail, arch string) []string {
		rest := "execve,execveat,accept4,connect"
		if arch == "b64" {
			rest += ",accept" // i386 accepts through socketcall
		}
		// Forks get lines of their own: arm64 has no fork or vfork, and a
		// rule naming a syscall the arch lacks is skipped whole.
		return []string{
			head + " -S " + rest + " -F success=1" + tail,
			head + " -S clone,clone3 -F success=1" + tail,
			head + " -S fork,vfork -F success=1" + tail,
		}
	})
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

// For returns the rule lines of a coverage on this host.
func For(c Coverage) []string {
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
	return append(NarrowLines(creators), ServerLines(servers)...)
}
