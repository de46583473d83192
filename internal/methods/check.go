package methods

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/ecs"
)

// Window is when one method ran: every audit record of the method has its
// time inside it, and no record of another method has.
type Window struct {
	ID         string    `json:"id"`
	Start, End time.Time `json:"-"`
	// StartMS and EndMS are Start and End in Unix milliseconds, as audit
	// records their times.
	StartMS int64 `json:"start_ms"`
	EndMS   int64 `json:"end_ms"`
}

// NewWindow is the window of method id from start to end.
func NewWindow(id string, start, end time.Time) Window {
	return Window{ID: id, Start: start, End: end, StartMS: start.UnixMilli(), EndMS: end.UnixMilli()}
}

// Run is what a capture keeps besides its log: the upload directory and
// each method's window (windows.json).
type Run struct {
	Dir     string   `json:"dir"`
	Windows []Window `json:"windows"`
}

// LoadRun reads a capture's windows.json.
func LoadRun(file string) (Run, error) {
	var r Run
	b, err := os.ReadFile(file)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", file, err)
	}
	for i := range r.Windows {
		w := &r.Windows[i]
		w.Start, w.End = time.UnixMilli(w.StartMS), time.UnixMilli(w.EndMS)
	}
	return r, nil
}

var stampRe = regexp.MustCompile(`msg=audit\((\d+)\.(\d{3}):\d+\)`)

// Slice returns the lines of an audit log whose record time lies in w:
// the method's own events, scanned alone as if nothing came before.
func Slice(log []byte, w Window) []byte {
	var out []byte
	for _, l := range bytes.SplitAfter(log, []byte("\n")) {
		m := stampRe.FindSubmatch(l)
		if m == nil {
			continue
		}
		sec, _ := strconv.ParseInt(string(m[1]), 10, 64)
		ms, _ := strconv.ParseInt(string(m[2]), 10, 64)
		if t := sec*1000 + ms; t >= w.StartMS && t <= w.EndMS {
			out = append(out, l...)
		}
	}
	return out
}

var (
	serialRe = regexp.MustCompile(`msg=audit\((\d+\.\d+:\d+)\)`)
	mkdirRe  = regexp.MustCompile(`^type=SYSCALL .* arch=c000003e syscall=(83|258) `)
)

// DropDirs removes the events of mkdir and mkdirat (x86_64): the log as
// the kernel writes it when no loaded rule asks for directories, which is
// what `--rule seed` alone installs.
func DropDirs(log []byte) []byte {
	drop := map[string]bool{}
	lines := bytes.SplitAfter(log, []byte("\n"))
	for _, l := range lines {
		if mkdirRe.Match(l) {
			if m := serialRe.FindSubmatch(l); m != nil {
				drop[string(m[1])] = true
			}
		}
	}
	var out []byte
	for _, l := range lines {
		if m := serialRe.FindSubmatch(l); m != nil && drop[string(m[1])] {
			continue
		}
		out = append(out, l...)
	}
	return out
}

// ParseAlerts reads alert NDJSON.
func ParseAlerts(ndjson []byte) ([]ecs.Doc, error) {
	var out []ecs.Doc
	for _, l := range bytes.Split(ndjson, []byte("\n")) {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			return nil, fmt.Errorf("alert %q: %w", l, err)
		}
		out = append(out, ecs.Doc(m))
	}
	return out, nil
}

// ruleIDs maps rule_id to the built-in rule's name.
var ruleIDs = func() map[string]string {
	m := map[string]string{}
	for _, n := range rules.Builtin() {
		if r, err := rules.Load(n); err == nil {
			m[r.RuleID] = n
		}
	}
	return m
}()

// Describe names an alert as a Want would: rule, process, path and the
// original path, relative to dir.
func Describe(d ecs.Doc, dir string) Want {
	rule := ruleIDs[d.Str("kibana.alert.rule.rule_id")]
	if rule == "" {
		rule = d.Str("kibana.alert.rule.name")
	}
	if rule == "latest" {
		rule = "seed" // one rule id, two versions
	}
	rel := func(p string) string {
		if r, ok := strings.CutPrefix(p, dir+"/"); ok {
			return r
		}
		return p
	}
	return Want{Rule: rule, Process: d.Str("process.name"), Path: rel(d.Str("file.path")), From: rel(d.Str("file.Ext.original.path"))}
}

// Check compares the alerts a method raised with want: the same alerts
// (in any order), each naming the method's user and client address. It
// returns what differs, one line each.
func Check(m Method, want []Want, dir string, alerts []ecs.Doc) []string {
	var probs []string
	left := slices.Clone(want)
	for _, a := range alerts {
		got := Describe(a, dir)
		i := slices.IndexFunc(left, func(w Want) bool { return w.matches(got) })
		if i < 0 {
			probs = append(probs, fmt.Sprintf("%s: unexpected alert %s", m.ID, got))
			continue
		}
		left = slices.Delete(left, i, i+1)
		if m.Addr == "" {
			continue // a client on this host: no login, no address
		}
		if u := a.Str("user.name"); u != m.User {
			probs = append(probs, fmt.Sprintf("%s: %s: user.name %q, want %q", m.ID, got, u, m.User))
		}
		if ip := a.Str("source.ip"); ip != m.Addr {
			probs = append(probs, fmt.Sprintf("%s: %s: source.ip %q, want %q", m.ID, got, ip, m.Addr))
		}
	}
	for _, w := range left {
		probs = append(probs, fmt.Sprintf("%s: missing alert %s", m.ID, w))
	}
	return probs
}

func (w Want) matches(got Want) bool {
	if w.Rule != got.Rule || w.Process != got.Process || w.Path != got.Path {
		return false
	}
	if w.From == "" {
		return got.From == ""
	}
	ok, _ := path.Match(w.From, got.From)
	return ok
}

// String is the alert as the table writes it.
func (w Want) String() string {
	s := w.Rule + ": " + w.Process + " → " + w.Path
	if w.From != "" {
		s += " (from " + w.From + ")"
	}
	return s
}

// LiveWant is what a live run over every method in Table order raises
// with `--rule seed --rule coverage`: new_terms rules alert on the first
// time a program does what they look for (one alert per rule and program,
// history shared across methods); the companion alerts once per command.
func LiveWant() map[string][]Want {
	seen := map[string]bool{}
	out := map[string][]Want{}
	for _, m := range Table {
		for _, w := range m.Coverage {
			key := w.Rule + "\x00" + processKey(w.Process)
			if w.Rule != rules.ShellPipe && seen[key] {
				continue
			}
			seen[key] = true
			out[m.ID] = append(out[m.ID], w)
		}
	}
	return out
}

// processKey is the new-terms value a process name stands for: ftp and
// tnftp are one executable.
func processKey(name string) string {
	if name == "tnftp" {
		return "ftp"
	}
	return name
}
