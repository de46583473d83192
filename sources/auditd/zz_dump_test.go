package auditd

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/xferhunt/xferhunt/sources"
)

// Temporary: dumps every document of a Scan for before/after comparison.
func TestZZDump(t *testing.T) {
	in, out := os.Getenv("DUMP_IN"), os.Getenv("DUMP_OUT")
	if in == "" {
		t.Skip("no DUMP_IN")
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	w := bufio.NewWriter(o)
	defer w.Flush()
	enc := json.NewEncoder(w)
	st, err := Scan(f, Options{HostID: "h", HostName: "n", Emit: func(ev sources.Event) {
		enc.Encode(map[string]any{"key": ev.Key, "doc": ev.Doc})
	}})
	if err != nil {
		t.Fatal(err)
	}
	json.NewEncoder(w).Encode(st)
}
