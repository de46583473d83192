package exceptions

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
)

// kibanaExport is shaped like Kibana's /api/exception_lists/_export output:
// the list object, its items, and the export details line.
const kibanaExport = `{"_version":"WzEsMV0=","created_at":"2026-01-05T10:00:00.000Z","created_by":"elastic","description":"Known transfers","id":"5f1c","immutable":false,"list_id":"xfer-known","meta":{},"name":"Known transfers","namespace_type":"single","os_types":[],"tags":[],"tie_breaker_id":"6a76b69d","type":"detection","updated_at":"2026-01-05T10:00:00.000Z","updated_by":"elastic","version":1}
{"_version":"WzIsMV0=","comments":[],"created_at":"2026-01-05T10:01:00.000Z","created_by":"elastic","description":"backup job","entries":[{"field":"process.executable","operator":"included","type":"match","value":"/usr/lib/openssh/sftp-server"},{"field":"user.name","operator":"included","type":"match_any","value":["backup","svc-backup"]}],"id":"a1","item_id":"backup-sftp","list_id":"xfer-known","meta":{},"name":"Backup over sftp","namespace_type":"single","os_types":[],"tags":[],"tie_breaker_id":"t1","type":"simple","updated_at":"2026-01-05T10:01:00.000Z","updated_by":"elastic"}
{"comments":[],"description":"","entries":[{"field":"file.path","operator":"included","type":"wildcard","value":"/srv/drop/*.tmp"}],"expire_time":"2026-02-01T00:00:00.000Z","item_id":"drop-tmp","list_id":"xfer-known","name":"Drop dir temp files","namespace_type":"single","os_types":["linux"],"tags":[],"type":"simple"}
{"comments":[],"description":"","entries":[{"entries":[{"field":"name","operator":"included","type":"match","value":"sshd"},{"field":"pid","operator":"included","type":"match","value":"812"}],"field":"process.Ext.ancestry_info","type":"nested"}],"item_id":"nested-sshd","list_id":"xfer-known","name":"sshd 812","namespace_type":"single","os_types":[],"tags":[],"type":"simple"}
{"comments":[],"description":"","entries":[{"field":"source.ip","list":{"id":"trusted-ips","type":"ip"},"operator":"included","type":"list"}],"item_id":"trusted-ips","list_id":"xfer-known","name":"Trusted IPs","namespace_type":"single","os_types":[],"tags":[],"type":"simple"}
{"exported_exception_list_count":1,"exported_exception_list_item_count":4,"missing_exception_list_item_count":0,"missing_exception_list_items":[],"missing_exception_lists":[],"missing_exception_lists_count":0}
`

func mustLoad(t testing.TB, s string) *List {
	t.Helper()
	l, err := Load(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func doc(t testing.TB, js string) ecs.Doc {
	t.Helper()
	var d ecs.Doc
	if err := json.Unmarshal([]byte(js), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestLoadKibanaExport(t *testing.T) {
	l := mustLoad(t, kibanaExport)
	if len(l.Lists) != 1 || l.Lists[0].ListID != "xfer-known" || l.Lists[0].Type != "detection" || l.Lists[0].Name != "Known transfers" {
		t.Fatalf("Lists = %+v", l.Lists)
	}
	if len(l.Items) != 4 {
		t.Fatalf("got %d items, want 4", len(l.Items))
	}
	b := l.Items[0]
	wantEntries := []Entry{
		{Field: "process.executable", Operator: OperatorIncluded, Type: TypeMatch, Value: "/usr/lib/openssh/sftp-server"},
		{Field: "user.name", Operator: OperatorIncluded, Type: TypeMatchAny, Value: []string{"backup", "svc-backup"}},
	}
	if b.ID != "backup-sftp" || b.ListID != "xfer-known" || b.Name != "Backup over sftp" || b.Description != "backup job" || !reflect.DeepEqual(b.Entries, wantEntries) {
		t.Errorf("item 0 = %+v", b)
	}
	w := l.Items[1]
	if !w.Expire.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) || !reflect.DeepEqual(w.OSTypes, []string{"linux"}) {
		t.Errorf("item 1 expire %v os %v", w.Expire, w.OSTypes)
	}
	n := l.Items[2]
	if len(n.Entries) != 1 || n.Entries[0].Type != TypeNested || len(n.Entries[0].Entries) != 2 || n.Entries[0].Entries[1].Field != "pid" {
		t.Errorf("nested item = %+v", n)
	}
	li := l.Items[3]
	if li.Unsupported == "" || li.Entries[0].List == nil || li.Entries[0].List.ID != "trusted-ips" {
		t.Errorf("list item = %+v", li)
	}
	if len(l.Warnings) != 1 || !strings.Contains(l.Warnings[0], `line 5: item "trusted-ips" skipped: value list "trusted-ips" (ip)`) {
		t.Errorf("Warnings = %q", l.Warnings)
	}
}

func TestEntryHolds(t *testing.T) {
	long := strings.Repeat("a", ecs.IgnoreAbove+1)
	docs := map[string]string{
		"scalar":  `{"user":{"name":"root"},"process":{"pid":22}}`,
		"array":   `{"user":{"name":["alice","root"]}}`,
		"other":   `{"user":{"name":"bob"}}`,
		"missing": `{"host":{"name":"h"}}`,
		"null":    `{"user":{"name":null}}`,
		"empty":   `{"user":{"name":[]}}`,
		"blank":   `{"user":{"name":""}}`,
		"dotted":  `{"user.name":"root"}`,
		"case":    `{"user":{"name":"Root"}}`,
		"long":    `{"user":{"name":"` + long + `"}}`,
		"path":    `{"file":{"path":"/srv/drop/a/b.tmp"}}`,
		"nested":  `{"p":{"anc":[{"name":"sshd","pid":812},{"name":"bash","pid":900}]}}`,
		"nested1": `{"p":{"anc":{"name":"sshd","pid":812}}}`,
	}
	is := func(v string) Entry {
		return Entry{Field: "user.name", Operator: OperatorIncluded, Type: TypeMatch, Value: v}
	}
	not := func(e Entry) Entry { e.Operator = OperatorExcluded; return e }
	anyOf := Entry{Field: "user.name", Operator: OperatorIncluded, Type: TypeMatchAny, Value: []string{"root", "admin"}}
	exists := Entry{Field: "user.name", Operator: OperatorIncluded, Type: TypeExists}
	wc := func(p string) Entry {
		return Entry{Field: "file.path", Operator: OperatorIncluded, Type: TypeWildcard, Value: p}
	}
	child := func(f, v string) Entry { return Entry{Field: f, Operator: OperatorIncluded, Type: TypeMatch, Value: v} }
	nested := func(cs ...Entry) Entry { return Entry{Field: "p.anc", Type: TypeNested, Entries: cs} }

	cases := []struct {
		name  string
		entry Entry
		doc   string
		want  bool
	}{
		{"is equal", is("root"), "scalar", true},
		{"is other", is("root"), "other", false},
		{"is missing", is("root"), "missing", false},
		{"is null", is("root"), "null", false},
		{"is any array element", is("root"), "array", true},
		{"is dotted key", is("root"), "dotted", true},
		{"is case-sensitive", is("root"), "case", false},
		{"is over ignore_above", is(long), "long", false},
		{"is number as keyword", Entry{Field: "process.pid", Operator: OperatorIncluded, Type: TypeMatch, Value: "22"}, "scalar", true},
		{"is empty string", is(""), "blank", true},
		{"is not equal", not(is("root")), "scalar", false},
		{"is not other", not(is("root")), "other", true},
		{"is not missing", not(is("root")), "missing", true},
		{"is not null", not(is("root")), "null", true},
		{"is not empty array", not(is("root")), "empty", true},
		{"is not array containing", not(is("root")), "array", false},
		{"is not array without", not(is("carol")), "array", true},
		{"is not case", not(is("root")), "case", true},
		{"one of hit", anyOf, "scalar", true},
		{"one of array hit", anyOf, "array", true},
		{"one of miss", anyOf, "other", false},
		{"one of missing", anyOf, "missing", false},
		{"not one of hit", not(anyOf), "scalar", false},
		{"not one of array hit", not(anyOf), "array", false},
		{"not one of miss", not(anyOf), "other", true},
		{"not one of missing", not(anyOf), "missing", true},
		{"exists", exists, "scalar", true},
		{"exists blank", exists, "blank", true},
		{"exists missing", exists, "missing", false},
		{"exists null", exists, "null", false},
		{"exists empty array", exists, "empty", false},
		{"exists over ignore_above", exists, "long", false},
		{"not exists missing", not(exists), "missing", true},
		{"not exists present", not(exists), "scalar", false},
		{"wildcard star", wc("/srv/drop/*.tmp"), "path", true},
		{"wildcard anchored", wc("/srv/drop/*.tm"), "path", false},
		{"wildcard question", wc("/srv/drop/?/b.tmp"), "path", true},
		{"wildcard question one char", wc("/srv/drop/?.tmp"), "path", false},
		{"wildcard case", wc("/SRV/*"), "path", false},
		{"wildcard missing", wc("*"), "missing", false},
		{"not wildcard hit", not(wc("/srv/*")), "path", false},
		{"not wildcard miss", not(wc("/tmp/*")), "path", true},
		{"not wildcard missing", not(wc("/tmp/*")), "missing", true},
		{"nested one element", nested(child("name", "sshd"), child("pid", "812")), "nested", true},
		{"nested across elements", nested(child("name", "sshd"), child("pid", "900")), "nested", false},
		{"nested second element", nested(child("name", "bash"), child("pid", "900")), "nested", true},
		{"nested single object", nested(child("name", "sshd")), "nested1", true},
		{"nested excluded child", nested(child("name", "sshd"), not(child("pid", "900"))), "nested", true},
		{"nested excluded child all", nested(not(child("name", "sshd")), not(child("name", "bash"))), "nested", false},
		{"nested missing parent", nested(not(child("name", "x"))), "missing", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := doc(t, docs[c.doc])
			if got := c.entry.Holds(d); got != c.want {
				t.Errorf("Holds(%s) = %v, want %v", docs[c.doc], got, c.want)
			}
		})
	}
}

func TestWildcardMatch(t *testing.T) {
	cases := []struct {
		pat, s string
		want   bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything/at all\n", true},
		{"?", "", false},
		{"?", "é", true},   // one code point, two bytes
		{"??", "é", false}, // not two characters
		{"a*b*c", "a-b-c", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "acb", false},
		{"*.py", "/home/u/.ansible/x/AnsiballZ_setup.py", true},
		{"/home/*/.ansible/*AnsiballZ_*.py", "/home/u/.ansible/tmp/AnsiballZ_setup.py", true},
		{"/home/*/.ansible/*AnsiballZ_*.py", "/home/u/.ansible/tmp/AnsiballZ_setup.pyc", false},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{`a\?`, "a?", true},
		{`a\?`, "ab", false},
		{`a\\b`, `a\b`, true},
		{`a\`, `a\`, true}, // trailing backslash is literal
		{`\a`, "a", true},
		{"*a", "aaaa", true},
		{"*aab", "aaaaab", true},
		{"a*", "A", false},
		{"**", "x", true},
		{"*?*", "", false},
		{"日本*", "日本語", true},
	}
	for _, c := range cases {
		if got := WildcardMatch(c.pat, c.s); got != c.want {
			t.Errorf("WildcardMatch(%q, %q) = %v, want %v", c.pat, c.s, got, c.want)
		}
	}
}

func TestMatchAndOr(t *testing.T) {
	l := mustLoad(t, kibanaExport)
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name, doc string
		want      string // item id, "" for no match
	}{
		{"both entries", `{"process":{"executable":"/usr/lib/openssh/sftp-server"},"user":{"name":"backup"}}`, "backup-sftp"},
		{"one entry only", `{"process":{"executable":"/usr/lib/openssh/sftp-server"},"user":{"name":"alice"}}`, ""},
		{"second item", `{"file":{"path":"/srv/drop/x.tmp"},"host":{"os":{"type":"linux"}}}`, "drop-tmp"},
		{"nested item", `{"process":{"Ext":{"ancestry_info":[{"name":"bash","pid":"1"},{"name":"sshd","pid":"812"}]}}}`, "nested-sshd"},
		{"list item never", `{"source":{"ip":"10.0.0.1"}}`, ""},
		{"nothing", `{}`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			it, ok := l.Match(doc(t, c.doc), now)
			if c.want == "" {
				if ok {
					t.Errorf("matched %q, want no match", it.ID)
				}
				return
			}
			if !ok || it.ID != c.want {
				t.Errorf("Match = %v %v, want %q", it, ok, c.want)
			}
			if ok && it != &l.Items[indexOf(l, c.want)] {
				t.Error("Match returned a copy, not the list's item")
			}
		})
	}
	var nilList *List
	if _, ok := nilList.Match(ecs.Doc{}, now); ok {
		t.Error("nil list matched")
	}
}

func indexOf(l *List, id string) int {
	for i := range l.Items {
		if l.Items[i].ID == id {
			return i
		}
	}
	return -1
}

func TestExpiry(t *testing.T) {
	l := mustLoad(t, kibanaExport)
	d := doc(t, `{"file":{"path":"/srv/drop/x.tmp"},"host":{"os":{"type":"linux"}}}`)
	expire := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		now  time.Time
		want bool
	}{
		{expire.Add(-time.Hour), true},
		{expire, true}, // Kibana drops items whose expiry is strictly before the run
		{expire.Add(time.Millisecond), false},
		{expire.AddDate(1, 0, 0), false},
	} {
		if _, ok := l.Match(d, c.now); ok != c.want {
			t.Errorf("at %v: matched %v, want %v", c.now, ok, c.want)
		}
	}
	if got := l.Expired(expire.Add(time.Second)); len(got) != 1 || got[0].ID != "drop-tmp" {
		t.Errorf("Expired = %v", got)
	}
}

func TestOSTypes(t *testing.T) {
	it := Item{ID: "x", OSTypes: []string{"linux"}, Entries: []Entry{{Field: "file.path", Operator: OperatorIncluded, Type: TypeExists}}}
	cases := map[string]bool{
		`{"file":{"path":"/a"},"host":{"os":{"type":"linux"}}}`:              true,
		`{"file":{"path":"/a"},"host":{"os":{"name":"Linux"}}}`:              true, // Defend: host.os.name.caseless
		`{"file":{"path":"/a"},"host":{"os":{"name":{"caseless":"linux"}}}}`: true,
		`{"file":{"path":"/a"},"host":{"os":{"type":"windows"}}}`:            false,
		`{"file":{"path":"/a"}}`:                                             false,
		`{"host":{"os":{"type":"linux"}}}`:                                   false,
	}
	for js, want := range cases {
		if got := it.Excepts(doc(t, js)); got != want {
			t.Errorf("Excepts(%s) = %v, want %v", js, got, want)
		}
	}
	if (&Item{}).Excepts(ecs.Doc{}) {
		t.Error("an item without entries excepted a document")
	}
}

// stripRaw drops the kept-for-export fields so loaded items compare by meaning.
func stripRaw(l *List) {
	for i := range l.Items {
		l.Items[i].raw = nil
	}
	for i := range l.Lists {
		l.Lists[i].raw = nil
	}
}

func TestExportRoundTrip(t *testing.T) {
	l := mustLoad(t, kibanaExport)
	var out bytes.Buffer
	if err := l.Export(&out); err != nil {
		t.Fatal(err)
	}
	first := out.String()
	lines := strings.Split(strings.TrimSpace(first), "\n")
	if len(lines) != 6 {
		t.Fatalf("export has %d lines, want 6:\n%s", len(lines), first)
	}
	if !strings.Contains(lines[0], `"tie_breaker_id":"6a76b69d"`) || !strings.Contains(lines[1], `"created_by":"elastic"`) {
		t.Errorf("unknown fields were not kept:\n%s\n%s", lines[0], lines[1])
	}
	if !strings.Contains(lines[2], `"expire_time":"2026-02-01T00:00:00.000Z"`) {
		t.Errorf("expire_time not in Kibana's format: %s", lines[2])
	}
	var summary map[string]any
	if err := json.Unmarshal([]byte(lines[5]), &summary); err != nil || summary["exported_exception_list_count"] != 1.0 || summary["exported_exception_list_item_count"] != 4.0 {
		t.Errorf("summary = %s (%v)", lines[5], err)
	}
	back := mustLoad(t, first)
	var again bytes.Buffer
	if err := back.Export(&again); err != nil {
		t.Fatal(err)
	}
	if again.String() != first {
		t.Errorf("second export differs:\n%s\nvs\n%s", again.String(), first)
	}
	stripRaw(l)
	stripRaw(back)
	if !reflect.DeepEqual(l.Items, back.Items) || !reflect.DeepEqual(l.Lists, back.Lists) {
		t.Errorf("round trip changed the list:\n%+v\n%+v", l.Items, back.Items)
	}
}

func TestAddFromField(t *testing.T) {
	it := NewItemFromField("process.executable", "/usr/bin/scp")
	if it.ID == "" || len(it.ID) != 36 || it.ListID != DefaultListID || it.Entries[0].Type != TypeMatch || it.Entries[0].Operator != OperatorIncluded {
		t.Fatalf("NewItemFromField = %+v", it)
	}
	if other := NewItemFromField("a", "b"); other.ID == it.ID {
		t.Error("two items got the same id")
	}
	d := doc(t, `{"process":{"executable":"/usr/bin/scp"}}`)

	// Into an empty list: the export gains a list object for the item.
	l := &List{}
	l.Add(it)
	var out bytes.Buffer
	if err := l.Export(&out); err != nil {
		t.Fatal(err)
	}
	back := mustLoad(t, out.String())
	if len(back.Lists) != 1 || back.Lists[0].ListID != DefaultListID || back.Lists[0].Type != "detection" || len(back.Warnings) != 0 {
		t.Errorf("exported list = %+v warnings %q", back.Lists, back.Warnings)
	}
	if got, ok := back.Match(d, time.Now()); !ok || got.ID != it.ID {
		t.Errorf("exported item does not except the doc: %v %v", got, ok)
	}

	// Into a loaded list: the item joins it.
	loaded := mustLoad(t, kibanaExport)
	clone := loaded.Clone()
	clone.Add(NewItemFromField("process.executable", "/usr/bin/scp"))
	if len(loaded.Items) != 4 {
		t.Error("Add on a clone changed the original")
	}
	last := clone.Items[len(clone.Items)-1]
	if last.ListID != "xfer-known" || len(clone.Lists) != 1 {
		t.Errorf("added item list %q, lists %d", last.ListID, len(clone.Lists))
	}
	if _, ok := clone.Match(d, time.Now()); !ok {
		t.Error("added item does not match")
	}
}

func TestLoadErrors(t *testing.T) {
	list := `{"list_id":"l","name":"n","type":"detection","description":""}` + "\n"
	item := func(entries string) string {
		return list + `{"item_id":"i","list_id":"l","name":"n","type":"simple","entries":` + entries + "}\n"
	}
	cases := []struct {
		name, in, want string
	}{
		{"bad json", list + "{not json}\n", "line 2: invalid JSON"},
		{"array line", "[1,2]\n", "line 1: invalid JSON"},
		{"two values", `{"list_id":"l"} {"list_id":"m"}` + "\n", "line 1: more than one JSON value"},
		{"unknown object", "\n\n" + `{"hello":"world"}` + "\n", "line 3: neither an exception list"},
		{"no item id", list + `{"list_id":"l","entries":[{"field":"a","operator":"included","type":"exists"}]}` + "\n", "line 2: exception item: missing item_id"},
		{"no list id", list + `{"item_id":"i","entries":[{"field":"a","operator":"included","type":"exists"}]}` + "\n", `line 2: item "i": missing list_id`},
		{"empty entries", item(`[]`), `line 2: item "i": entries: want a non-empty array`},
		{"bad type", item(`[{"field":"a","operator":"included","type":"regex","value":"x"}]`), `line 2: item "i": entry 1: type "regex"`},
		{"bad operator", item(`[{"field":"a","operator":"is","type":"match","value":"x"}]`), `entry 1: match on a: operator "is": want included or excluded`},
		{"no field", item(`[{"operator":"included","type":"match","value":"x"}]`), "entry 1: match: missing field"},
		{"match array value", item(`[{"field":"a","operator":"included","type":"match","value":["x"]}]`), "value: want a string, got an array"},
		{"match empty value", item(`[{"field":"a","operator":"included","type":"match","value":""}]`), "value: empty"},
		{"match_any string", item(`[{"field":"a","operator":"included","type":"match_any","value":"x"}]`), "value: want an array of strings"},
		{"match_any empty", item(`[{"field":"a","operator":"included","type":"match_any","value":[]}]`), "value: empty array"},
		{"match_any number", item(`[{"field":"a","operator":"included","type":"match_any","value":["x",3]}]`), "want non-empty strings, got a number"},
		{"nested in nested", item(`[{"field":"p","type":"nested","entries":[{"field":"q","type":"nested","entries":[]}]}]`), "a nested entry may only hold"},
		{"nested empty", item(`[{"field":"p","type":"nested","entries":[]}]`), "nested on p: entries: want a non-empty array"},
		{"list without ref", item(`[{"field":"a","operator":"included","type":"list"}]`), "list: want an object"},
		{"bad expire", list + `{"item_id":"i","list_id":"l","expire_time":"tomorrow","entries":[{"field":"a","operator":"included","type":"exists"}]}` + "\n", `line 2: item "i": expire_time "tomorrow"`},
		{"bad os_types", list + `{"item_id":"i","list_id":"l","os_types":"linux","entries":[{"field":"a","operator":"included","type":"exists"}]}` + "\n", "os_types: want an array of strings"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(c.in))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q lacks %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestLoadTolerates(t *testing.T) {
	in := "\r\n" + `{"rule_id":"r","query":"x:y"}` + "\r\n" +
		`{"item_id":"i","list_id":"elsewhere","entries":[{"field":"a","operator":"included","type":"exists"}]}` +
		"\n" + `{"list_id":"l","name":"n","type":"detection","description":""}` // no final newline
	l := mustLoad(t, in)
	if len(l.Items) != 1 || len(l.Lists) != 1 {
		t.Fatalf("items %d lists %d", len(l.Items), len(l.Lists))
	}
	if len(l.Warnings) != 2 || !strings.Contains(l.Warnings[0], "line 2: a detection rule") || !strings.Contains(l.Warnings[1], `list "elsewhere"`) {
		t.Errorf("Warnings = %q", l.Warnings)
	}
}

func TestSaveAndLoadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "exceptions.ndjson")
	l := mustLoad(t, kibanaExport)
	if err := l.SaveFile(p); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("saved file mode %v (%v), want 0600", st.Mode(), err)
	}
	back, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Items) != 4 {
		t.Errorf("reloaded %d items", len(back.Items))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if _, err := LoadFile(filepath.Join(dir, "missing.ndjson")); err == nil || !strings.Contains(err.Error(), "missing.ndjson") {
		t.Errorf("missing file error = %v", err)
	}
	bad := filepath.Join(dir, "bad.ndjson")
	if err := os.WriteFile(bad, []byte("{\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(bad); err == nil || !strings.HasPrefix(err.Error(), "exceptions "+bad+": line 1:") {
		t.Errorf("bad file error = %v", err)
	}
}

// benchList is a handful of items in the shapes responders write, none of
// which excepts benchDoc, so Match evaluates every one.
func benchList(b *testing.B) *List {
	l := mustLoad(b, kibanaExport)
	for _, it := range []Item{
		NewItemFromField("process.executable", "/usr/bin/rsync"),
		NewItemFromField("user.name", "deploy"),
		{ID: "w", Entries: []Entry{{Field: "file.path", Operator: OperatorIncluded, Type: TypeWildcard, Value: "/home/*/.ansible/tmp/ansible-tmp-*/AnsiballZ_*.py"}}},
		{ID: "n", Entries: []Entry{
			{Field: "process.name", Operator: OperatorIncluded, Type: TypeMatchAny, Value: []string{"ftp", "vsftpd"}},
			{Field: "source.ip", Operator: OperatorExcluded, Type: TypeExists},
		}},
	} {
		l.Add(it)
	}
	return l
}

const benchDoc = `{"@timestamp":"2026-01-10T10:00:00Z","event":{"category":["file"],"action":"creation"},
"host":{"id":"h1","os":{"type":"linux","name":"Ubuntu"}},"user":{"name":"alice","id":"1000"},
"process":{"name":"sftp-server","executable":"/usr/lib/openssh/sftp-server","pid":4242,
"Ext":{"ancestry_info":[{"name":"sshd","pid":"811"},{"name":"bash","pid":"900"}]}},
"file":{"path":"/home/alice/.ansible/tmp/ansible-tmp-1/payload.bin","name":"payload.bin"},
"source":{"ip":"10.1.2.3","port":50022}}`

func BenchmarkMatchNone(b *testing.B) {
	l := benchList(b)
	d := doc(b, benchDoc)
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := l.Match(d, now); ok {
			b.Fatal("unexpected match")
		}
	}
}

func BenchmarkMatchLast(b *testing.B) {
	l := benchList(b)
	l.Add(NewItemFromField("file.name", "payload.bin"))
	d := doc(b, benchDoc)
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := l.Match(d, now); !ok {
			b.Fatal("no match")
		}
	}
}

// TestSaveFileReplacesPlantedLinkWithoutWritingThrough: saving over a name
// that is a symlink to another file replaces the link; the other file is
// untouched. A symlinked directory is refused.
func TestSaveFileReplacesPlantedLinkWithoutWritingThrough(t *testing.T) {
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("root file\n"), 0o600)
	dir := t.TempDir()
	p := filepath.Join(dir, "exceptions.ndjson")
	if err := os.Symlink(victim, p); err != nil {
		t.Fatal(err)
	}
	l := mustLoad(t, kibanaExport)
	if err := l.SaveFile(p); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "root file\n" {
		t.Fatalf("written through the link: %q", got)
	}
	if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("%s is %v (%v), want a regular file", p, fi.Mode(), err)
	}
	link := filepath.Join(t.TempDir(), "d")
	os.Symlink(filepath.Dir(victim), link)
	if err := l.SaveFile(filepath.Join(link, "x.ndjson")); err == nil {
		t.Fatal("saved through a symlinked directory")
	}
}

// TestLoadFileCapped: --exceptions /dev/zero read without a limit (issue 9
// item 9); it fails at once with one line naming the file.
func TestLoadFileCapped(t *testing.T) {
	start := time.Now()
	_, err := LoadFile("/dev/zero")
	if err == nil || err.Error() != "exceptions /dev/zero: is a device, not a file" {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("refusing took %v", d)
	}
}
