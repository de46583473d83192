package preflight

import (
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditrules"
)

// Capability bits of /proc/self/status CapEff (linux/capability.h).
const (
	CapAuditControl = 30 // configure audit: status, rules, the audit pid
	CapAuditRead    = 37 // join the audit multicast group (read beside a daemon)
)

// Facts are what Gather observed; Interpret needs nothing else.
type Facts struct {
	// EUID is the effective user id.
	EUID int
	// CapEff is the effective capability set; CapErr is set when it could
	// not be read.
	CapEff uint64
	CapErr error
	// Cmdline is /proc/cmdline (audit=0 disables kernel audit at boot).
	Cmdline string
	// UserNS is true inside a user namespace other than the initial one
	// (a rootless container): kernel audit refuses it whatever its uid.
	UserNS bool
	// Audit is the kernel audit status; AuditErr is why it could not be read.
	Audit    AuditStatus
	AuditErr error
	// Holder is the process registered as audit daemon, when Audit.PID != 0.
	Holder Holder
	// Rules are the loaded audit rules as auditctl prints them; read only
	// when the configuration is immutable, to say what they still record.
	Rules    []string
	RulesErr error
	// KernelRelease is uname -r.
	KernelRelease string
	// Logs are the audit logs auto falls back to, in its order.
	Logs []Log
	// State is the state directory the live run would open.
	State State
	// Coverage is the --coverage the live run would use.
	Coverage auditrules.Coverage
	// Programs are the transfer programs found (auditrules.Executables).
	Programs []string
	// InternalSFTP lists the sshd_config lines (file:line: text) that serve
	// SFTP inside sshd itself rather than through sftp-server.
	InternalSFTP []string
}

// AuditStatus is the part of the kernel audit status the checks read.
type AuditStatus struct {
	// Enabled is 0 (off), 1 (on) or 2 (on and immutable until reboot).
	Enabled uint32
	// PID is the registered audit daemon, 0 when none.
	PID uint32
}

// Holder is the process holding the audit pid.
type Holder struct {
	// Comm is its /proc/PID/comm name ("" when unknown).
	Comm string
	// Alive is false when the pid is stale (the process is gone).
	Alive bool
}

// Log is one audit log the live run could follow.
type Log struct {
	Path string
	// Err is why it cannot be read (missing, permission).
	Err error
	// Format is what sources.Sniff made of its head.
	Format sources.Format
	// Empty is true for a readable file with no bytes yet (format unknown).
	Empty bool
}

// State describes the state directory.
type State struct {
	Dir string
	// Ephemeral is --ephemeral: no directory is used.
	Ephemeral bool
	// Exists is true when Dir exists; then Err is safefile's verdict on it.
	Exists bool
	// Err is why the directory cannot be used (refused by safefile, or the
	// nearest existing parent is not writable).
	Err error
}
