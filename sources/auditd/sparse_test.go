package auditd

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/sharedtest"
	"github.com/xferhunt/xferhunt/sources"
)

// sparseKnown is every field sparseDoc builds.
var sparseKnown = []string{
	"@timestamp", "event.ingested", "event.kind", "event.category", "event.type", "event.action",
	"event.module", "event.dataset", "event.id", "event.sequence", "event.outcome",
	"host.os.type", "host.id", "host.name",
	"process.pid", "process.name", "process.executable", "process.args", "process.args_count",
	"process.command_line", "process.working_directory",
	"file.path", "file.name", "file.directory", "file.extension", "file.mode",
	"file.type", "file.uid", "file.gid", "file.owner", "file.group",
}

// scanDocs scans data with opt on w workers and returns the documents.
func scanDocs(t *testing.T, data []byte, w int, opt Options) []ecs.Doc {
	t.Helper()
	var docs []ecs.Doc
	opt.Workers = w
	opt.Emit = func(ev sources.Event) { docs = append(docs, ev.Doc) }
	if _, err := Scan(bytes.NewReader(data), opt); err != nil {
		t.Fatal(err)
	}
	return docs
}

// TestSparseDocMatchesDoc: with Options.Sparse, an event Whole refuses
// gets a document holding exactly the asked fields, each with the value
// the whole document has (every field sparseDoc knows, over the capture,
// RAW and ENRICHED, the coverage and story logs (every action, relative
// names, renames, deletions), SPEC's example and the public samples when
// present, on one worker and on three); an event Whole accepts, or any
// event when a field is unknown (or made for whole documents only:
// process.title, file.inode), gets the whole document.
func TestSparseDocMatchesDoc(t *testing.T) {
	var logs [][]byte
	for _, name := range []string{"capture/raw.log", "capture/enriched.log", "coverage/raw.log", "story/raw.log", "../sources/auditd/testdata/ftp-overlap.log"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, data)
	}
	// SPEC's example, and with names whose directories hold the only dot,
	// relative to the CWD, without a mode, and not valid UTF-8.
	logs = append(logs, []byte(specExample),
		[]byte(strings.NewReplacer(`name="/tmp/dropped-sftpmode.bin"`, `name="v1.2/dropped"`, ` mode=0100644`, ``).Replace(specExample)),
		[]byte(strings.NewReplacer(`name="/tmp/dropped-sftpmode.bin"`, `name=2F746D702F61FF2E62696E`).Replace(specExample)))
	if _, err := os.Stat(sharedtest.Path("samples", "auditd-raw")); err == nil {
		logs = append(logs, samplesLog(t))
	}
	for i, data := range logs {
		for _, w := range []int{1, 3} {
			whole := scanDocs(t, data, w, Options{HostID: "h", HostName: "n"})
			if len(whole) < 1 {
				t.Fatalf("log %d: %d events", i, len(whole))
			}
			if w == 1 {
				t.Logf("log %d: %d events", i, len(whole))
			}
			refuse := &sources.Sparse{Fields: sparseKnown, Whole: func(ecs.Doc) bool { return false }}
			sparse := scanDocs(t, data, w, Options{HostID: "h", HostName: "n", Sparse: refuse})
			if len(sparse) != len(whole) {
				t.Fatalf("log %d, %d workers: %d sparse events, %d whole", i, w, len(sparse), len(whole))
			}
			for j := range whole {
				if err := sparseLikeWhole(sparse[j], whole[j]); err != "" {
					t.Fatalf("log %d, event %d: %s", i, j, err)
				}
			}
			if w == 1 {
				// The recorded-input registry's entry passes Sparse on.
				n := 0
				_, err := ScanRecorded(bytes.NewReader(data), sources.ScanOptions{HostID: "h", Workers: 2, Sparse: refuse, Emit: func(ev sources.Event) {
					if ev.Doc.Get("event.original") != nil {
						t.Fatalf("log %d: ScanRecorded built a whole document", i)
					}
					n++
				}})
				if err != nil || n != len(whole) {
					t.Fatalf("log %d: ScanRecorded: %d events, %v", i, n, err)
				}
			}
			// Whole asked for a document, or a field sparseDoc does not
			// build: the whole document.
			accept := &sources.Sparse{Fields: []string{"process.name"}, Whole: func(d ecs.Doc) bool { return d.Str("process.name") != "sshd" }}
			unknown := &sources.Sparse{Fields: []string{"process.name", "user.name"}, Whole: func(ecs.Doc) bool { return false }}
			late := &sources.Sparse{Fields: []string{"process.title", "file.inode"}, Whole: func(ecs.Doc) bool { return false }}
			for _, sp := range []*sources.Sparse{accept, unknown, late} {
				got := scanDocs(t, data, w, Options{HostID: "h", HostName: "n", Sparse: sp})
				for j := range whole {
					if (sp != accept || whole[j].Str("process.name") != "sshd") && !reflect.DeepEqual(map[string]any(got[j]), map[string]any(whole[j])) {
						t.Fatalf("log %d, event %d: not the whole document: %v", i, j, got[j])
					}
				}
			}
		}
	}
}

// sparseLikeWhole says how a sparse document of every field sparseDoc
// knows differs from the whole one, "" when it does not.
func sparseLikeWhole(sparse, whole ecs.Doc) string {
	for _, f := range sparseKnown {
		if got, want := sparse.Get(f), whole.Get(f); !reflect.DeepEqual(got, want) {
			return fmt.Sprintf("%s: sparse %#v, whole %#v", f, got, want)
		}
	}
	if sparse.Get("event.original") != nil || sparse.Get("user") != nil {
		return fmt.Sprintf("the sparse document holds more than asked: %v", sparse)
	}
	return ""
}

// TestKeyOneAllocation: an event's key (every emitted event has one)
// costs its string only, and reads as before.
func TestKeyOneAllocation(t *testing.T) {
	p := NewParser(Options{HostID: "web-01.example.internal"})
	ev := &event{sec: 1795661111, msec: 44, serial: 3375}
	if a := testing.AllocsPerRun(100, func() { _ = p.key(ev) }); a != 1 {
		t.Errorf("%.1f allocations a key", a)
	}
	if k := p.key(ev); k != "web-01.example.internal:1795661111.044:3375" {
		t.Errorf("key %q", k)
	}
}
