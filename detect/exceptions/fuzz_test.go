package exceptions

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
)

// FuzzLoad feeds arbitrary NDJSON to the exception reader: it never
// panics; what it accepts exports and loads back to the same items, and
// matching a real-shaped document against it never panics either.
// Seeds: testdata/fuzz/FuzzLoad (a Kibana export, nesting, value lists,
// hostile field names).
//
//	go test -run '^$' -fuzz '^FuzzLoad$' -fuzztime 10s ./detect/exceptions
func FuzzLoad(f *testing.F) {
	f.Add([]byte(kibanaExport))
	f.Fuzz(func(t *testing.T, in []byte) {
		l, err := Load(bytes.NewReader(in))
		if err != nil {
			if strings.ContainsRune(err.Error(), '\n') {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		doc := ecs.Doc{
			"process": map[string]any{"executable": "/usr/lib/openssh/sftp-server", "Ext": map[string]any{"ancestry_info": []any{map[string]any{"name": "sshd", "pid": "812"}}}},
			"user":    map[string]any{"name": "backup"},
			"file":    map[string]any{"path": "/srv/drop/a.tmp"},
		}
		l.Match(doc, time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC))
		var out bytes.Buffer
		if err := l.Export(&out); err != nil {
			t.Fatalf("export of a loaded list: %v", err)
		}
		back, err := Load(&out)
		if err != nil {
			t.Fatalf("its own export does not load: %v\n%s", err, out.Bytes())
		}
		if len(back.Items) != len(l.Items) {
			t.Fatalf("round trip: %d items, want %d", len(back.Items), len(l.Items))
		}
	})
}
