package preflight

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditrules"
)

// offlineHint is what a responder can always do: read copies of the logs.
const offlineHint = "copy the audit logs off the host and run `xferhunt scan PATH...`"

// Interpret turns observations into verdicts and the live run's source,
// mirroring sources/catalog.Auto: netlink when root and kernel audit answers
// and is not immutable (multicast beside a live daemon), else the first
// readable log.
func Interpret(f Facts) Report {
	var r Report
	priv, canControl, canRead := Privileges(f.EUID, f.CapEff, f.CapErr)
	audit, reachable := KernelAudit(f.EUID, canControl, f.UserNS, f.Cmdline, f.Audit, f.AuditErr)
	r.Checks = append(r.Checks, priv, audit)
	netlinkOK := reachable
	if reachable {
		daemon, src, ok := Daemon(f.Audit.PID, f.Holder, canRead)
		imm, mutable := Immutable(f.Audit.Enabled, f.Rules, f.RulesErr)
		r.Checks = append(r.Checks, daemon, imm)
		netlinkOK = ok && mutable
		if netlinkOK {
			r.Source, r.SourceDetail = src, sourceName(src, f.Holder, f.Audit.PID)
		}
	}
	r.Checks = append(r.Checks, Kernel(f.KernelRelease, f.Coverage))
	logChecks, first := Logs(f.Logs)
	r.Checks = append(r.Checks, logChecks...)
	if !netlinkOK && first != "" {
		r.Source, r.SourceDetail = LogTail, "following "+first+" (no netlink)"
	}
	st := StateDir(f.State)
	r.StateOK = st.Verdict != Fail
	r.Checks = append(r.Checks, st)
	r.Checks = append(r.Checks, Programs(f.Programs, f.InternalSFTP, f.Coverage))
	return r
}

func sourceName(src Source, h Holder, pid uint32) string {
	if src == NetlinkMulticast {
		return fmt.Sprintf("netlink multicast beside %s (pid %d)", holderName(h), pid)
	}
	return "netlink unicast (xferhunt registers as the audit daemon and gives the pid back at exit)"
}

// Privileges checks root and the audit capabilities. It returns whether
// audit can be configured (CAP_AUDIT_CONTROL) and read by multicast
// (CAP_AUDIT_READ).
func Privileges(euid int, capEff uint64, capErr error) (c Check, control, read bool) {
	c.Name = "root"
	if capErr != nil {
		c.Verdict, c.Detail = Fail, "cannot read capabilities: "+capErr.Error()
		c.Instead = "sudo ./xferhunt doctor, or " + offlineHint
		return c, false, false
	}
	control = capEff&(1<<CapAuditControl) != 0
	read = capEff&(1<<CapAuditRead) != 0
	switch {
	case euid != 0:
		c.Verdict, c.Detail = Fail, fmt.Sprintf("not root (uid %d): no kernel audit, and audit logs are usually root-only", euid)
		c.Instead = "sudo ./xferhunt, or " + offlineHint
		return c, false, false
	case !control:
		c.Verdict, c.Detail = Fail, "root without CAP_AUDIT_CONTROL (a container or a capability-dropping sandbox)"
		c.Instead = "run on the host itself, or --source auditlog:PATH"
	case !read:
		c.Verdict, c.Detail = Warn, "root with CAP_AUDIT_CONTROL but without CAP_AUDIT_READ: cannot read beside a running audit daemon (multicast)"
		c.Instead = "--source auditlog:/var/log/audit/audit.log when a daemon holds the audit pid"
	default:
		c.Verdict, c.Detail = OK, "root with CAP_AUDIT_CONTROL and CAP_AUDIT_READ"
	}
	return c, control, read
}

// AuditDisabledAtBoot reports whether the kernel command line has audit=0
// (the last audit= wins, as in the kernel's own parsing).
func AuditDisabledAtBoot(cmdline string) bool {
	off := false
	for _, w := range strings.Fields(cmdline) {
		if v, ok := strings.CutPrefix(w, "audit="); ok {
			off = v == "0" || strings.EqualFold(v, "off")
		}
	}
	return off
}

// KernelAudit checks that kernel audit answers a status request and says
// why not: audit=0 at boot, a kernel without audit, a user namespace or a
// container's network namespace, missing privileges.
func KernelAudit(euid int, canControl, userNS bool, cmdline string, st AuditStatus, err error) (Check, bool) {
	c := Check{Name: "audit", Instead: "--source auditlog:PATH if a log is written, or " + offlineHint}
	switch {
	case AuditDisabledAtBoot(cmdline):
		c.Verdict, c.Detail = Fail, "audit=0 on the kernel command line: kernel audit is off until a reboot without it"
	case euid != 0 || !canControl:
		c.Verdict, c.Detail = Fail, "kernel audit needs root with CAP_AUDIT_CONTROL (see root)"
		if euid != 0 {
			c.Instead = "sudo ./xferhunt"
		}
	case err == nil:
		state := map[uint32]string{0: "off (xferhunt switches it on and back off at exit)", 1: "on", 2: "on, immutable"}[st.Enabled]
		if state == "" {
			state = "enabled=" + strconv.Itoa(int(st.Enabled))
		}
		return Check{Name: "audit", Verdict: OK, Detail: "kernel audit answers; " + state}, true
	case userNS:
		c.Verdict, c.Detail = Fail, "inside a user namespace (a rootless container): kernel audit answers only the initial namespace ("+err.Error()+")"
		c.Instead = "run on the host, or " + c.Instead
	case errors.Is(err, syscall.ECONNREFUSED):
		c.Verdict, c.Detail = Fail, "kernel audit refuses this network namespace (a container?): "+err.Error()
		c.Instead = "run on the host, or " + c.Instead
	// Not EINVAL: an emulator (qemu-user) fails to translate the reply
	// with it, which says nothing about the kernel.
	case errors.Is(err, syscall.EPROTONOSUPPORT), errors.Is(err, syscall.EAFNOSUPPORT):
		c.Verdict, c.Detail = Fail, "kernel without audit support: "+err.Error()
	case errors.Is(err, syscall.EPERM):
		c.Verdict, c.Detail = Fail, "kernel audit refused the status request (EPERM: a container or an LSM policy?)"
	default:
		c.Verdict, c.Detail = Fail, "kernel audit unreachable: "+err.Error()
	}
	return c, false
}

// knownHolders names the programs that register as the audit daemon.
var knownHolders = map[string]string{
	"auditd":          "auditd",
	"systemd-journal": "systemd-journald",
	"auditbeat":       "Auditbeat",
	"go-audit":        "go-audit",
	"osqueryd":        "osquery",
	"xferhunt":        "another xferhunt",
	"kauditd":         "kauditd",
}

func holderName(h Holder) string {
	if n, ok := knownHolders[h.Comm]; ok {
		return n
	}
	if h.Comm == "" {
		return "an unknown process"
	}
	return "another agent (" + h.Comm + ")"
}

// Daemon says who holds the audit pid and how xferhunt will attach: alone
// (unicast), or beside the holder by multicast, which needs CAP_AUDIT_READ
// and never displaces the holder.
func Daemon(pid uint32, h Holder, canRead bool) (c Check, src Source, ok bool) {
	c.Name = "daemon"
	switch {
	case pid == 0:
		c.Verdict, c.Detail = OK, "audit pid free: xferhunt registers as the audit daemon (unicast) and gives the pid back at exit"
		return c, NetlinkUnicast, true
	case !h.Alive:
		c.Verdict, c.Detail = OK, fmt.Sprintf("audit pid %d is stale (process gone): xferhunt registers as the audit daemon (unicast)", pid)
		return c, NetlinkUnicast, true
	case !canRead:
		c.Verdict = Fail
		c.Detail = fmt.Sprintf("%s (pid %d) holds the audit pid and multicast needs CAP_AUDIT_READ, which this process lacks", holderName(h), pid)
		c.Instead = "--source auditlog:PATH of the daemon's log"
		return c, Offline, false
	default:
		c.Verdict = OK
		c.Detail = fmt.Sprintf("%s (pid %d) holds the audit pid: xferhunt reads beside it by multicast, never displacing it; its rules and log stay", holderName(h), pid)
		return c, NetlinkMulticast, true
	}
}

// Immutable checks the enabled flag for `-e 2`: rules can then neither be
// added nor removed until reboot, so xferhunt's own rules cannot be
// installed, and the live run's netlink source refuses to start. It says
// which of the loaded rules still record what xferhunt needs, for reading
// the daemon's log instead.
func Immutable(enabled uint32, rules []string, rulesErr error) (Check, bool) {
	c := Check{Name: "rules"}
	if enabled != 2 {
		c.Verdict, c.Detail = OK, "audit rules can be added (not immutable): xferhunt adds its own, keyed "+auditrules.Key+", and removes exactly those at exit"
		return c, true
	}
	c.Verdict = Fail
	c.Instead = "--source auditlog:/var/log/audit/audit.log (reads what the loaded rules record), or reboot without -e 2"
	if rulesErr != nil {
		c.Detail = "audit configuration is immutable (-e 2): xferhunt cannot add its rules; loaded rules unreadable: " + rulesErr.Error()
		return c, false
	}
	create, exec := UsefulRules(rules)
	c.Detail = fmt.Sprintf("audit configuration is immutable (-e 2): xferhunt cannot add its rules; of %d loaded rules %d record file creation and %d record execve",
		len(rules), create, exec)
	if create == 0 {
		c.Detail += ": the log will not show uploads"
	}
	return c, false
}

// creationSyscalls are the calls by which a transfer program creates a file.
var creationSyscalls = []string{"open", "openat", "openat2", "creat", "rename", "renameat", "renameat2", "link", "linkat"}

// UsefulRules counts the syscall-exit rules (as auditctl -l prints them)
// that record file creation and those that record execve; a rule without
// -S records every syscall.
func UsefulRules(rules []string) (create, exec int) {
	for _, r := range rules {
		f := strings.Fields(r)
		if len(f) < 2 || f[0] != "-a" || !strings.Contains(f[1], "exit") || strings.Contains(f[1], "never") {
			continue
		}
		var calls []string
		all := true
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "-S" {
				all = false
				calls = append(calls, strings.Split(f[i+1], ",")...)
			}
		}
		has := func(names ...string) bool {
			if all {
				return true
			}
			for _, c := range calls {
				for _, n := range names {
					if c == n || c == "all" {
						return true
					}
				}
			}
			return false
		}
		if has(creationSyscalls...) {
			create++
		}
		if has("execve") {
			exec++
		}
	}
	return create, exec
}

// ParseRelease reads major and minor from a kernel release ("6.1.0-18-amd64").
func ParseRelease(release string) (major, minor int, ok bool) {
	a, rest, found := strings.Cut(release, ".")
	if !found {
		return 0, 0, false
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(rest)
	}
	var err1, err2 error
	major, err1 = strconv.Atoi(a)
	minor, err2 = strconv.Atoi(rest[:end])
	return major, minor, err1 == nil && err2 == nil
}

// Kernel checks the features the default (narrow) rule set relies on:
// `-F exe=` filtering (4.3) and the openat2 syscall (5.6).
func Kernel(release string, cov auditrules.Coverage) Check {
	c := Check{Name: "kernel"}
	maj, min, ok := ParseRelease(release)
	at := func(M, m int) bool { return maj > M || (maj == M && min >= m) }
	switch {
	case !ok:
		c.Verdict, c.Detail = Warn, fmt.Sprintf("kernel release %q not understood: -F exe= (4.3+) may be missing", release)
		if cov != auditrules.Broad {
			c.Instead = "--coverage broad if no rule can be installed"
		}
	case !at(4, 3) && cov != auditrules.Broad:
		c.Verdict, c.Detail = Fail, "kernel "+release+" has no -F exe= (4.3+): the narrow rules cannot be installed"
		c.Instead = "--coverage broad"
	case !at(5, 6):
		c.Verdict, c.Detail = OK, "kernel "+release+": -F exe= supported; no openat2 before 5.6, so nothing is created through it"
	default:
		c.Verdict, c.Detail = OK, "kernel "+release+": -F exe= and openat2 supported"
	}
	return c
}

// Logs checks the audit logs auto falls back to and returns the first
// readable one ("" when none): what the live run follows without netlink,
// and what to copy for `scan` otherwise.
func Logs(logs []Log) (checks []Check, first string) {
	for _, l := range logs {
		c := Check{Name: "log"}
		switch {
		case errors.Is(l.Err, syscall.ENOENT):
			c.Verdict, c.Detail = Warn, l.Path+": not present"
		case l.Err != nil:
			c.Verdict, c.Detail = Warn, "cannot read "+l.Path+": "+l.Err.Error()
			c.Instead = "sudo, or copy it off the host for `xferhunt scan`"
		case l.Empty:
			c.Verdict, c.Detail = OK, l.Path+": readable, empty so far"
		case l.Format == sources.Unknown:
			c.Verdict, c.Detail = Warn, l.Path+": readable, but not a format xferhunt reads"
		default:
			c.Verdict, c.Detail = OK, l.Path+": readable, "+l.Format.String()
		}
		if c.Verdict == OK && first == "" {
			first = l.Path
		}
		checks = append(checks, c)
	}
	return checks, first
}

// StateDir checks the directory for term history and triage.
func StateDir(s State) Check {
	c := Check{Name: "state"}
	switch {
	case s.Ephemeral:
		c.Verdict, c.Detail = OK, "--ephemeral: state in memory only, nothing written to the host"
	case s.Err != nil:
		c.Verdict, c.Detail = Fail, s.Err.Error()
		c.Instead = "--ephemeral, or --state DIR (a private directory of this user)"
	case s.Exists:
		c.Verdict, c.Detail = OK, s.Dir+": private and writable"
		c.Instead = "--ephemeral to write nothing to this host"
	default:
		c.Verdict, c.Detail = OK, s.Dir+": will be created 0700"
		c.Instead = "--ephemeral to write nothing to this host"
	}
	return c
}

// Programs checks that transfer programs are installed (the narrow rules
// watch only those) and notes sshd's internal-sftp, whose uploads are
// created by sshd itself.
func Programs(found, internal []string, cov auditrules.Coverage) Check {
	c := Check{Name: "programs"}
	switch {
	case len(found) == 0 && cov != auditrules.Broad:
		c.Verdict, c.Detail = Warn, "no transfer program found (sshd, sftp-server, vsftpd, scp …): the narrow rule set would be empty"
		c.Instead = "--coverage broad"
		return c
	case len(found) == 0:
		c.Verdict, c.Detail = Warn, "no transfer program found (sshd, sftp-server, vsftpd, scp …)"
		return c
	}
	c.Verdict, c.Detail = OK, strings.Join(found, " ")
	if len(internal) > 0 {
		c.Detail += "; sshd serves SFTP itself (" + strings.Join(internal, "; ") + "): its uploads are created by sshd"
	}
	return c
}
