package capture

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// checkCommitted verifies that every upload listed in expected.json is in its log as a
// CREATE record of the expected executable and user, that the logs hold only the
// servers' events, and that they stay small.
func checkCommitted(t *testing.T) {
	t.Helper()
	exp, err := LoadExpected(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(exp.Runs) != 2 || exp.ExpectedAlerts != 3 {
		t.Fatalf("expected.json: %d runs, %d alerts; want 2 runs, 3 alerts", len(exp.Runs), exp.ExpectedAlerts)
	}
	for _, run := range exp.Runs {
		t.Run("committed-"+run.Log, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dataDir, run.Log))
			if err != nil {
				t.Fatal(err)
			}
			if len(data) > 300<<10 {
				t.Errorf("%s is %d bytes, want < 300 KiB", run.Log, len(data))
			}
			events := groupEvents(string(data))
			if len(run.Uploads) != 6 {
				t.Fatalf("%d uploads, want 6", len(run.Uploads))
			}
			for _, u := range run.Uploads {
				if !hasCreate(events, u) {
					t.Errorf("step %d: no CREATE of %q by %s uid=%d in %s", u.Step, u.Path, u.ServerExe, u.UID, run.Log)
				}
			}
			var want []string
			for _, u := range run.Uploads {
				if u.Alert {
					want = append(want, u.ServerExe+" "+u.Path)
				}
			}
			if got := firstCreations(events); !slices.Equal(got, want) {
				t.Errorf("first creations per transfer executable:\n got %q\nwant %q", got, want)
			}
			for _, ev := range events {
				if strings.Contains(ev, `comm="go"`) || strings.Contains(ev, `exe="/usr/local/go/`) {
					t.Errorf("scrub left a host event: %.200q", ev)
				}
			}
		})
	}
}

var (
	exeRe  = regexp.MustCompile(`\bexe="([^"]*)"`)
	cwdRe  = regexp.MustCompile(`^type=CWD .* cwd="([^"]*)"`)
	nameRe = regexp.MustCompile(`^type=PATH .* name=("[^"]*"|[0-9A-F]+) .*nametype=CREATE`)
)

// firstCreations mimics the seed rule on the raw log: for each transfer executable
// (process.name scp, sftp-server, vsftpd …), the first file it creates outside
// /run and /var/run, as "exe path" in log order. Those are the rule's new terms.
func firstCreations(events []string) []string {
	names := map[string]bool{"scp": true, "ftp": true, "sftp": true, "vsftpd": true, "sftp-server": true, "sync": true}
	seen := map[string]bool{}
	var out []string
	for _, ev := range events {
		m := exeRe.FindStringSubmatch(ev)
		if m == nil || !names[filepath.Base(m[1])] || seen[m[1]] {
			continue
		}
		cwd := ""
		for _, l := range strings.Split(ev, "\n") {
			if c := cwdRe.FindStringSubmatch(l); c != nil {
				cwd = c[1]
			}
		}
		for _, l := range strings.Split(ev, "\n") {
			n := nameRe.FindStringSubmatch(l)
			if n == nil {
				continue
			}
			p := strings.Trim(n[1], `"`)
			if !strings.HasPrefix(n[1], `"`) {
				b, _ := hex.DecodeString(n[1])
				p = string(b)
			}
			if !strings.HasPrefix(p, "/") {
				p = filepath.Join(cwd, p)
			}
			if strings.HasPrefix(p, "/run/") || strings.HasPrefix(p, "/var/run/") {
				continue
			}
			seen[m[1]] = true
			out = append(out, m[1]+" "+p)
			break
		}
	}
	return out
}

var idRe = regexp.MustCompile(`msg=audit\((\d+\.\d+:\d+)\)`)

// groupEvents joins each event's records into one string.
func groupEvents(log string) []string {
	var order []string
	by := map[string]*strings.Builder{}
	for _, l := range strings.Split(log, "\n") {
		m := idRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		sb := by[m[1]]
		if sb == nil {
			sb = &strings.Builder{}
			by[m[1]] = sb
			order = append(order, m[1])
		}
		sb.WriteString(l)
		sb.WriteByte('\n')
	}
	out := make([]string, len(order))
	for i, id := range order {
		out[i] = by[id].String()
	}
	return out
}

// hasCreate reports whether some event creates u.Path from u.ServerExe as u.UID.
func hasCreate(events []string, u Upload) bool {
	quoted := `name="` + u.Path + `"`
	hexed := `name=` + strings.ToUpper(hex.EncodeToString([]byte(u.Path)))
	uid := " uid=" + itoa(u.UID) + " "
	for _, ev := range events {
		if !strings.Contains(ev, `exe="`+u.ServerExe+`"`) || !strings.Contains(ev, uid) {
			continue
		}
		for _, l := range strings.Split(ev, "\n") {
			if strings.HasPrefix(l, "type=PATH ") && strings.Contains(l, "nametype=CREATE") &&
				(strings.Contains(l, quoted+" ") || strings.Contains(l, hexed+" ") || strings.Contains(l, relName(u.Path))) {
				return true
			}
		}
	}
	return false
}

// relName matches a PATH record naming only the base name (relative to the cwd).
func relName(p string) string {
	base := p[strings.LastIndex(p, "/")+1:]
	for _, c := range base {
		if c < 0x21 || c > 0x7e || c == '"' {
			return "name=" + strings.ToUpper(hex.EncodeToString([]byte(base))) + " "
		}
	}
	return `name="` + base + `" `
}

func itoa(n int) string { return strconv.Itoa(n) }
