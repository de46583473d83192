package kql

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/sharedtest"
)

// outcome of a conformance row.
type outcome int

const (
	T   outcome = iota // matches
	F                  // does not match
	ERR                // Parse/ParseWith returns a *SyntaxError
)

func (o outcome) String() string { return [...]string{"T", "F", "ERR"}[o] }

// conformanceCase is one row: KQL, a JSON document, optional field types.
type conformanceCase struct {
	id    string
	query string // "RULE" = the newest rule query
	doc   string
	types map[string]FieldType
	want  outcome
}

var (
	longF   = map[string]FieldType{"f": Long}
	defendM = map[string]FieldType{"process.name.caseless": CaselessKeyword, "file.path.caseless": CaselessKeyword}
	dateF   = map[string]FieldType{} // defaults: @timestamp, event.ingested
	ipF     = map[string]FieldType{"source.ip": IP}
	doubleF = map[string]FieldType{"f": Double}
	boolF   = map[string]FieldType{"f": Boolean}
)

const c51doc = `{"f":[{"a":"b","c":"x"},{"a":"y","c":"d"}]}`

// The semantics document's §6 cases, C01–C74, with its expected outcomes.
var specCases = []conformanceCase{
	{"C01", `process.name:scp`, `{"process":{"name":"scp"}}`, nil, T},
	{"C02", `process.name:scp`, `{"process":{"name":"SCP"}}`, nil, F},
	{"C03", `process.name:scp`, `{"process.name":"scp"}`, nil, T},
	{"C04", `process.name:scp`, `{"process":{"name":"/usr/bin/scp"}}`, nil, F},
	{"C05", `process.name:(scp or sftp or sftp-server)`, `{"process":{"name":"sftp-server"}}`, nil, T},
	{"C06", `process.name:(scp or ftp or sftp or vsftpd or sftp-server or sync)`, `{"process":{"name":"rsync"}}`, nil, F},
	{"C07", `file.path:/run/*`, `{"file":{"path":"/run/user/1000/x"}}`, nil, T},
	{"C08", `file.path:/run/*`, `{"file":{"path":"/run"}}`, nil, F},
	{"C09", `file.path:/run/*`, `{"file":{"path":"/run/"}}`, nil, T},
	{"C10", `file.path:/var/run/*`, `{"file":{"path":"/run/lock/x"}}`, nil, F},
	{"C11", `file.path:*ptmx`, `{"file":{"path":"/dev/ptmx"}}`, nil, T},
	{"C12", `file.path:/home/*/.ansible/*AnsiballZ_*.py`, `{"file":{"path":"/home/bob/.ansible/tmp/ansible-tmp-1/AnsiballZ_setup.py"}}`, nil, T},
	{"C13", `file.path:/home/*/.ansible/*AnsiballZ_*.py`, `{"file":{"path":"/home/bob/.ansible/tmp/AnsiballZ_setup.pyc"}}`, nil, F},
	{"C14", `file.path:/tmp/ansible-tmp-*/AnsiballZ_*.py`, `{"file":{"path":"/tmp/ansible-tmp-1/sub/AnsiballZ_x.py"}}`, nil, T},
	{"C15", `file.path:"/run/*"`, `{"file":{"path":"/run/x"}}`, nil, F},
	{"C16", `file.path:"/run/*"`, `{"file":{"path":"/run/*"}}`, nil, T},
	{"C17", `file.path:/run/\*`, `{"file":{"path":"/run/x"}}`, nil, F},
	{"C18", `file.name:a\*b*`, `{"file":{"name":"a*bcd"}}`, nil, T},
	{"C19", `file.name:a?b`, `{"file":{"name":"axb"}}`, nil, F},
	{"C20", `file.name:a?b`, `{"file":{"name":"a?b"}}`, nil, T},
	{"C21", `file.path:/tmp/a\:b`, `{"file":{"path":"/tmp/a:b"}}`, nil, T},
	{"C22", `file.path:"/tmp/a:b"`, `{"file":{"path":"/tmp/a:b"}}`, nil, T},
	{"C23", `f:"a\b"`, `{"f":"a\\b"}`, nil, T},
	{"C24", `f:a\\b`, `{"f":"a\\b"}`, nil, T},
	{"C25", `f:foo bar`, `{"f":"foo bar"}`, nil, T},
	{"C26", `f:foo bar`, `{"f":"foo"}`, nil, F},
	{"C27", `f:   foo   `, `{"f":"foo"}`, nil, T},
	{"C28", `f:x or y`, `{"g":"y"}`, nil, T},
	{"C29", `f:(x or y)`, `{"g":"y"}`, nil, F},
	{"C30", `not file.path:/run/*`, `{}`, nil, T},
	{"C31", `not file.path:/run/*`, `{"file":{"path":null}}`, nil, T},
	{"C32", `not file.path:/run/*`, `{"file":{"path":["/tmp/a","/run/b"]}}`, nil, F},
	{"C33", `file.path:/tmp/*`, `{"file":{"path":["/var/a","/tmp/b"]}}`, nil, T},
	{"C34", `file.extension:(deb and rpm)`, `{"file":{"extension":["deb","rpm"]}}`, nil, T},
	{"C35", `f:(x and not y)`, `{"f":["x","y"]}`, nil, F},
	{"C36", `file.extension:*`, `{"file":{"extension":""}}`, nil, T},
	{"C37", `file.extension:*`, `{"file":{"extension":[]}}`, nil, F},
	{"C38", `not file.extension:*`, `{"file":{"extension":[null]}}`, nil, T},
	{"C39", `a:b or c:d and e:f`, `{"a":"b"}`, nil, T},
	{"C40", `(a:b or c:d) and e:f`, `{"a":"b"}`, nil, F},
	{"C41", `not a:b and c:d`, `{"c":"d"}`, nil, T},
	{"C42", `NoT a:b AnD c:d`, `{"c":"d"}`, nil, T},
	{"C43", `A:b`, `{"a":"b"}`, nil, F},
	{"C44", `f:1024`, `{"f":1024}`, nil, T},
	{"C45", `f >= 10`, `{"f":"9"}`, nil, T},
	{"C46", `f >= 10`, `{"f":9}`, longF, F},
	{"C47", `process.*:scp`, `{"process":{"parent":{"name":"scp"}}}`, nil, T},
	{"C48", `f:*abc*`, `{"f":"xxABCxx"}`, nil, F},
	{"C49", `process.name.caseless:SCP`, `{"process":{"name":"scp"}}`, defendM, T},
	{"C50", `f:a*`, `{"f":"a\nb"}`, nil, T},
	{"C51", `f.a:b and f.c:d`, c51doc, nil, T},
	{"C52", `f:{ a:b and c:d }`, c51doc, nil, F},
	{"C53", `f:true`, `{"f":"true"}`, nil, T},
	{"C54", ``, `{}`, nil, T},
	{"C55", `f:foo and`, `{"f":"foo and"}`, nil, T},
	{"C56", `f:x \and y`, `{"f":"x and y"}`, nil, T},
	{"C57", `f:\u0041bc`, `{"f":"Abc"}`, nil, T},
	{"C58", `"my field":x`, `{"my field":"x"}`, nil, T},
	{"C59", `not(a:b)`, ``, nil, ERR},
	{"C60", `f:cannot stop`, ``, nil, ERR},
	{"C61", `f:a\b`, ``, nil, ERR},
	{"C62", `f:foo\ bar`, ``, nil, ERR},
	{"C63", `f:/tmp/a:b`, ``, nil, ERR},
	{"C64", `not not a:b`, ``, nil, ERR},
	{"C65", `f:not x`, ``, nil, ERR},
	{"C66", "RULE", defendDoc(nil), nil, T},
	{"C67", "RULE", defendDoc(map[string]any{"file.extension": "deb"}), nil, F},
	{"C68", "RULE", defendDoc(map[string]any{"file.path": "/run/user/0/x", "file.name": "x"}), nil, F},
	{"C69", "RULE", defendDoc(map[string]any{"process.name": "Scp"}), nil, F},
	{"C70", "RULE", defendDoc(map[string]any{"file.extension": nil, "file.path": "/home/a/.ansible/tmp/ansible-tmp-9/x", "file.name": "x"}), nil, F},
	{"C71", "RULE", auditdDoc, nil, F},
	{"C72", "RULE", fimDoc, nil, F},
	{"C73", "RULE", defendDoc(map[string]any{"file": nil}), nil, T},
	{"C74", "RULE", defendDoc(map[string]any{"event.category": "file"}), nil, T},
}

// Our own cases: grammar corners, typed fields, nested, free text,
// ignore_above, field wildcards, errors.
var ownCases = []conformanceCase{
	// grammar and literals
	{"X01", `f:x \not y`, `{"f":"x \not y"}`, nil, T}, // \n wins over \not: newline + "ot"
	{"X02", `f:x \NOT y`, `{"f":"x NOT y"}`, nil, T},
	{"X03", `f:"null"`, `{"f":"null"}`, nil, T},
	{"X04", `f:null`, ``, nil, ERR},
	{"X05", `f:(a or null)`, ``, nil, ERR},
	{"X06", `null`, ``, nil, ERR},
	{"X07", `f:false`, `{"f":false}`, nil, T},
	{"X08", `f:"true"`, `{"f":true}`, nil, T},
	{"X09", `f:cannot`, `{"f":"cannot"}`, nil, T}, // "not" at the end is no keyword
	{"X10", `f:nothing`, `{"f":"nothing"}`, nil, T},
	{"X11", `f:a or`, `{"f":"a or"}`, nil, T},
	{"X12", `f:"a\"b"`, `{"f":"a\"b"}`, nil, T},
	{"X13", `f:"\u00e9t\u00E9"`, `{"f":"été"}`, nil, T},
	{"X14", `f:\uD83D\uDE00`, `{"f":"😀"}`, nil, T},
	{"X15", `f:a\(b\)`, `{"f":"a(b)"}`, nil, T},
	{"X16", `f:[x]`, `{"f":"[x]"}`, nil, T}, // [ ] , are not special since 7.x
	{"X17", `f : x`, `{"f":"x"}`, nil, T},
	{"X18", "f:x\u00a0or\u00a0y", `{"g":"y"}`, nil, T}, // U+00A0 is whitespace to the grammar
	{"X19", `f:(x or y`, ``, nil, ERR},
	{"X20", `a:b and `, ``, nil, ERR},
	{"X21", `f:"unterminated`, ``, nil, ERR},
	{"X22", `f:{ a:b`, ``, nil, ERR},
	{"X23", `  `, `{"a":"b"}`, nil, T},
	{"X24", `f:(  x  )`, `{"f":"x"}`, nil, T},
	{"X25", `(f:x)`, `{"f":"x"}`, nil, T},
	{"X26", `not (not f:x)`, `{"f":"x"}`, nil, T},
	{"X27", `f:\\`, `{"f":"\\"}`, nil, T},
	{"X28", `f:\*`, `{"f":"*"}`, nil, T},
	{"X29", `f:\*`, `{"f":"x"}`, nil, F},
	// wildcards
	{"X30", `f:*`, `{"f":"-"}`, nil, T},
	{"X31", `f:*`, `{"f":[null,"x"]}`, nil, T},
	{"X32", `f:*`, `{}`, nil, F},
	{"X33", `f:**`, `{"f":""}`, nil, T},
	{"X34", `f:a*b*c`, `{"f":"abc"}`, nil, T},
	{"X35", `f:a*b*c`, `{"f":"acb"}`, nil, F},
	{"X36", `f:*a*a*a*a*a*b`, `{"f":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`, nil, F},
	{"X37", `f:win x*`, `{"f":"win xp"}`, nil, T}, // W3: [new] keyword wildcard keeps spaces
	{"X38", `f:a*`, `{"f":"A"}`, nil, F},
	{"X39", `f:*/tmp/*`, `{"f":"x/tmp/y"}`, nil, T},
	// documents
	{"X40", `f:x`, `{"f":[["x"]]}`, nil, T},
	{"X41", `f.g:x`, `{"f":{"g.h":"x"}}`, nil, F},
	{"X42", `f.g.h:x`, `{"f":{"g.h":"x"}}`, nil, T},
	{"X43", `f:x`, `{"f":{"x":"y"}}`, nil, F}, // objects are not values
	{"X44", `f:*`, `{"f":{"g":"y"}}`, nil, T}, // exists on an object: any subfield
	{"X45", `f:*`, `{"f":{"g":null}}`, nil, F},
	{"X46", `f:` + strings.Repeat("a", 1025), `{"f":"` + strings.Repeat("a", 1025) + `"}`, nil, F}, // ignore_above
	{"X47", `f:*`, `{"f":"` + strings.Repeat("a", 1025) + `"}`, nil, F},
	{"X48", `f:` + strings.Repeat("a", 1024), `{"f":"` + strings.Repeat("a", 1024) + `"}`, nil, T},
	{"X49", `not f:*`, `{"f":"` + strings.Repeat("a", 1025) + `"}`, nil, T},
	{"X50", `f:1.5`, `{"f":1.5}`, nil, T},
	{"X51", `f:x and f:y`, `{"f":["x","y"]}`, nil, T},
	// free text and field wildcards
	{"X52", `scp`, `{"process":{"parent":{"name":"scp"}}}`, nil, T},
	{"X53", `"scp"`, `{"a":["x","scp"]}`, nil, T},
	{"X54", `sc*`, `{"a":{"b":"scp"}}`, nil, T},
	{"X55", `scp`, `{"a":"SCP"}`, nil, F},
	{"X56", `*:scp`, `{"a":{"b.c":"scp"}}`, nil, T},
	{"X57", `process.*:scp`, `{"file":{"name":"scp"}}`, nil, F},
	{"X58", `*.name:scp`, `{"process":{"parent":{"name":"scp"}}}`, nil, T},
	{"X59", `*:*`, `{}`, nil, T},
	{"X60", `*`, `{}`, nil, T},
	{"X61", `process.*:*`, `{"process":{"pid":1}}`, nil, T},
	{"X62", `process.*:*`, `{"file":{"pid":1}}`, nil, F},
	{"X63", `null:scp`, `{"a":"scp"}`, nil, T}, // a null field name is free text
	// ranges on keywords
	{"X64", `f < b`, `{"f":"a"}`, nil, T},
	{"X65", `f > b`, `{"f":["a","c"]}`, nil, T},
	{"X66", `f <= "b"`, `{"f":"b"}`, nil, T},
	{"X67", `f < b`, `{}`, nil, F},
	{"X68", `not f < b`, `{}`, nil, T},
	// numbers
	{"X69", `f:10`, `{"f":"10"}`, longF, T},
	{"X70", `f:10`, `{"f":10.0}`, longF, T},
	{"X71", `f >= 9.5`, `{"f":10}`, doubleF, T},
	{"X72", `f < 10`, `{"f":[20,5]}`, longF, T},
	{"X73", `f:abc`, ``, longF, ERR},
	{"X74", `f:1*`, ``, longF, ERR},
	{"X75", `f:*`, `{"f":0}`, longF, T},
	// dates
	{"X76", `@timestamp:2026-03-01`, `{"@timestamp":"2026-03-01T10:00:00.123Z"}`, dateF, T},
	{"X77", `@timestamp:2026-03-02`, `{"@timestamp":"2026-03-01T23:59:59.999Z"}`, dateF, F},
	{"X78", `@timestamp > 2026-03-01`, `{"@timestamp":"2026-03-01T23:59:59.999Z"}`, dateF, F},
	{"X79", `@timestamp >= 2026-03-01`, `{"@timestamp":"2026-03-01T00:00:00Z"}`, dateF, T},
	{"X80", `@timestamp < 2026-03-01`, `{"@timestamp":"2026-03-01T00:00:00Z"}`, dateF, F},
	{"X81", `@timestamp <= 2026-03-01`, `{"@timestamp":"2026-03-01T23:00:00Z"}`, dateF, T},
	{"X82", `@timestamp >= now-1d`, `{"@timestamp":"2026-03-01T10:00:00Z"}`, dateF, T}, // now = 2026-03-02T09:00Z
	{"X83", `@timestamp >= now-1d/d`, `{"@timestamp":"2026-03-01T00:00:00Z"}`, dateF, T},
	{"X84", `@timestamp > now-1d/d`, `{"@timestamp":"2026-03-01T23:59:59.999Z"}`, dateF, F},
	{"X85", `event.ingested < now-1h`, `{"event":{"ingested":"2026-03-02T07:59:00Z"}}`, dateF, T},
	{"X86", `@timestamp >= "2026-03-01T10:00:00+02:00"`, `{"@timestamp":"2026-03-01T08:00:00Z"}`, dateF, T},
	{"X87", `@timestamp:1772359200000`, `{"@timestamp":1772359200000}`, dateF, T},
	{"X88", `@timestamp >= 2026-02-28||+1d`, `{"@timestamp":"2026-03-01T00:00:00Z"}`, dateF, T},
	{"X89", `@timestamp > yesterday`, ``, dateF, ERR},
	{"X90", `@timestamp:*`, `{"@timestamp":"2026-03-01T00:00:00Z"}`, dateF, T},
	// ip
	{"X91", `source.ip:10.0.0.0/8`, `{"source":{"ip":"10.1.2.3"}}`, ipF, T},
	{"X92", `source.ip:10.0.0.0/8`, `{"source":{"ip":"11.1.2.3"}}`, ipF, F},
	{"X93", `source.ip:"::1"`, `{"source":{"ip":"::1"}}`, ipF, T},
	{"X94", `source.ip >= 10.0.0.5`, `{"source":{"ip":"10.0.0.9"}}`, ipF, T},
	{"X95", `source.ip:nope`, ``, ipF, ERR},
	// boolean and caseless
	{"X96", `f:true`, `{"f":true}`, boolF, T},
	{"X97", `f:maybe`, ``, boolF, ERR},
	{"X98", `process.name.caseless:*SC*`, `{"process":{"name":"/usr/bin/scp"}}`, defendM, T},
	{"X99", `process.name.caseless:*`, `{"process":{"name":"x"}}`, defendM, T},
	{"X100", `process.*:SCP`, `{"process":{"name":"scp"}}`, defendM, T}, // the .caseless multi-field matches the pattern
	// nested
	{"X101", `f:{ a:b and c:x }`, c51doc, nil, T},
	{"X102", `f:{ a:b } and f:{ c:d }`, c51doc, nil, T},
	{"X103", `f:{ not a:b }`, c51doc, nil, T},
	{"X104", `f:{ a:b }`, `{"f":{"a":"b"}}`, nil, T},
	{"X105", `f:{ a:b }`, `{"g":{"a":"b"}}`, nil, F},
	{"X106", `f:{ g:{ a:b and c:d } }`, `{"f":[{"g":[{"a":"b"},{"c":"d"}]},{"g":{"a":"b","c":"d"}}]}`, nil, T},
	{"X107", `f:{ g:{ a:b and c:d } }`, `{"f":[{"g":[{"a":"b"},{"c":"d"}]}]}`, nil, F},
	{"X108", `f.*:{ a:b }`, ``, nil, ERR},
	{"X109", `f:{ *:b }`, c51doc, nil, T},
	// leading wildcards are a parse option
	{"X110", `f:"*ptmx"`, `{"f":"*ptmx"}`, nil, T},
	// free text over numbers compares their keyword text (formatted on
	// the stack for integers), and still finds typed fields by path
	{"X111", `2135`, `{"process":{"pid":2135}}`, nil, T},
	{"X112", `-7`, `{"a":[1,-7]}`, nil, T},
	{"X113", `213*`, `{"process":{"pid":2135}}`, nil, T},
	{"X114", `2135`, `{"process":{"pid":2135.5}}`, nil, F},
	{"X115", `2.5`, `{"a":2.5}`, nil, T},
	{"X116", `2026-03-01`, `{"@timestamp":"2026-03-01T10:00:00.123Z"}`, nil, T},
	{"X117", `2026-03-01`, `{"event":{"created":"2026-03-01T10:00:00.123Z"}}`, nil, F},
}

// The §5 data shapes used by the RULE rows.
const defendBase = `{"@timestamp":"2026-03-01T10:00:00.123Z",
 "event":{"action":"creation","category":["file"],"type":["creation"],"kind":"event","module":"endpoint",
          "dataset":"endpoint.events.file","outcome":"success","ingested":"2026-03-01T10:00:02Z"},
 "host":{"id":"b1f0c3","name":"srv1","os":{"type":"linux","family":"debian"}},
 "process":{"name":"scp","executable":"/usr/bin/scp","pid":4242,"entity_id":"Zm9v","command_line":"scp -t /home/alice",
            "parent":{"entity_id":"YmFy"}},
 "file":{"path":"/home/alice/tool.bin","name":"tool.bin","extension":"bin","size":1024,"Ext":{"entropy":7.9}},
 "user":{"id":"1000","name":"alice"},"group":{"id":"1000","name":"alice"}}`

// defendDoc returns the Defend creation document with some fields set
// (nil deletes).
func defendDoc(set map[string]any) string {
	var d ecs.Doc
	if err := json.Unmarshal([]byte(defendBase), &d); err != nil {
		panic(err)
	}
	for k, v := range set {
		if v == nil {
			d.Delete(k)
			continue
		}
		d.Set(k, v)
	}
	b, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	return string(b)
}

const auditdDoc = `{"@timestamp":"2026-03-01T10:00:00Z",
 "event":{"action":"opened-file","category":["file"],"type":["info"],"kind":"event","module":"auditd","outcome":"success"},
 "host":{"name":"srv1","os":{"type":"linux"}},
 "process":{"pid":4242,"name":"scp","executable":"/usr/bin/scp"},
 "file":{"path":"/tmp/x"},
 "auditd":{"data":{"syscall":"openat"},"paths":[{"nametype":"PARENT","name":"/tmp/"},{"nametype":"CREATE","name":"/tmp/x"}]}}`

const fimDoc = `{"@timestamp":"2026-03-01T10:00:00Z",
 "event":{"action":["created"],"category":["file"],"type":["creation"],"kind":"event","module":"file_integrity"},
 "host":{"name":"srv1","os":{"type":"linux"}},
 "file":{"path":"/home/alice/tool.bin","extension":"bin","type":"file"}}`

// latestRuleQuery reads the newest rule's query, or skips the test.
func latestRuleQuery(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(sharedtest.Dir, "rules", "unusual_remote_file_creation.latest.toml")
	var rule struct {
		Rule struct {
			Query    string `toml:"query"`
			Language string `toml:"language"`
		} `toml:"rule"`
	}
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("rule file absent: %v", err)
	}
	if _, err := toml.DecodeFile(path, &rule); err != nil {
		tb.Fatalf("decode %s: %v", path, err)
	}
	if rule.Rule.Query == "" || rule.Rule.Language != "kuery" {
		tb.Fatalf("%s: no kuery query", path)
	}
	return rule.Rule.Query
}

// fixedNow is the clock of the conformance table.
func fixedNow() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }

func runCase(t *testing.T, c conformanceCase, ruleQuery string) {
	t.Helper()
	query := c.query
	if query == "RULE" {
		if ruleQuery == "" {
			t.Skip("rule file absent")
		}
		query = ruleQuery
	}
	opt := Options{FieldTypes: c.types, AllowLeadingWildcards: true, Now: fixedNow}
	q, err := ParseWith(query, opt)
	if c.want == ERR {
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("%s: Parse(%q) = %v, want a *SyntaxError", c.id, query, err)
		}
		if !strings.Contains(se.Error(), "kql: at position ") {
			t.Fatalf("%s: error %q does not name the position", c.id, se)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: Parse(%q): %v", c.id, query, err)
	}
	d := mustDoc(t, c.doc)
	if got := q.Match(d); got != (c.want == T) {
		t.Fatalf("%s: %q on %s = %v, want %v\nparse: %s\nexplain: %+v", c.id, query, c.doc, got, c.want == T, q.Debug(), q.Explain(d))
	}
	// The same through json.Number (a decoder with UseNumber).
	dn := mustDocNumber(t, c.doc)
	if got := q.Match(dn); got != (c.want == T) {
		t.Fatalf("%s (UseNumber): %q = %v, want %v", c.id, query, got, c.want == T)
	}
	// Evaluated on the document's leaves, as the alert index does.
	for _, doc := range []ecs.Doc{d, dn} {
		if got, ok := leafwiseMatch(q, doc); ok && got != (c.want == T) {
			t.Fatalf("%s: %q leafwise on %s = %v, want %v", c.id, query, c.doc, got, c.want == T)
		}
	}
	// The normalized rendering means the same thing.
	q2, err := ParseWith(q.KQL(), opt)
	if err != nil {
		t.Fatalf("%s: rendering %q does not parse: %v", c.id, q.KQL(), err)
	}
	if q2.Match(d) != q.Match(d) {
		t.Fatalf("%s: rendering %q matches differently", c.id, q.KQL())
	}
}

func mustDoc(t testing.TB, s string) ecs.Doc {
	t.Helper()
	var d ecs.Doc
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatalf("doc %s: %v", s, err)
	}
	return d
}

func mustDocNumber(t testing.TB, s string) ecs.Doc {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var d ecs.Doc
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("doc %s: %v", s, err)
	}
	return d
}

func ruleQueryOrEmpty() string {
	path := filepath.Join(sharedtest.Dir, "rules", "unusual_remote_file_creation.latest.toml")
	var rule struct {
		Rule struct {
			Query string `toml:"query"`
		} `toml:"rule"`
	}
	if _, err := toml.DecodeFile(path, &rule); err != nil {
		return ""
	}
	return rule.Rule.Query
}

func TestConformanceSpec(t *testing.T) {
	rq := ruleQueryOrEmpty()
	if len(specCases) != 74 {
		t.Fatalf("the spec has 74 cases, the table %d", len(specCases))
	}
	for _, c := range specCases {
		t.Run(c.id, func(t *testing.T) { runCase(t, c, rq) })
	}
}

func TestConformanceOwn(t *testing.T) {
	for _, c := range ownCases {
		t.Run(c.id, func(t *testing.T) { runCase(t, c, "") })
	}
}

func TestLeadingWildcardOption(t *testing.T) {
	for _, q := range []string{`f:*ptmx`, `f:**`, `*x`, `f:(a or *b)`} {
		_, err := ParseWith(q, Options{})
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.Contains(se.Msg, "leading wildcards") {
			t.Errorf("ParseWith(%q, no leading wildcards) = %v, want leading-wildcard error", q, err)
		}
		if _, err := Parse(q); err != nil {
			t.Errorf("Parse(%q): %v", q, err)
		}
	}
	// A lone * (exists), a wildcard field and a quoted value are not leading wildcards.
	for _, q := range []string{`f:*`, `*:x`, `process.*:x`, `f:"*x"`, `f:a*`, `f >= *x`} {
		if _, err := ParseWith(q, Options{}); err != nil {
			t.Errorf("ParseWith(%q, no leading wildcards): %v", q, err)
		}
	}
}
