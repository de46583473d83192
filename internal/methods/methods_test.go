package methods

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/detect/rules"
)

const (
	readme     = "../../README.md"
	tableStart = "<!-- methods table: internal/methods.Markdown(); XFERHUNT_UPDATE_README=1 go test ./internal/methods rewrites it -->\n"
	tableEnd   = "<!-- end of methods table -->\n"
)

// The README's "What it sees and what it misses" table is the table the
// end-to-end and capture tests assert, row for row.
func TestReadmeTable(t *testing.T) {
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i, j := strings.Index(text, tableStart), strings.Index(text, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README has no methods table between %q and %q", tableStart, tableEnd)
	}
	got, want := text[i+len(tableStart):j], Markdown()
	if os.Getenv("XFERHUNT_UPDATE_README") == "1" {
		if err := os.WriteFile(readme, []byte(text[:i+len(tableStart)]+want+text[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != want {
		t.Errorf("README's methods table differs from internal/methods.Table; XFERHUNT_UPDATE_README=1 go test ./internal/methods\n got:\n%s\nwant:\n%s", got, want)
	}
}

// Every method is told apart by its id and client address, and names
// built-in rules only.
func TestTableWellFormed(t *testing.T) {
	ids, addrs := map[string]bool{}, map[string]bool{}
	for _, m := range Table {
		if ids[m.ID] || (m.Addr != "" && addrs[m.Addr]) {
			t.Errorf("%s: id or address %s used twice", m.ID, m.Addr)
		}
		ids[m.ID], addrs[m.Addr] = true, true
		for _, w := range append(slices.Clone(m.Seed), m.Coverage...) {
			if !slices.Contains(rules.Builtin(), w.Rule) {
				t.Errorf("%s: %s is not a built-in rule", m.ID, w.Rule)
			}
		}
		for _, w := range m.Seed {
			if w.Rule != "seed" {
				t.Errorf("%s: --rule seed alone raises %s", m.ID, w.Rule)
			}
		}
	}
}
