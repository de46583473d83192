package terminal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// alertRow is what one alert should look like in the list, taken from the
// JSON that `xferhunt scan` prints for the same input and flags.
type alertRow struct {
	when       time.Time // kibana.alert.original_time (the event's time)
	process    string
	executable string
	pid        string
	user       string
	ip         string
	port       string
	path       string // raw file.path, possibly hostile
	leaderPID  string // process.entry_leader.pid: the sshd/vsftpd session process
	terminal   string // process.entry_leader.entry_meta.type: ssh, ftp
	session    string // xferhunt.session.id: the audit login session
}

// display is the path as the TUI must show it: escaped by the rule the SPEC
// states (control characters visible, backslash doubled). It is written
// here independently of visible.String so the test checks the contract, not
// the implementation against itself.
func (a alertRow) display() string { return escaped(a.path) }

func (a alertRow) String() string {
	return fmt.Sprintf("%sZ %s %s %s %s", a.when.UTC().Format("15:04:05"), a.process, a.user, a.ip, a.display())
}

// escaped renders s with C0 controls and DEL as \n, \t, \r or \xNN and a
// backslash doubled: the visible form of an untrusted name.
func escaped(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

var scanEvents = regexp.MustCompile(`(\d+) events`)

// scanAlerts runs `xferhunt scan` over path with flags and returns its alerts
// newest first (the TUI's default sort) and the number of events it read.
func scanAlerts(t *testing.T, path string, flags ...string) ([]alertRow, int) {
	t.Helper()
	cmd := exec.Command(bin, append(append([]string{"scan"}, flags...), path)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("xferhunt scan %s: %v\n%s", path, err, stderr.String())
	}
	m := scanEvents.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("xferhunt scan: no event count in its summary: %q", stderr.String())
	}
	events, _ := strconv.Atoi(m[1])
	var rows []alertRow
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		var doc map[string]any
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			t.Fatalf("xferhunt scan: alert is not JSON: %v: %.200s", err, sc.Text())
		}
		ts, err := time.Parse(time.RFC3339Nano, str(doc, "kibana.alert.original_time"))
		if err != nil {
			t.Fatalf("xferhunt scan: alert original_time: %v", err)
		}
		rows = append(rows, alertRow{
			when:       ts,
			process:    str(doc, "process.name"),
			executable: str(doc, "process.executable"),
			pid:        str(doc, "process.pid"),
			user:       str(doc, "user.name"),
			ip:         str(doc, "source.ip"),
			port:       str(doc, "source.port"),
			leaderPID:  str(doc, "process.entry_leader.pid"),
			terminal:   str(doc, "process.entry_leader.entry_meta.type"),
			session:    str(doc, "xferhunt.session.id"),
			path:       str(doc, "file.path"),
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].when.After(rows[j].when) })
	return rows, events
}

// str reads a dotted path from nested JSON objects (or a flat dotted key) as
// text.
func str(doc map[string]any, path string) string {
	if v, ok := doc[path]; ok {
		return fmt.Sprint(v)
	}
	var cur any = doc
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[p]
	}
	switch v := cur.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}

// filterRows keeps the rows whose process name is name, as the KQL filter
// process.name:name does on a keyword field.
func filterRows(rows []alertRow, name string) []alertRow {
	var out []alertRow
	for _, r := range rows {
		if r.process == name {
			out = append(out, r)
		}
	}
	return out
}
