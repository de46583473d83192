// Package catalog is the one place that knows every source package, so
// main only parses flags: it builds live sources from --source values
// (SPEC §1): auto, netlink[:unicast|multicast], auditlog:PATH,
// auditbeat:PATH, ecs:PATH and "-" (stdin, format detected per line), and
// holds the registry of recorded formats a scan reads (Formats).
package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditbeat"
	"github.com/xferhunt/xferhunt/sources/auditd"
	"github.com/xferhunt/xferhunt/sources/auditrules"
	"github.com/xferhunt/xferhunt/sources/ecsjson"
	"github.com/xferhunt/xferhunt/sources/netlink"
	"github.com/xferhunt/xferhunt/sources/tail"
)

// Formats returns the registry of the recorded formats a scan reads.
func Formats() *sources.Formats {
	return sources.NewFormats(map[sources.Format]sources.ScanFunc{
		sources.AuditdRaw:      auditd.ScanRecorded,
		sources.AuditdEnriched: auditd.ScanRecorded,
		sources.ECSNDJSON:      ecsjson.Scan,
		// Sniff names a stream Auditbeat by its first document only;
		// ecsjson.Scan routes each document by its own shape, so later
		// ECS documents are not lost.
		sources.AuditbeatNDJSON: ecsjson.Scan,
		sources.JSONDocuments:   ecsjson.ScanDocuments,
	}, ecsjson.Sniff)
}

// ErrUnusable wraps every error caused by the spec or its input (bad
// syntax, unreadable path, nothing usable for auto): exit code 2.
var ErrUnusable = errors.New("unusable source")

// Options are shared by every source built.
type Options struct {
	HostID, HostName string
	// Since is the start of the history window: file sources backfill
	// from there (older rotated files are skipped, older events dropped).
	Since time.Time
	// Stdin is read for "-" (default os.Stdin).
	Stdin io.Reader
	// Coverage picks the kernel audit rules a netlink source installs.
	Coverage auditrules.Coverage
	// Directories adds the rules that record directory creations
	// (auditrules.DirLines): a loaded rule looks at them.
	Directories bool
	// Story asks auditd parsers for the context events of stories too
	// (sources.Event.Context): execs, connections, logins, chmods.
	Story bool
}

// Default paths auto falls back to when netlink is not usable.
const (
	DefaultAuditLog     = "/var/log/audit/audit.log"
	DefaultAuditbeatDir = "/var/log/auditbeat/"
)

// Parse builds the source a --source value names.
func Parse(s string, opt Options) (sources.Source, error) {
	kind, path, _ := strings.Cut(s, ":")
	switch {
	case s == "auto" || s == "":
		return Auto(opt)
	case s == "-":
		return Reader("stdin", stdin(opt), opt), nil
	case kind == "netlink":
		mode := netlink.Auto
		switch path {
		case "", "auto":
		case "unicast":
			mode = netlink.Unicast
		case "multicast":
			mode = netlink.Multicast
		default:
			return nil, fmt.Errorf("%w: --source %s: netlink mode must be unicast or multicast", ErrUnusable, s)
		}
		return Netlink(mode, opt), nil
	case path == "":
		return nil, fmt.Errorf("%w: --source %s: want auto, netlink[:unicast|multicast], auditlog:PATH, auditbeat:PATH, ecs:PATH or -", ErrUnusable, s)
	case kind == "auditlog":
		return file(s, tail.Options{Path: path, Since: opt.Since, FileOnly: true}, auditdDecoder(opt))
	case kind == "auditbeat":
		return file(s, tail.Options{Path: path, Since: opt.Since, Prefix: "auditbeat"}, func(emit func(sources.Event)) tail.Decoder {
			// Each document routed by its own shape: Auditbeat's, or ECS.
			return ecsjson.NewDecoder(ecsjson.Options{HostID: opt.HostID, HostName: opt.HostName, Emit: emit})
		})
	case kind == "ecs":
		return file(s, tail.Options{Path: path, Since: opt.Since, Prefix: "*"}, func(emit func(sources.Event)) tail.Decoder {
			return ecsjson.NewDecoder(ecsjson.Options{HostID: opt.HostID, Emit: emit})
		})
	}
	return nil, fmt.Errorf("%w: --source %s: unknown kind %q", ErrUnusable, s, kind)
}

// Reader builds a source over a stream read once to its end, whose lines
// may be auditd text, Auditbeat NDJSON or ECS NDJSON (stdin, a replay).
func Reader(name string, r io.Reader, opt Options) sources.Source {
	return tail.NewReaderSource(name, r, autoDecoder(opt))
}

func file(name string, o tail.Options, nd tail.NewDecoder) (sources.Source, error) {
	src, err := tail.NewSource(name, o, nd)
	if err != nil {
		return nil, fmt.Errorf("%w: --source %s: %w", ErrUnusable, name, err)
	}
	return src, nil
}

// Netlink builds a kernel audit source with the rule set of opt.Coverage;
// narrow coverage looks again for transfer programs while it runs. The rules
// leave this process out (it is the one reading the records), see
// auditrules.SessionLines.
func Netlink(mode netlink.Mode, opt Options) *netlink.Source {
	self := os.Getpid()
	var refresh func() []string
	if opt.Coverage != auditrules.Broad {
		refresh = func() []string { return auditrules.ForDirs(opt.Coverage, self, opt.Directories) }
	}
	return netlink.New(netlink.Options{Mode: mode, Rules: auditrules.ForDirs(opt.Coverage, self, opt.Directories), Refresh: refresh,
		NewParser: func(emit func(sources.Event)) netlink.LineParser {
			return auditd.NewParser(auditd.Options{HostID: opt.HostID, HostName: opt.HostName, Emit: emit, Story: opt.Story})
		}})
}

// Auto picks netlink when running as root with kernel audit reachable
// (netlink itself then picks multicast beside a running daemon), else the
// first readable of auditd's log and Auditbeat's directory.
func Auto(opt Options) (sources.Source, error) {
	var tried []string
	if os.Geteuid() != 0 {
		tried = append(tried, "netlink (not root)")
	} else if err := netlink.Available(); err != nil {
		tried = append(tried, fmt.Sprintf("netlink (%v)", err))
	} else {
		return Netlink(netlink.Auto, opt), nil
	}
	for _, s := range []string{"auditlog:" + DefaultAuditLog, "auditbeat:" + DefaultAuditbeatDir} {
		src, err := Parse(s, opt)
		if err == nil {
			return src, nil
		}
		tried = append(tried, strings.TrimPrefix(err.Error(), ErrUnusable.Error()+": --source "))
	}
	return nil, fmt.Errorf("%w: no live source: tried %s; run as root for netlink or pass --source auditlog:PATH, auditbeat:PATH or ecs:PATH",
		ErrUnusable, strings.Join(tried, ", "))
}

// Ready returns a channel closed once s is live (backfill done, rules
// installed). Sources without a notion of readiness are ready at once.
func Ready(s sources.Source) <-chan struct{} {
	if r, ok := s.(interface{ Ready() <-chan struct{} }); ok {
		return r.Ready()
	}
	c := make(chan struct{})
	close(c)
	return c
}

// RestoreKernel removes every audit rule a netlink source installed and
// restores the audit settings it changed. Call it on any exit path that
// does not wait for the sources' Run to return (a panic in main, os.Exit);
// it is idempotent.
func RestoreKernel() error { return netlink.RestoreAll() }

func stdin(opt Options) io.Reader {
	if opt.Stdin != nil {
		return opt.Stdin
	}
	return os.Stdin
}

// newAuditdLog is the auditd parser of a followed log: it tells the
// tailer's idle flush when the log stopped inside an event (Awaiting).
func newAuditdLog(opt Options, emit func(sources.Event)) *auditd.Parser {
	return auditd.NewParser(auditd.Options{HostID: opt.HostID, HostName: opt.HostName, Emit: emit, Story: opt.Story, Follow: true})
}

func auditdDecoder(opt Options) tail.NewDecoder {
	return func(emit func(sources.Event)) tail.Decoder { return newAuditdLog(opt, emit) }
}

// autoDecoder reads a stream whose lines may be auditd text, Auditbeat
// NDJSON or ECS NDJSON, deciding per line.
func autoDecoder(opt Options) tail.NewDecoder {
	return func(emit func(sources.Event)) tail.Decoder {
		return &multi{
			audit: newAuditdLog(opt, emit),
			beat:  auditbeat.NewDecoder(auditbeat.Options{HostID: opt.HostID, HostName: opt.HostName, Emit: emit}),
			ecs:   ecsjson.NewDecoder(ecsjson.Options{HostID: opt.HostID, Emit: emit}),
		}
	}
}

type multi struct {
	audit *auditd.Parser
	beat  *auditbeat.Decoder
	ecs   *ecsjson.Decoder
}

// Line routes a JSON line by its shape and anything else to the auditd parser.
func (m *multi) Line(b []byte) {
	t := bytes.TrimSpace(b)
	if len(t) > 0 && t[0] == '{' {
		if ecsjson.Sniff(t) == sources.AuditbeatNDJSON {
			m.beat.Line(t)
		} else {
			m.ecs.Line(t)
		}
		return
	}
	m.audit.Line(b)
}

// Flush completes the auditd parser's open events.
func (m *multi) Flush() { m.audit.Flush() }

// Awaiting reports an auditd event whose last record has not arrived.
func (m *multi) Awaiting() bool { return m.audit.Awaiting() }

// Stats sums the three decoders' counters.
func (m *multi) Stats() sources.Stats {
	s := m.audit.Stats()
	s.Add(m.beat.Stats())
	s.Add(m.ecs.Stats())
	return s
}
