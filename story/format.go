package story

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/visible"
)

// Detail is the event's one-line description, as the story table and the
// TUI show it. Its strings come from the host: callers escape it
// (visible.String) before it reaches a terminal.
func (e *Event) Detail() string {
	switch e.Kind {
	case LogOn, LogOff:
		var b strings.Builder
		b.WriteString(e.User)
		if e.Addr != "" {
			b.WriteString(" from " + e.Addr)
			if e.Port > 0 {
				b.WriteString(":" + strconv.Itoa(e.Port))
			}
		}
		if e.Exe != "" {
			b.WriteString(" via " + e.Exe)
		}
		return b.String()
	case Exec:
		cmd := strings.Join(e.Args, " ")
		if cmd == "" {
			cmd = e.Exe
		}
		if e.Path != "" && e.Path != e.Exe && !strings.Contains(cmd, e.Path) {
			cmd += "  [runs " + e.Path + "]"
		}
		if e.Cwd != "" {
			cmd += "  (in " + e.Cwd + ")"
		}
		return cmd
	case Rename:
		return e.OldPath + " → " + e.Path
	case Chmod:
		return e.Mode + " " + e.Path
	case Connect:
		return "→ " + e.Peer
	case Accept:
		return "← " + e.Peer
	case Other:
		if e.Path != "" {
			return e.Action + " " + e.Path
		}
		return e.Action
	}
	return e.Path
}

// Actor is who did it: "process[pid]", with the executable's name when
// the process calls itself something else ("sftp-server (perl)[pid]": a
// name is the process's to choose, the executable is not).
func (e *Event) Actor() string {
	name := e.Process
	if name == "" && e.Exe != "" {
		name = e.Exe
	} else if exe := path.Base(e.Exe); e.Exe != "" && exe != name {
		name += " (" + exe + ")"
	}
	if e.PID > 0 {
		return name + "[" + strconv.Itoa(e.PID) + "]"
	}
	return name
}

// WriteText prints a story as a readable table: a header naming the scope,
// then one line per event (time in UTC, session, user, what, who, detail).
// An event that raised an alert is marked with "!". Every string from the
// host is escaped.
func WriteText(w io.Writer, sc Scope, evs []Event) error {
	bw := bufio.NewWriter(w)
	first, last := evs[0].When(), evs[len(evs)-1].When()
	fmt.Fprintf(bw, "# story of %s: %d events, %s to %s (UTC)\n", visible.String(sc.String()), len(evs),
		first.Format("2006-01-02 15:04:05.000"), last.Format("2006-01-02 15:04:05.000"))
	fmt.Fprintf(bw, "%-1s %-23s %-5s %-10s %-9s %-22s %s\n", "", "TIME", "SES", "USER", "WHAT", "PROCESS", "DETAIL")
	for i := range evs {
		e := &evs[i]
		mark := " "
		if e.Alert != "" {
			mark = "!"
		}
		ses := "-"
		if e.Session != NoSession {
			ses = strconv.FormatInt(e.Session, 10)
		}
		detail := visible.String(e.Detail())
		if e.Own {
			detail += "  [responder's own session]"
		}
		fmt.Fprintf(bw, "%s %-23s %-5s %-10s %-9s %-22s %s\n", mark, e.When().Format("2006-01-02 15:04:05.000"), ses,
			visible.String(e.User), e.Kind, visible.String(e.Actor()), detail)
	}
	return bw.Flush()
}

// WriteNDJSON prints a story as ECS events, one JSON object per line.
func WriteNDJSON(w io.Writer, evs []Event) error {
	bw := bufio.NewWriter(w)
	var buf []byte
	for i := range evs {
		var err error
		buf, err = ecs.AppendJSON(buf[:0], map[string]any(evs[i].Doc()))
		if err != nil {
			return err
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Doc is the event as an ECS document: the fields the story holds, in
// the shape of the source's normalized events.
func (e *Event) Doc() ecs.Doc {
	d := ecs.Doc{}
	d.Set("@timestamp", e.When().Format(time.RFC3339Nano))
	d.Set("event.kind", "event")
	d.Set("event.action", e.Action)
	d.Set("event.category", []any{e.category()})
	if e.Key != "" {
		d.Set("event.id", e.Key)
	}
	set := func(k, v string) {
		if v != "" {
			d.Set(k, v)
		}
	}
	set("host.id", e.Host)
	if e.PID > 0 {
		d.Set("process.pid", e.PID)
	}
	if e.PPID > 0 {
		d.Set("process.parent.pid", e.PPID)
	}
	set("process.name", e.Process)
	set("process.executable", e.Exe)
	set("process.working_directory", e.Cwd)
	if len(e.Args) > 0 {
		args := make([]any, len(e.Args))
		for i, a := range e.Args {
			args[i] = a
		}
		d.Set("process.args", args)
	}
	set("user.name", e.User)
	set("user.audit.name", e.Login)
	set("file.path", e.Path)
	set("file.Ext.original.path", e.OldPath)
	set("file.inode", e.Inode)
	set("file.mode", e.Mode)
	if e.Session != NoSession {
		d.Set("xferhunt.session.id", e.Session)
	}
	set("xferhunt.session.addr", e.Addr)
	set("xferhunt.session.attributed_by", e.Via)
	set("xferhunt.alert", e.Alert)
	if e.Own {
		d.Set("xferhunt.responder.own_session", true)
	}
	switch e.Kind {
	case Connect:
		peer(d, "destination", e.Peer)
	case Accept:
		peer(d, "source", e.Peer)
	default:
		if e.Addr != "" {
			d.Set("source.ip", e.Addr)
			if e.Port > 0 {
				d.Set("source.port", e.Port)
			}
		}
	}
	return d
}

func peer(d ecs.Doc, obj, hp string) {
	host, port, err := splitHostPort(hp)
	if err != nil {
		d.Set(obj+".ip", hp)
		return
	}
	d.Set(obj+".ip", host)
	d.Set(obj+".port", port)
}

func splitHostPort(hp string) (string, int, error) {
	i := strings.LastIndexByte(hp, ':')
	if i < 0 {
		return "", 0, fmt.Errorf("no port")
	}
	port, err := strconv.Atoi(hp[i+1:])
	if err != nil {
		return "", 0, err
	}
	return strings.Trim(hp[:i], "[]"), port, nil
}

func (e *Event) category() string {
	switch e.Kind {
	case LogOn, LogOff:
		return "session"
	case Exec:
		return "process"
	case Connect, Accept:
		return "network"
	}
	return "file"
}
