// Package liveness is the one place that decides whether an alert is live
// on this host: raised from this host's own audit stream while it
// happened (netlink, or a log of this host followed as it is appended),
// on this host (host.id) and since its last boot. Only such an alert may
// be acted on here (kill, evidence, quarantine, re-check) or enriched
// from this host's /proc and files; a recording (the demo), a scan, a
// backfill of old lines, a log of another host (auditd's node=), stdin or
// an ECS export describe processes and files that are not this host's
// now, even when a pid or a path happens to exist here.
//
// The decision is made once, when the alert is finished, and stamped on
// the alert (Stamp); Check reads the stamp back against this host. Both
// are pure: the package reads nothing but the boot id (BootID).
package liveness

import (
	"bytes"
	"os"
)

// Origin says where an alert's event came from, as stamped on the alert.
type Origin string

// The origins. Only Live may be acted on.
const (
	// Live: this host's audit stream, read as it happened.
	Live Origin = "live"
	// Backfill: lines of a log that were already written when the run
	// started (or a source's catch-up before going live).
	Backfill Origin = "backfill"
	// Recorded: a replayed capture (the demo).
	Recorded Origin = "recorded"
	// OffHost: a source that does not say which host it records (stdin,
	// an ECS export).
	OffHost Origin = "off-host"
	// Foreign: an event whose host.id is not this host's (a central log's
	// node=NAME, another machine's export).
	Foreign Origin = "foreign"
)

// Fields of the stamp in the alert document.
const (
	FieldOrigin = "xferhunt.live.origin"
	FieldBoot   = "xferhunt.live.boot_id"
)

// Host identifies where this run acts: the host.id events of this host
// carry, and the kernel's boot id (pids and inodes mean nothing across a
// reboot).
type Host struct {
	ID   string
	Boot string
}

// Valid says the host is known: a zero Host (a recording, an offline
// command) accepts nothing.
func (h Host) Valid() bool { return h.ID != "" && h.Boot != "" }

// BootID reads the kernel's boot id; "" when it cannot be read.
func BootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return string(bytes.TrimSpace(b))
}

// Stamp is the verdict fields of one alert.
type Stamp struct {
	Origin Origin
	HostID string
	Boot   string
}

// Getter is the read side of a document (ecs.Doc satisfies it); kept an
// interface so packages that hold alerts in their own shape can ask too.
type Getter interface{ Str(field string) string }

// Read takes the stamp from a document.
func Read(d Getter) Stamp {
	return Stamp{Origin: Origin(d.Str(FieldOrigin)), HostID: d.Str("host.id"), Boot: d.Str(FieldBoot)}
}

// Setter is the write side of a document (ecs.Doc satisfies it).
type Setter interface{ Set(field string, v any) }

// Decide is the origin of an event of this run: backfill, recording and
// off-host sources first, then the host the event names against here.
func Decide(historical, recorded, offHost bool, eventHostID string, here Host) Origin {
	switch {
	case recorded:
		return Recorded
	case offHost:
		return OffHost
	case historical:
		return Backfill
	case !here.Valid() || eventHostID != here.ID:
		return Foreign
	}
	return Live
}

// Set writes the stamp on an alert document.
func Set(d Setter, o Origin, here Host) {
	d.Set(FieldOrigin, string(o))
	if o == Live {
		d.Set(FieldBoot, here.Boot)
	}
}

// Check returns "" when an alert with stamp s may be acted on here, else
// the one-line reason it may not.
func (h Host) Check(s Stamp) string {
	if !h.Valid() {
		return "this run does not act on the host (a recording or an offline view): its pid and path are not this host's"
	}
	switch s.Origin {
	case Live:
	case "":
		return "not raised live on this host (a scan, or an alert of an older xferhunt): its pid and path may not be this host's now"
	case Backfill:
		return "backfilled from log lines older than this run: its process and file may be long gone, the pid reused"
	case Recorded:
		return "from a recording (demo): its pid and path are not this host's"
	case OffHost:
		return "read from stdin or an ECS export: not known to be this host's audit stream"
	case Foreign:
		return "from another host (host.id " + s.HostID + "): not this host's process or file"
	default:
		return "unknown origin " + string(s.Origin) + ": not acted on"
	}
	if s.HostID != h.ID {
		return "from another host (host.id " + s.HostID + "): not this host's process or file"
	}
	if s.Boot != h.Boot {
		return "from before this host's last reboot: its pid and file are not the event's"
	}
	return ""
}
