// Command xferhunt shows, live, which files remote file-transfer services
// (scp, sftp-server, vsftpd, ftp …) create on this host, implementing
// Elastic's "Unusual Remote File Creation" rule outside Elasticsearch.
//
// main only parses the command line and hands a Config to the pipeline.
package main

import (
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/internal/crash"
	"github.com/xferhunt/xferhunt/internal/safefile"
	"github.com/xferhunt/xferhunt/internal/visible"
	"github.com/xferhunt/xferhunt/pipeline"
	"github.com/xferhunt/xferhunt/sources/auditrules"
	"github.com/xferhunt/xferhunt/sources/netlink"
)

// demoCapture is the real capture `xferhunt demo` replays (see
// testdata/capture/README.md for how it was recorded).
//
//go:embed testdata/capture/enriched.log
var demoCapture []byte

// version and commit are stamped by scripts/release.sh with -ldflags
// "-X main.version=… -X main.commit=…"; a plain `go build` leaves commit
// empty and printVersion falls back to the VCS stamp of the build info.
var (
	version = "dev"
	commit  = ""
)

func main() {
	if pid := os.Getenv(watchdogEnv); pid != "" {
		os.Exit(runWatchdog(pid))
	}
	netlink.BeforeChange = startWatchdog
	// XFERHUNT_CPUPROFILE names a file for a CPU profile of the whole run:
	// the way to see where a slow pipeline spends its time on a real host.
	if path := os.Getenv("XFERHUNT_CPUPROFILE"); path != "" {
		// A new file in a private directory, like every file xferhunt
		// writes: root must not write a profile through a planted link.
		f, err := createProfile(path)
		if err != nil {
			printError(os.Stderr, "XFERHUNT_CPUPROFILE: "+err.Error())
		} else if pprof.StartCPUProfile(f) == nil {
			code := crash.Protect(os.Stderr, func() int { return run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr) })
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	// A panic is a bug, not bad input: exit 3 (crash.Code), not Go's 2.
	os.Exit(crash.Protect(os.Stderr, func() int { return run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr) }))
}

func createProfile(path string) (*os.File, error) {
	d, err := safefile.OpenDir(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Create(filepath.Base(path))
}

const usage = `xferhunt — live hunting for files created by remote file-transfer services

Usage:
  xferhunt [flags]                 live TUI on this host (sources: auto)
  xferhunt --headless [flags]      same pipeline, alerts as JSON lines on stdout
  xferhunt scan [flags] PATH...    offline hunt over recorded files ("-" = stdin)
  xferhunt story [--session N | --ip ADDR | --user NAME | --file PATH | --pid N]
                 [--format text|ndjson] [flags] [PATH...]
                                   everything one login, address, user, file or
                                   process tree did, in time order (no PATH: the
                                   events live runs kept in --state)
  xferhunt view [flags] FILE...    TUI over alert NDJSON (an export, or scan output),
                                   with triage (kept in --state)
  xferhunt demo [flags]            TUI over a bundled real capture, no root needed
  xferhunt rules [flags]           print the loaded rules and whether each parses
  xferhunt doctor [flags]          preflight: what will work on this host and why not
                                   (exit 0: live mode will work; 1: offline only)
  xferhunt evidence [--tar] [flags] ALERT_ID
                                   the evidence bundle of a live alert kept in --state
  xferhunt responses [flags]       the response log: every action taken on the host
  xferhunt version                 version, commit, Go version

Flags:
`

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// durationFlag accepts Go durations plus the day and week units of Kibana's date math.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(v string) error {
	d, err := rules.ParseDuration(v)
	if err != nil {
		return err
	}
	if d <= 0 {
		return fmt.Errorf("must be positive")
	}
	*f.d = d
	return nil
}

// run is the whole command. Every byte it prints outside JSON goes through
// internal/visible: errors as one escaped line (printError), and all else
// on stderr, and `rules` on stdout, through visible.Lines, so a path, rule
// or field name from the host cannot drive the terminal.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	errOut := stderr // printError escapes itself
	stderr = visible.Lines(stderr)
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "", "scan", "story", "view", "demo", "rules", "doctor", "version", "evidence", "responses":
	case "help":
		// `xferhunt help` and `xferhunt help scan`: help is asked for, so
		// it goes to stdout (`xferhunt help | less`) and exits 0.
		topic := ""
		if len(args) > 0 {
			topic = args[0]
		}
		if !knownCommand(topic) {
			printError(errOut, `no help on "`+topic+`" (commands: scan, story, view, demo, rules, doctor, evidence, responses, version)`)
			return 2
		}
		printHelp(stdout, topic)
		return 0
	default:
		printError(errOut, `unknown command "`+cmd+`" (try: scan, story, view, demo, rules, doctor, evidence, responses, version, --help)`)
		return 2
	}

	var cfg pipeline.Config
	var showVersion bool
	var sq *pipeline.StoryQuery
	if cmd == "story" {
		q := pipeline.NewStoryQuery()
		sq = &q
	}
	// Parse errors are printed once, by us, with a pointer to the help
	// (the flag package would print them twice around the whole usage).
	fs := newFlagSet(&cfg, &showVersion, io.Discard, sq)
	var tarToo bool
	addCommandFlags(fs, cmd, &tarToo)
	paths, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(stdout, cmd)
		return 0
	}
	if err != nil {
		printError(errOut, err.Error()+" (see `"+helpCommand(cmd)+"`)")
		return 2
	}
	if bad := unusedFlag(fs, cmd); bad != "" {
		printError(errOut, cmd+" does not use --"+bad+" ("+commandFlags[cmd].why+"; see `"+helpCommand(cmd)+"`)")
		return 2
	}
	if showVersion || cmd == "version" {
		printVersion(stdout)
		return 0
	}
	if len(cfg.Rules) == 0 {
		cfg.Rules = []string{"seed"}
	}
	if len(paths) > 0 && cmd != "scan" && cmd != "story" && cmd != "view" && cmd != "evidence" {
		printError(errOut, `unexpected argument "`+paths[0]+`" (files are read by `+"`xferhunt scan PATH…` or `--source auditlog:PATH`)")
		return 2
	}
	cfg.Stdin, cfg.Stdout, cfg.Stderr = stdin, stdout, stderr

	switch cmd {
	case "scan":
		if len(paths) == 0 {
			printError(errOut, "scan needs at least one PATH (use - for stdin)")
			return 2
		}
		return exitCode(errOut, pipeline.Scan(cfg, paths))
	case "evidence":
		if len(paths) != 1 {
			printError(errOut, "evidence needs one ALERT_ID (kibana.alert.uuid, or a unique prefix of 8 characters or more)")
			return 2
		}
		return exitCode(errOut, pipeline.Evidence(cfg, paths[0], tarToo))
	case "responses":
		// Targets and results name host paths: escaped like stderr.
		cfg.Stdout = visible.Lines(stdout)
		return exitCode(errOut, pipeline.Responses(cfg))
	case "view":
		if len(paths) == 0 {
			printError(errOut, "view needs at least one FILE of alerts (NDJSON: an export or scan output)")
			return 2
		}
		return exitCode(errOut, pipeline.View(cfg, paths))
	case "story":
		// Without PATH the story comes from the state directory's journal.
		return exitCode(errOut, pipeline.Story(cfg, *sq, paths))
	case "rules":
		// Rule names and queries come from files: text, escaped like stderr.
		cfg.Stdout = visible.Lines(stdout)
		return exitCode(errOut, pipeline.ListRules(cfg))
	case "demo":
		return exitCode(errOut, pipeline.Demo(cfg, demoCapture))
	case "doctor":
		return doctor(cfg, visible.Lines(stdout))
	default:
		return exitCode(errOut, pipeline.Live(cfg))
	}
}

// doctor runs the preflight for the live run these flags describe. Its
// lines name processes and paths of the host: w escapes them.
func doctor(cfg pipeline.Config, w io.Writer) int {
	r := pipeline.Preflight(cfg)
	if err := r.Write(w); err != nil {
		return 1
	}
	if r.Live() {
		return 0
	}
	return 1
}

func newFlagSet(cfg *pipeline.Config, showVersion *bool, out io.Writer, sq *pipeline.StoryQuery) *flag.FlagSet {
	fs := flag.NewFlagSet("xferhunt", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, usage)
		fs.PrintDefaults()
	}
	fs.Var((*listFlag)(&cfg.Sources), "source", "event source, repeatable: auto, netlink, netlink:unicast, netlink:multicast, auditlog:PATH, auditbeat:PATH, ecs:PATH, - (stdin)")
	fs.Var((*listFlag)(&cfg.Rules), "rule", "rule to run, repeatable: seed (default), latest, or a detection-rules TOML file")
	fs.StringVar(&cfg.StateDir, "state", "", "state directory (default $XDG_STATE_HOME/xferhunt; root: /var/lib/xferhunt)")
	fs.BoolVar(&cfg.Ephemeral, "ephemeral", false, "keep state in memory only")
	fs.BoolVar(&cfg.StateRepair, "state-repair", false, "when state.db is damaged, set it aside (state.db.damaged-TIME) and start with empty state")
	fs.Var(durationFlag{&cfg.HistoryWindow}, "history-window", "override the rule's new-terms history window (e.g. 10d, 36h)")
	fs.Func("new-terms-fields", "override the rule's new-terms fields (comma-separated, 1 to 3)", func(v string) error {
		cfg.NewTermsFields = nil
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				cfg.NewTermsFields = append(cfg.NewTermsFields, f)
			}
		}
		if n := len(cfg.NewTermsFields); n < 1 || n > 3 {
			return fmt.Errorf("needs 1 to 3 fields, got %d", n)
		}
		return nil
	})
	fs.StringVar(&cfg.HostID, "host-id", "", "host.id for inputs that carry none (default: /etc/machine-id)")
	fs.StringVar(&cfg.Exceptions, "exceptions", "", "exception items file (Kibana exception-list NDJSON export)")
	fs.BoolVar(&cfg.Headless, "headless", false, "no TUI: alerts as JSON lines on stdout, status on stderr")
	fs.Func("coverage", "kernel audit rules for live netlink: narrow (default: the transfer programs, filtered in the kernel, and what login sessions do, for stories), transfers (narrow without the login sessions' rules: cheapest) or broad (every creation, exec and connect)", func(v string) error {
		c, err := auditrules.ParseCoverage(v)
		cfg.Coverage = c
		return err
	})
	fs.BoolVar(&cfg.ReadOnly, "readonly", false, "change nothing on the host: no kill, no evidence bundle, no quarantine (refused, and absent from the TUI's help)")
	fs.BoolVar(&cfg.HideOwn, "hide-own", false, "live: leave out the alerts of the login session xferhunt was started from (the responder's own; they are labelled xferhunt.responder.own_session otherwise)")
	// XFERHUNT_TIME is the default, so a responder sets it once in their
	// shell; the flag wins.
	cfg.LocalTime = os.Getenv("XFERHUNT_TIME") == "local"
	fs.Func("time", "zone of the TUI's times: utc (default, shown with a Z) or local (TZ, named in the header); default from XFERHUNT_TIME", func(v string) error {
		switch v {
		case "utc", "UTC":
			cfg.LocalTime = false
		case "local":
			cfg.LocalTime = true
		default:
			return fmt.Errorf("want utc or local")
		}
		return nil
	})
	fs.Var(byteSize{&cfg.StoryBudget}, "story-budget", "memory bound of the event store that keeps stories, e.g. 64MiB, 1GiB (default 64MiB); the oldest events are evicted first, and counted")
	if sq != nil {
		fs.Int64Var(&sq.Session, "session", -1, "story: the audit login session N (ses=)")
		fs.StringVar(&sq.IP, "ip", "", "story: every login from source address ADDR")
		fs.StringVar(&sq.User, "user", "", "story: everything user NAME did or logged in as")
		fs.StringVar(&sq.File, "file", "", "story: file PATH through its renames, chmods and execs")
		fs.IntVar(&sq.PID, "pid", 0, "story: process N and its descendants")
		fs.StringVar(&sq.Format, "format", "text", "story: text (a readable table) or ndjson (ECS events)")
	}
	if showVersion != nil {
		fs.BoolVar(showVersion, "version", false, "print version and exit")
	}
	return fs
}

// byteSize is a size flag: a number with an optional KiB/MiB/GiB (or
// KB/MB/GB, read the same) suffix.
type byteSize struct{ n *int64 }

func (b byteSize) String() string {
	if b.n == nil || *b.n == 0 {
		return ""
	}
	return strconv.FormatInt(*b.n, 10)
}

func (b byteSize) Set(v string) error {
	s := strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n > (1<<50)/mult {
		return fmt.Errorf("want a positive size such as 64MiB")
	}
	if n*mult < 1<<20 {
		return fmt.Errorf("%s is below the 1MiB minimum", v)
	}
	*b.n = n * mult
	return nil
}

// parseInterleaved lets flags and positional arguments mix
// (`scan a.log --ephemeral b.log`), which the flag package alone does not.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func printVersion(w io.Writer) {
	c := commit
	if bi, ok := debug.ReadBuildInfo(); ok && c == "" {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				c = s.Value
			}
		}
	}
	if c == "" {
		c = "unknown"
	}
	fmt.Fprintf(w, "xferhunt %s (commit %s, %s, %s/%s)\n", version, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// exitCode maps a pipeline result onto SPEC §1's exit codes and prints the
// error as one line: 2 for usage or unusable input, 3 for internal errors
// (a panic a source recovered from), 1 for other runtime failures.
func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return 0
	}
	printError(stderr, err.Error())
	switch {
	case errors.Is(err, pipeline.ErrInternal):
		return crash.Code
	case errors.Is(err, pipeline.ErrUsage):
		return 2
	}
	return 1
}

// printError writes msg as one line: escaped by visible.String, newlines
// included, since it may quote a path or a field name from the host.
func printError(w io.Writer, msg string) {
	fmt.Fprintf(w, "xferhunt: %s\n", visible.String(msg))
}
