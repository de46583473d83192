// Package methods is the table of transfer methods and what xferhunt sees of
// each: which rule alerts, on which process and file, with the seed rule
// alone and with the coverage rules. The end-to-end test
// (e2e/live TestCoverage) performs every method against real servers and
// asserts exactly these alerts, live and over its audit log; the capture
// test (pipeline) does the same over the recorded log (testdata/coverage);
// and the README's "What it sees and what it misses" table is Markdown()
// (a test compares them).
package methods

import (
	"fmt"
	"strings"
)

// Users of the table: an ordinary ssh/ftp account, and one confined to
// sshd's internal-sftp (`Match User … ForceCommand internal-sftp`).
const (
	UserA = "xfcov-a"
	UserC = "xfcov-c"
)

// Want is one alert a method raises.
type Want struct {
	// Rule is the built-in rule's name (`--rule` value): seed,
	// coverage-overwrite, …
	Rule string
	// Process is the alert's process.name.
	Process string
	// Path is file.path relative to the upload directory.
	Path string
	// From is file.Ext.original.path relative to the upload directory, a
	// path.Match pattern ("" when the alert is not on a rename).
	From string
}

// Method is one way files reach the host (or, for a download, leave a
// client on it), as the test performs it.
type Method struct {
	// ID names the method in tests and in the capture's windows.
	ID string
	// Client is the command the test runs (DIR: the upload directory).
	Client string
	// Writer is what creates the file on this host.
	Writer string
	// User and Addr are the account and the client address (127.0.0.x;
	// "" for a client run on this host).
	User, Addr string
	// Seed are the alerts of `--rule seed` alone (the kernel then records
	// no directory creation); Coverage those of `--rule seed --rule
	// coverage` (directories recorded), each with a fresh history.
	Seed, Coverage []Want
	// Note says what the row shows, in the table.
	Note string
}

// Table is every method the tests perform, in the order they run.
var Table = []Method{
	{ID: "scp", Client: "`scp F host:DIR/scp.bin`", Writer: "sftp-server", User: UserA, Addr: "127.0.0.41",
		Seed:     []Want{{"seed", "sftp-server", "scp.bin", ""}},
		Coverage: []Want{{"seed", "sftp-server", "scp.bin", ""}}},
	{ID: "scp-O", Client: "`scp -O F host:DIR/scp-O.bin`", Writer: "scp -t", User: UserA, Addr: "127.0.0.42",
		Seed:     []Want{{"seed", "scp", "scp-O.bin", ""}},
		Coverage: []Want{{"seed", "scp", "scp-O.bin", ""}}},
	{ID: "sftp", Client: "`sftp` `put F DIR/sftp.bin`", Writer: "sftp-server", User: UserA, Addr: "127.0.0.43",
		Seed:     []Want{{"seed", "sftp-server", "sftp.bin", ""}},
		Coverage: []Want{{"seed", "sftp-server", "sftp.bin", ""}}},
	{ID: "ftp", Client: "`curl -T F ftp://host/DIR/ftp.bin` (STOR)", Writer: "vsftpd", User: UserA, Addr: "127.0.0.44",
		Seed:     []Want{{"seed", "vsftpd", "ftp.bin", ""}},
		Coverage: []Want{{"seed", "vsftpd", "ftp.bin", ""}}},
	{ID: "scp-over", Client: "`scp F host:DIR/old-scp.bin` over an existing file", Writer: "sftp-server", User: UserA, Addr: "127.0.0.45",
		Coverage: []Want{{"coverage-overwrite", "sftp-server", "old-scp.bin", ""}},
		Note:     "an overwrite, not a creation"},
	{ID: "scp-O-over", Client: "`scp -O F host:DIR/old-scp-O.bin` over an existing file", Writer: "scp -t", User: UserA, Addr: "127.0.0.46",
		Coverage: []Want{{"coverage-overwrite", "scp", "old-scp-O.bin", ""}},
		Note:     "an overwrite, not a creation"},
	{ID: "ftp-over", Client: "`curl -T F ftp://host/DIR/old-ftp.bin` over an existing file", Writer: "vsftpd", User: UserA, Addr: "127.0.0.47",
		Coverage: []Want{{"coverage-overwrite", "vsftpd", "old-ftp.bin", ""}},
		Note:     "an overwrite, not a creation"},
	{ID: "sftp-rename", Client: "`sftp` `put F DIR/win.bin.filepart`, `rename` it to `DIR/win.bin` (as WinSCP does)", Writer: "sftp-server", User: UserA, Addr: "127.0.0.48",
		Seed:     []Want{{"seed", "sftp-server", "win.bin.filepart", ""}},
		Coverage: []Want{{"seed", "sftp-server", "win.bin.filepart", ""}, {"coverage-rename", "sftp-server", "win.bin", "win.bin.filepart"}},
		Note:     "the seed names the temporary file only (`latest` excludes `.filepart`: nothing)"},
	{ID: "rsync", Client: "`rsync -e ssh F host:DIR/rsync.bin`", Writer: "rsync --server", User: UserA, Addr: "127.0.0.49",
		Coverage: []Want{{"coverage-rsync", "rsync", "rsync.bin", ".rsync.bin.*"}},
		Note:     "the query's `sync` is not `rsync`; the alert is on the rename from rsync's temporary name"},
	{ID: "rsync-inplace", Client: "`rsync -e ssh --inplace F host:DIR/rsync-inplace.bin`", Writer: "rsync --server", User: UserA, Addr: "127.0.0.50",
		Coverage: []Want{{"coverage-rsync", "rsync", "rsync-inplace.bin", ""}}},
	{ID: "rsync-r", Client: "`rsync -e ssh -r T/ host:DIR/rtree/` (T holds sub/f1.txt)", Writer: "rsync --server", User: UserA, Addr: "127.0.0.51",
		Coverage: []Want{{"coverage-rsync", "rsync", "rtree/sub/f1.txt", "rtree/sub/.f1.txt.*"}, {"coverage-dirs", "rsync", "rtree", ""}},
		Note:     "rsync names files relative to directory fds: placed by the directories' inodes"},
	{ID: "internal-sftp", Client: "`sftp` `put F DIR/isftp.bin` to an account with `ForceCommand internal-sftp`", Writer: "sshd", User: UserC, Addr: "127.0.0.52",
		Coverage: []Want{{"coverage-internal-sftp", "sshd", "isftp.bin", ""}},
		Note:     "no sftp-server process: sshd writes the file"},
	{ID: "internal-sftp-mkdir", Client: "`sftp` `mkdir DIR/isftp-dir` to the internal-sftp account", Writer: "sshd", User: UserC, Addr: "127.0.0.53",
		Coverage: []Want{{"coverage-dirs", "sshd", "isftp-dir", ""}}},
	{ID: "ssh-cat", Client: "`ssh host 'cat > DIR/cat.bin' < F`", Writer: "bash (the redirection)", User: UserA, Addr: "127.0.0.54",
		Coverage: []Want{{"coverage-shell-pipe", "bash", "cat.bin", ""}},
		Note:     "no transfer program at all"},
	{ID: "ssh-tar", Client: "`tar c ttree \\| ssh host 'cd DIR && tar x'` (ttree holds f2.txt)", Writer: "tar", User: UserA, Addr: "127.0.0.55",
		Coverage: []Want{{"coverage-shell-pipe", "tar", "ttree/f2.txt", ""}},
		Note:     "one alert per command, on its first file (not on the directory tar makes first)"},
	{ID: "sftp-mkdir", Client: "`sftp` `mkdir DIR/sftp-dir`", Writer: "sftp-server", User: UserA, Addr: "127.0.0.56",
		Coverage: []Want{{"seed", "sftp-server", "sftp-dir", ""}, {"coverage-dirs", "sftp-server", "sftp-dir", ""}},
		Note:     "mkdir is recorded only with coverage-dirs loaded; the seed query then matches the directory too"},
	{ID: "scp-r", Client: "`scp -r T host:DIR/scp-r` (T holds s/g.txt)", Writer: "sftp-server", User: UserA, Addr: "127.0.0.57",
		Seed:     []Want{{"seed", "sftp-server", "scp-r/s/g.txt", ""}},
		Coverage: []Want{{"seed", "sftp-server", "scp-r", ""}, {"coverage-dirs", "sftp-server", "scp-r", ""}},
		Note:     "with directories recorded, the seed's first creation is the top directory"},
	{ID: "scp-O-r", Client: "`scp -O -r T host:DIR/scp-O-r`", Writer: "scp -t", User: UserA, Addr: "127.0.0.58",
		Seed:     []Want{{"seed", "scp", "scp-O-r/s/g.txt", ""}},
		Coverage: []Want{{"seed", "scp", "scp-O-r", ""}, {"coverage-dirs", "scp", "scp-O-r", ""}}},
	{ID: "ftp-mkd", Client: "`curl -Q 'MKD DIR/ftp-dir' ftp://host/`", Writer: "vsftpd", User: UserA, Addr: "127.0.0.59",
		Coverage: []Want{{"seed", "vsftpd", "ftp-dir", ""}, {"coverage-dirs", "vsftpd", "ftp-dir", ""}}},
	{ID: "tnftp-get", Client: "`tnftp` `get` from an FTP server into DIR/tnftp.bin, on this host", Writer: "tnftp (the same binary as ftp)", User: "", Addr: "",
		Note: "missed: `process.name` is the name the client was called by; `ftp` alerts (next row)"},
	{ID: "ftp-get", Client: "the same client called `ftp`: `get` into DIR/ftp-get.bin", Writer: "ftp", User: "", Addr: "",
		Seed:     []Want{{"seed", "ftp", "ftp-get.bin", ""}},
		Coverage: []Want{{"seed", "ftp", "ftp-get.bin", ""}}},
}

// Find returns the method with id.
func Find(id string) (Method, bool) {
	for _, m := range Table {
		if m.ID == id {
			return m, true
		}
	}
	return Method{}, false
}

// Markdown renders the README's table: one row per method, the alerts of
// each rule set as "rule: process → path".
func Markdown() string {
	var b strings.Builder
	b.WriteString("| method (DIR: the upload directory) | writes on this host | `--rule seed` | `--rule seed --rule coverage` | |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, m := range Table {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", m.Client, m.Writer, cell(m.Seed), cell(m.Coverage), m.Note)
	}
	return b.String()
}

func cell(ws []Want) string {
	if len(ws) == 0 {
		return "—"
	}
	parts := make([]string, len(ws))
	for i, w := range ws {
		p := "`" + w.Path + "`"
		if w.From != "" {
			p += " (from `" + w.From + "`)"
		}
		parts[i] = fmt.Sprintf("**%s**: %s → %s", w.Rule, w.Process, p)
	}
	return strings.Join(parts, "<br>")
}
