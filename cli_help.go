package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/xferhunt/xferhunt/pipeline"
)

// commandHelp is what `xferhunt help CMD` and `xferhunt CMD --help` print
// above the command's flags.
var commandHelp = map[string]string{
	"scan": `Usage: xferhunt scan [flags] PATH...

Offline hunt over recorded files (auditd logs, Auditbeat output, ECS NDJSON;
"-" = stdin), oldest first as given. Alerts as JSON lines on stdout, a
summary on stderr. Term history is remembered in --state between scans, so a
second scan of the same file raises nothing new: --ephemeral starts fresh.
`,
	"story": `Usage: xferhunt story [--session N | --ip ADDR | --user NAME | --file PATH | --pid N]
                      [--format text|ndjson] [flags] [PATH...]

Everything one login, address, user, file (through its renames) or process
tree did, in time order. No PATH: the events live runs kept in --state. No
selector, or nothing matched: exit 2.
`,
	"view": `Usage: xferhunt view [flags] FILE...

The TUI over saved alerts: an export, scan output, or Kibana's alert
documents (NDJSON, a JSON array, a _search response; gzip too). Triage and
exceptions go to --state (or memory with --ephemeral). The alerts are a
recording: kill and preserve are refused.
`,
	"demo": `Usage: xferhunt demo [flags]

The TUI (or --headless output) over a bundled real capture of scp, sftp and
FTP uploads, replayed at its recorded pace. No root, no state.
`,
	"rules": `Usage: xferhunt rules [flags]

Print the loaded rules (name, id, type, query, new-terms fields, window) and
whether each parses; exit 2 if one does not.
`,
	"doctor": `Usage: xferhunt doctor [flags]

Preflight: one line per check of what live mode needs on this host. Exit 0
when live mode will work here, 1 when only offline (scan) will.
`,
	"evidence": `Usage: xferhunt evidence [--tar] [flags] ALERT_ID

The evidence bundle of an alert a live run kept in --state, made headless
once that run has stopped (it holds the state directory): the file (still
the event's inode, no symlink followed), the alert, its raw audit records,
the login session's events, a /proc snapshot and a manifest of sha256s, in
STATE/evidence/ALERT_ID. Only for alerts live on this host and boot; a
second run reports the existing bundle. ALERT_ID may be a unique prefix of
8 characters or more. Prints the bundle's directory.
`,
	"responses": `Usage: xferhunt responses [flags]

The response log kept in --state: every kill, evidence bundle and
quarantine taken on the host, done or refused, oldest first.
`,
	"version": `Usage: xferhunt version

Print version, commit and Go version.
`,
}

// flagSet is the flags a command reads and, for the others, why it does not.
type flagSet struct {
	names map[string]bool
	why   string
}

// commandFlags restricts the flags of commands that would otherwise ignore
// some silently. A command not listed accepts every flag.
var commandFlags = map[string]flagSet{
	"scan": {
		names: setOf("rule", "state", "ephemeral", "state-repair", "history-window", "new-terms-fields", "host-id", "exceptions", "story-budget", "version"),
		why:   "it reads the PATHs given and prints JSON lines; --source, --headless, --coverage and --hide-own are for the live run",
	},
}

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func knownCommand(cmd string) bool {
	switch cmd {
	case "", "scan", "story", "view", "demo", "rules", "doctor", "version", "evidence", "responses":
		return true
	}
	return false
}

// helpCommand is the command line that shows cmd's help.
func helpCommand(cmd string) string {
	if cmd == "" {
		return "xferhunt --help"
	}
	return "xferhunt " + cmd + " --help"
}

// unusedFlag names the first flag set on the command line that cmd does
// not read, or "".
func unusedFlag(fs *flag.FlagSet, cmd string) string {
	allowed, ok := commandFlags[cmd]
	if !ok {
		return ""
	}
	bad := ""
	fs.Visit(func(f *flag.Flag) {
		if bad == "" && !allowed.names[f.Name] {
			bad = f.Name
		}
	})
	return bad
}

// printHelp writes the help of cmd ("" = the whole program) to w: the
// usage, then only the flags the command reads.
func printHelp(w io.Writer, cmd string) {
	var sq *pipeline.StoryQuery
	if cmd == "" || cmd == "story" {
		q := pipeline.NewStoryQuery()
		sq = &q
	}
	var showVersion, tarToo bool
	fs := newFlagSet(&pipeline.Config{}, &showVersion, w, sq)
	addCommandFlags(fs, cmd, &tarToo)
	if cmd == "" {
		fmt.Fprint(w, usage)
		fs.PrintDefaults()
		return
	}
	fmt.Fprint(w, commandHelp[cmd])
	if cmd == "version" {
		return
	}
	fmt.Fprintln(w, "\nFlags:")
	if allowed, ok := commandFlags[cmd]; ok {
		keep := flag.NewFlagSet("xferhunt "+cmd, flag.ContinueOnError)
		keep.SetOutput(w)
		fs.VisitAll(func(f *flag.Flag) {
			if allowed.names[f.Name] {
				keep.Var(f.Value, f.Name, f.Usage)
			}
		})
		keep.PrintDefaults()
		return
	}
	fs.PrintDefaults()
}

// addCommandFlags adds the flags only one command reads.
func addCommandFlags(fs *flag.FlagSet, cmd string, tarToo *bool) {
	if cmd == "evidence" {
		fs.BoolVar(tarToo, "tar", false, "evidence: also write the bundle as one tar file beside its directory")
	}
}
