package auditbeat

import "github.com/xferhunt/xferhunt/ecs"

// IsCoalesced reports a go-libaudit aucoalesce event (what `auparse`-style
// tools and go-libaudit's golden files write): the normalized event
// Auditbeat's auditd module is built from, before it moves the audit
// fields under "auditd".
func IsCoalesced(d ecs.Doc) bool {
	if _, ok := d["record_type"].(string); !ok {
		return false
	}
	if _, ok := d["sequence"]; !ok {
		return false
	}
	_, summary := d["summary"].(map[string]any)
	_, category := d["category"].(string)
	return summary || category
}

// FromCoalesced rewrites an aucoalesce event in place into the shape
// Auditbeat's auditd module indexes (auditd.*, process.executable,
// user.id…), so Map can treat both alike.
func FromCoalesced(d ecs.Doc) ecs.Doc {
	move := func(from, to string) {
		if v := d.Get(from); v != nil {
			d.Delete(from)
			d.Set(to, v)
		}
	}
	move("record_type", "auditd.message_type")
	move("sequence", "auditd.sequence")
	move("result", "auditd.result")
	move("session", "auditd.session")
	move("summary", "auditd.summary")
	move("data", "auditd.data")
	move("paths", "auditd.paths")
	move("process.exe", "process.executable")
	move("process.cwd", "process.working_directory")
	move("user.ids.uid", "user.id")
	move("user.ids.auid", "user.audit.id")
	move("user.ids.euid", "user.effective.id")
	move("user.ids.gid", "user.group.id")
	move("user.names.uid", "user.name")
	move("user.names.auid", "user.audit.name")
	// The ECS hints go-libaudit computes become the event's categories;
	// the leftover "ecs" object would shadow ECS's own ecs.version.
	move("ecs.event.category", "event.category")
	move("ecs.event.type", "event.type")
	d.Delete("ecs")
	move("category", "auditd.category")
	if a := d.Str("auditd.summary.action"); a != "" {
		d.Set("event.action", a)
	}
	if r := d.Str("auditd.result"); r != "" {
		d.Set("event.outcome", r)
	}
	d.Set("event.module", "auditd")
	return d
}
