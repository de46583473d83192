package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// bin is the xferhunt binary under test, built once: these tests drive the
// CLI exactly as SPEC §1 describes it, as outside tests do.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "xferhunt-bin")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "xferhunt")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code   int
	stdout []byte
	stderr string
}

func xferhunt(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{code, out.Bytes(), errb.String()}
}

type alert map[string]any

func (a alert) str(path string) string {
	var cur any = map[string]any(a)
	if v, ok := a[path]; ok {
		return toString(v)
	}
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[p]
	}
	return toString(cur)
}

func toString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func alerts(t *testing.T, out []byte) []alert {
	t.Helper()
	var as []alert
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var a alert
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("alert line is not JSON: %v: %q", err, sc.Text())
		}
		as = append(as, a)
	}
	return as
}

// expected is testdata/capture/expected.json: what the capture did.
type expected struct {
	Runs []struct {
		Log     string `json:"log"`
		Uploads []struct {
			User       string `json:"user"`
			UID        int    `json:"uid"`
			Tool       string `json:"tool"`
			Executable string `json:"server_executable"`
			SourceIP   string `json:"source_ip"`
			Path       string `json:"path"`
			Alert      bool   `json:"alert"`
		} `json:"uploads"`
	} `json:"runs"`
}

func loadExpected(t *testing.T) expected {
	t.Helper()
	b, err := os.ReadFile("testdata/capture/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Runs) == 0 {
		t.Fatal("expected.json lists no runs")
	}
	return e
}

// TestScanRealCapture is acceptance 1 of the detection core: the real
// capture of scp, scp -O, sftp put, an FTP upload and an upload into /run
// yields exactly the alerts new_terms dictates, fully attributed.
func TestScanRealCapture(t *testing.T) {
	for _, run := range loadExpected(t).Runs {
		t.Run(run.Log, func(t *testing.T) {
			r := xferhunt(t, nil, "scan", "--ephemeral", "testdata/capture/"+run.Log)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			got := alerts(t, r.stdout)
			want := 0
			for _, u := range run.Uploads {
				if !u.Alert {
					for _, a := range got {
						if a.str("file.path") == u.Path {
							t.Errorf("upload %q (%s) raised an alert; new_terms says it must not", u.Path, u.Tool)
						}
					}
					continue
				}
				want++
				var a alert
				for _, c := range got {
					if c.str("file.path") == u.Path {
						a = c
					}
				}
				if a == nil {
					t.Errorf("no alert for %s upload %s", u.Tool, u.Path)
					continue
				}
				checks := map[string]string{
					"process.executable":           u.Executable,
					"process.name":                 filepath.Base(u.Executable),
					"user.id":                      strconv.Itoa(u.UID),
					"user.name":                    u.User,
					"source.ip":                    u.SourceIP,
					"kibana.alert.rule.type":       "new_terms",
					"kibana.alert.rule.rule_id":    "ed3fedc3-dd10-45a5-a485-34a8b48cea46",
					"kibana.alert.workflow_status": "open",
					"event.action":                 "creation",
					"xferhunt.explain.last_seen":   "never",
					"kibana.alert.new_terms":       `["` + u.Executable + `","` + a.str("host.id") + `"]`,
				}
				for field, want := range checks {
					if got := a.str(field); got != want {
						t.Errorf("%s: %s = %q, want %q", u.Path, field, got, want)
					}
				}
				// The connection is attributed from the records alone: ssh through
				// the audit session, ftp (no session) through the ancestry.
				how := "session"
				if u.Executable == "/usr/sbin/vsftpd" {
					how = "ancestry"
				}
				if got := a.str("xferhunt.session.attributed_by"); got != how {
					t.Errorf("%s: attributed by %q, want %q", u.Path, got, how)
				}
				for _, field := range []string{"xferhunt.session.sshd_pid", "xferhunt.session.login_time", "xferhunt.ancestry", "host.id", "kibana.alert.uuid", "kibana.alert.reason", "kibana.alert.original_time", "source.port", "threat"} {
					if a.str(field) == "" {
						t.Errorf("%s: %s missing", u.Path, field)
					}
				}
				if !filepath.IsAbs(a.str("file.path")) {
					t.Errorf("file.path %q is not absolute", a.str("file.path"))
				}
			}
			if len(got) != want {
				for _, a := range got {
					t.Logf("alert: %s %s", a.str("process.executable"), a.str("file.path"))
				}
				t.Fatalf("%d alerts, want exactly %d", len(got), want)
			}
		})
	}
}

func alertPaths(as []alert) []string { return sortedField(as, "file.path") }

// sortedField lists field of every alert, sorted.
func sortedField(as []alert, field string) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.str(field))
	}
	sort.Strings(out)
	return out
}

// TestScanStateAcrossRuns is acceptance 2: history persists in --state, so
// a second run over the same log raises nothing; a history window shorter
// than the gap between two sftp-server uploads makes the second one new.
func TestScanStateAcrossRuns(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	first := xferhunt(t, nil, "scan", "--state", state, "testdata/capture/raw.log")
	if first.code != 0 || len(alerts(t, first.stdout)) != 3 {
		t.Fatalf("first run: exit %d, %d alerts: %s", first.code, len(alerts(t, first.stdout)), first.stderr)
	}
	fi, err := os.Stat(state)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state dir: %v, mode %v, want 0700", err, fi.Mode().Perm())
	}
	second := xferhunt(t, nil, "scan", "--state", state, "testdata/capture/raw.log")
	if second.code != 0 {
		t.Fatalf("second run: exit %d: %s", second.code, second.stderr)
	}
	if n := len(alerts(t, second.stdout)); n != 0 {
		t.Fatalf("second run over the same history raised %d alerts, want 0", n)
	}

	short := xferhunt(t, nil, "scan", "--ephemeral", "--history-window", "2s", "testdata/capture/raw.log")
	got := alertPaths(alerts(t, short.stdout))
	found := false
	for _, p := range got {
		found = found || p == "/tmp/dropped-sftp-put.bin"
	}
	if short.code != 0 || !found || len(got) <= 3 {
		t.Fatalf("--history-window 2s: exit %d, alerts %q; want the second sftp-server upload to alert again", short.code, got)
	}
}

var summaryRE = regexp.MustCompile(`(\d+) alerts, .* (\d+) malformed lines`)

// TestScanHostileInput is acceptance 3: garbage, truncated records, NUL
// bytes and escape sequences interleaved with the real log change nothing
// but the malformed count.
func TestScanHostileInput(t *testing.T) {
	clean, err := os.ReadFile("testdata/capture/raw.log")
	if err != nil {
		t.Fatal(err)
	}
	junk := [][]byte{
		[]byte("garbage line with no audit header"),
		[]byte("type=SYSCALL msg=audit(17956"),
		[]byte("\x00\x00\x00\x00"),
		[]byte("\x1b]0;owned\x07\x1b[2J type=PATH msg=audit("),
		[]byte("type=PATH msg=audit(1795662794.074:99999999999999999999999): item=0"),
		[]byte("\xff\xfe invalid utf-8 \xc3\x28"),
	}
	var dirty bytes.Buffer
	for i, line := range bytes.SplitAfter(clean, []byte("\n")) {
		dirty.Write(line)
		if i%7 == 3 {
			dirty.Write(junk[i%len(junk)])
			dirty.WriteByte('\n')
		}
	}
	path := filepath.Join(t.TempDir(), "dirty.log")
	if err := os.WriteFile(path, dirty.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	want := xferhunt(t, nil, "scan", "--ephemeral", "testdata/capture/raw.log")
	got := xferhunt(t, nil, "scan", "--ephemeral", path)
	if got.code != 0 {
		t.Fatalf("exit %d: %s", got.code, got.stderr)
	}
	ids := func(as []alert) []string {
		var s []string
		for _, a := range as {
			s = append(s, a.str("kibana.alert.uuid")+" "+a.str("file.path"))
		}
		sort.Strings(s)
		return s
	}
	w, g := ids(alerts(t, want.stdout)), ids(alerts(t, got.stdout))
	if strings.Join(w, "\n") != strings.Join(g, "\n") {
		t.Fatalf("alerts differ with junk interleaved:\nclean %q\ndirty %q", w, g)
	}
	m := summaryRE.FindStringSubmatch(got.stderr)
	if m == nil {
		t.Fatalf("no summary on stderr: %q", got.stderr)
	}
	if n, _ := strconv.Atoi(m[2]); n == 0 {
		t.Fatalf("summary counts no malformed lines: %q", got.stderr)
	}

	// A gzipped copy (rotated logs often are) gives the same result.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(dirty.Bytes())
	zw.Close()
	gzPath := filepath.Join(t.TempDir(), "dirty.log.1.gz")
	if err := os.WriteFile(gzPath, gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	viaGzip := xferhunt(t, nil, "scan", "--ephemeral", gzPath)
	if s := ids(alerts(t, viaGzip.stdout)); viaGzip.code != 0 || strings.Join(s, "\n") != strings.Join(w, "\n") {
		t.Fatalf("gzip: exit %d, alerts %q, stderr %q", viaGzip.code, s, viaGzip.stderr)
	}

	// stdin gives the same result.
	viaStdin := xferhunt(t, dirty.Bytes(), "scan", "--ephemeral", "-")
	if s := ids(alerts(t, viaStdin.stdout)); viaStdin.code != 0 || strings.Join(s, "\n") != strings.Join(w, "\n") {
		t.Fatalf("stdin: exit %d, alerts %q", viaStdin.code, s)
	}
}

// TestScanUnusableInput: a missing file, a directory, a binary file or a
// bad rule exit 2 with one clear line, and print no alerts.
func TestScanUnusableInput(t *testing.T) {
	dir := t.TempDir()
	binary := filepath.Join(dir, "blob.bin")
	os.WriteFile(binary, bytes.Repeat([]byte{0, 1, 2, 3, 0xff}, 1000), 0o600)
	badRule := filepath.Join(dir, "bad.toml")
	os.WriteFile(badRule, []byte("[rule]\nname = \"x\"\ntype = \"new_terms\"\nlanguage = \"kuery\"\nquery = \"process.name:(scp\"\n"), 0o600)
	notToml := filepath.Join(dir, "broken.toml")
	os.WriteFile(notToml, []byte("[rule\nname="), 0o600)
	unknown := filepath.Join(dir, "notes.txt")
	os.WriteFile(unknown, []byte("just some notes\nnothing audit here\n"), 0o600)

	cases := map[string][]string{
		"missing":       {"scan", "--ephemeral", filepath.Join(dir, "nope.log")},
		"directory":     {"scan", "--ephemeral", dir},
		"binary":        {"scan", "--ephemeral", binary},
		"unknown":       {"scan", "--ephemeral", unknown},
		"bad query":     {"scan", "--ephemeral", "--rule", badRule, "testdata/capture/raw.log"},
		"broken toml":   {"scan", "--ephemeral", "--rule", notToml, "testdata/capture/raw.log"},
		"unknown rule":  {"scan", "--ephemeral", "--rule", "nosuchrule", "testdata/capture/raw.log"},
		"rule device":   {"scan", "--ephemeral", "--rule", "/dev/zero", "testdata/capture/raw.log"},
		"exc. device":   {"scan", "--ephemeral", "--exceptions", "/dev/zero", "testdata/capture/raw.log"},
		"missing after": {"scan", "--ephemeral", "testdata/capture/raw.log", filepath.Join(dir, "nope.log")},
		"no path":       {"scan", "--ephemeral"},
		"view missing":  {"view", "--ephemeral", filepath.Join(dir, "nope.ndjson")},
		"view binary":   {"view", "--ephemeral", binary},
		"view no file":  {"view", "--ephemeral"},
		"bad flag":      {"scan", "--history-window", "forever", "testdata/capture/raw.log"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			r := xferhunt(t, nil, args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if len(r.stdout) != 0 {
				t.Fatalf("printed alerts on unusable input: %q", r.stdout)
			}
			if lines := strings.Count(strings.TrimSpace(r.stderr), "\n"); lines > 0 && name != "bad flag" {
				t.Fatalf("want one clear line, got %q", r.stderr)
			}
		})
	}
}

func TestRulesCommand(t *testing.T) {
	r := xferhunt(t, nil, "rules", "--rule", "seed", "--rule", "latest")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	out := string(r.stdout)
	if strings.Count(out, "Unusual Remote File Creation") != 2 || strings.Count(out, "parses:         yes") != 2 {
		t.Fatalf("rules output:\n%s", out)
	}
	for _, want := range []string{"ed3fedc3-dd10-45a5-a485-34a8b48cea46", "process.executable, host.id", "10d", "5d"} {
		if !strings.Contains(out, want) {
			t.Errorf("rules output lacks %q", want)
		}
	}
	if r := xferhunt(t, nil, "version"); r.code != 0 || !strings.HasPrefix(string(r.stdout), "xferhunt ") {
		t.Fatalf("version: %d %q", r.code, r.stdout)
	}
}

// TestStateDirSymlinkRefused: --state given as a symlink to a system
// directory used to be followed and the target chmod'ed 0700 (issue 9 item
// 4). It is refused with one line on stderr; the target is untouched.
func TestStateDirSymlinkRefused(t *testing.T) {
	target := filepath.Join(t.TempDir(), "etc")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(target, 0o755)
	link := filepath.Join(t.TempDir(), "xh")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	r := xferhunt(t, nil, "scan", "--state", link, "testdata/capture/raw.log")
	if r.code == 0 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, link+": refused: a path component is a symbolic link") {
		t.Fatalf("exit %d, stderr %q; want one line refusing the symlink", r.code, r.stderr)
	}
	fi, _ := os.Stat(target)
	entries, _ := os.ReadDir(target)
	if fi.Mode().Perm() != 0o755 || len(entries) != 0 {
		t.Fatalf("symlink target changed: mode %v, %d entries", fi.Mode().Perm(), len(entries))
	}
}
