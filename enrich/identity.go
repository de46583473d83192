package enrich

import (
	"strconv"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/procid"
)

// Fields of the process identity a kill checks against (internal/procid).
const (
	// FieldStartTicks is the exact start (clock ticks since boot) of the
	// process that held process.pid at enrichment; process.start (ECS) is
	// the same as a time, to about a second.
	FieldStartTicks = "xferhunt.process.start_ticks"
	// FieldIdentity says why no start was recorded, when none was.
	FieldIdentity = "xferhunt.process.identity"
)

// identity records the start time of the process holding process.pid,
// when it is the event's process: it runs the event's executable and
// started no later than the event. A pid that is already someone else's
// gets no start, and a kill of it is refused (respond).
func (e *Enricher) identity(d ecs.Doc) {
	pid, err := strconv.Atoi(d.Str("process.pid"))
	if err != nil || pid <= 1 {
		return
	}
	root := procid.Root(e.opt.Proc.Root)
	id, err := root.Read(pid)
	if err != nil {
		d.Set(FieldIdentity, "process gone before enrichment")
		return
	}
	if exe := d.Str("process.executable"); exe != "" && id.Exe != "" && exe != id.Exe {
		d.Set(FieldIdentity, "pid held by another executable at enrichment: "+id.Exe)
		return
	}
	boot, err := root.BootTime()
	if err != nil {
		return
	}
	start := procid.StartTime(boot, id.Start)
	at := d.Str("kibana.alert.original_time")
	if at == "" {
		at = d.Str("@timestamp")
	}
	if t, err := time.Parse(time.RFC3339Nano, at); err == nil && start.After(t.Add(procid.Slack)) {
		d.Set(FieldIdentity, "pid held by a process started after the event")
		return
	}
	d.Set("process.start", start.UTC().Format(time.RFC3339Nano))
	d.Set(FieldStartTicks, id.Start)
}
