package auditd

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/sources"
)

// facts are the fields that say what happened and to whom; host aside,
// they must not change when the same records come from a central log.
func facts(ev sources.Event) string {
	d := ev.Doc
	return fmt.Sprintf("%s %s pid=%s exe=%s ip=%s port=%v user=%s ses=%s @%s",
		d.Str("event.action"), d.Str("file.path"), fmt.Sprint(d.Get("process.pid")), d.Str("process.executable"),
		d.Str("source.ip"), d.Get("source.port"), d.Str("user.id"), d.Str("xferhunt.session.attributed_by"), d.Str("@timestamp"))
}

// TestNodesNeverMerged: a central auditd log (name_format: every record
// prefixed node=NAME) holding the real capture of two hosts, interleaved
// line by line — so every (time:serial) occurs once per node — yields
// each host's events exactly as the capture alone does, with host.name
// and host.id the node (before: the two hosts' records were merged into
// one event per serial, attributed to one host, and half the uploads
// were lost).
func TestNodesNeverMerged(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "capture", "raw.log"))
	if err != nil {
		t.Fatal(err)
	}
	var single []sources.Event
	sp := NewParser(Options{HostID: "local", HostName: "collector", Emit: func(ev sources.Event) { single = append(single, ev) }})
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for _, l := range lines {
		sp.Line([]byte(l))
	}
	sp.Flush()
	var want []string
	for _, ev := range single {
		want = append(want, facts(ev))
	}
	if len(want) < 3 {
		t.Fatalf("capture gave %d events", len(want))
	}

	var central bytes.Buffer
	for _, l := range lines {
		fmt.Fprintf(&central, "node=a %s\nnode=b %s\n", l, l)
	}
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			got := map[string][]string{}
			st, err := Scan(bytes.NewReader(central.Bytes()), Options{HostID: "local", HostName: "collector", Workers: workers,
				Emit: func(ev sources.Event) {
					name, id := ev.Doc.Str("host.name"), ev.Doc.Str("host.id")
					if name != id {
						t.Errorf("host.name %q, host.id %q: want both the node", name, id)
					}
					got[name] = append(got[name], facts(ev))
				}})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 {
				t.Fatalf("events from hosts %v, want a and b only", reflect.ValueOf(got).MapKeys())
			}
			for _, node := range []string{"a", "b"} {
				if !reflect.DeepEqual(got[node], want) {
					t.Errorf("node %s: %d events, want the capture's %d:\n got %q\nwant %q", node, len(got[node]), len(want), got[node], want)
				}
			}
			if sst := sp.Stats(); st.Records != 2*sst.Records || st.Events != 2*sst.Events || st.Malformed != 0 || st.Gaps != 0 {
				t.Errorf("stats %+v, want twice %+v", st, sst)
			}
		})
	}
}

// TestNodesBounded: a log naming a new node on every line keeps at most
// maxNodes parsers, and every event still comes out.
func TestNodesBounded(t *testing.T) {
	var in bytes.Buffer
	n := 0
	const hosts = 3 * maxNodes
	for i := range hosts {
		fmt.Fprintf(&in, "node=h%d %s\n", i, strings.ReplaceAll(specExample, "\n", fmt.Sprintf("\nnode=h%d ", i)))
	}
	p := NewParser(Options{Emit: func(sources.Event) { n++ }})
	for _, l := range strings.Split(strings.TrimSuffix(in.String(), "\n"), "\n") {
		p.Line([]byte(l))
		if len(p.nodes) > maxNodes {
			t.Fatalf("%d node parsers kept", len(p.nodes))
		}
	}
	p.Flush()
	if n != hosts || p.Stats().Events != hosts {
		t.Fatalf("%d events emitted, stats %+v; want %d", n, p.Stats(), hosts)
	}
}
