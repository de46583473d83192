package kql

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func canonLit(l *lit) any {
	if l == nil || l.kind == litNull {
		return map[string]any{"lit": nil, "q": false}
	}
	switch l.kind {
	case litBool:
		return map[string]any{"lit": l.text == "true", "q": false}
	case litWild:
		s := make([]any, len(l.segs))
		for i, x := range l.segs {
			s[i] = x
		}
		return map[string]any{"wild": s}
	}
	return map[string]any{"lit": l.text, "q": l.quoted}
}

func canonNode(n *node) any {
	args := []any{}
	fn := ""
	switch n.kind {
	case kindMatchAll:
		w := map[string]any{"wild": []any{"", ""}}
		return map[string]any{"fn": "is", "args": []any{w, w}}
	case kindIs:
		fn = "is"
		args = append(args, canonLit(n.field), canonLit(n.value))
	case kindRange:
		fn = "range"
		args = append(args, canonLit(n.field), map[string]any{"op": n.op.name()}, canonLit(n.value))
	case kindNested:
		fn = "nested"
		args = append(args, canonLit(n.field), canonNode(n.kids[0]))
	default:
		fn = map[nodeKind]string{kindAnd: "and", kindOr: "or", kindNot: "not"}[n.kind]
		for _, k := range n.kids {
			args = append(args, canonNode(k))
		}
	}
	return map[string]any{"fn": fn, "args": args}
}

var loneSurrogate = regexp.MustCompile(`(?i)\\u d[89a-f][0-9a-f]{2}`)

// TestReferenceParser compares the parser with a reference one, normally
// Kibana's grammar.peggy compiled with peggy (not part of this repository:
// its license keeps it out). KQL_REFERENCE is a shell command that reads
// JSON-encoded queries, one per line, and writes one JSON object per line:
// {"ok":true,"ast":A} or {"ok":false,"pos":utf16Offset}, where A is
// {"fn":name,"args":[...]} for function nodes, {"lit":value,"q":isQuoted}
// for literals, {"wild":[segments]} for wildcards and {"op":"gte"} for range
// operators (canonNode below). Inputs: the corpus, the conformance queries,
// the fuzz corpus and 300,000 random token strings.
func TestReferenceParser(t *testing.T) {
	ref := os.Getenv("KQL_REFERENCE")
	if ref == "" {
		t.Skip("KQL_REFERENCE not set")
	}
	var inputs []string
	inputs = append(inputs, corpusQueries(t)...)
	for _, c := range append(append([]conformanceCase{}, specCases...), ownCases...) {
		inputs = append(inputs, c.query)
	}
	// the fuzzer's corpus
	cache, _ := exec.Command("go", "env", "GOCACHE").Output()
	dirs := []string{filepath.Join(strings.TrimSpace(string(cache)), "fuzz/github.com/xferhunt/xferhunt/detect/kql/FuzzParse"), "testdata/fuzz/FuzzParse"}
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(d, "*"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			lines := strings.Split(string(b), "\n")
			if len(lines) < 2 {
				continue
			}
			l := strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")")
			if s, err := strconv.Unquote(l); err == nil {
				inputs = append(inputs, s)
			}
		}
	}
	// token soup
	toks := []string{"a", "f", "x", "b.c", ":", " ", "  ", "(", ")", "{", "}", `"`, `\`, "*", "or", "and", "not", "OR", "Not", "\n", "\t", "<", ">=", "<=", ">", `\u0041`, "\u00a0", "x y", "null", "true", "é", `\\`, `\"`, `\or`, `\not`, `\n`, `\t`, `\*`, `\:`, ".", "-", "now-1d", "?", "\r", `\u00a0`, `\u0020`, "\u2003", "1"}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 300000; i++ {
		var b strings.Builder
		for k, n := 0, 1+rng.Intn(14); k < n; k++ {
			b.WriteString(toks[rng.Intn(len(toks))])
		}
		inputs = append(inputs, b.String())
	}
	var keep []string
	for _, s := range inputs {
		if utf8.ValidString(s) && !loneSurrogate.MatchString(strings.ReplaceAll(s, `\u`, `\u `)) && strings.Count(s, "(")+strings.Count(s, "{") < 150 {
			keep = append(keep, s)
		}
	}
	var in bytes.Buffer
	for _, s := range keep {
		b, _ := json.Marshal(s)
		in.Write(b)
		in.WriteByte('\n')
	}
	cmd := exec.Command("sh", "-c", ref)
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<26)
	i, okBoth, errBoth, posSame, posCompared, bad := 0, 0, 0, 0, 0, 0
	for sc.Scan() {
		s := keep[i]
		i++
		var js struct {
			OK       bool `json:"ok"`
			AST      any  `json:"ast"`
			Pos      int  `json:"pos"`
			Overflow bool `json:"overflow"`
		}
		if err := json.Unmarshal(sc.Bytes(), &js); err != nil {
			t.Fatal(err)
		}
		if js.Overflow {
			continue
		}
		n, perr := parse(s, true)
		if (perr == nil) != js.OK {
			bad++
			if bad < 20 {
				t.Errorf("%q: go ok=%v (%v), peggy ok=%v", s, perr == nil, perr, js.OK)
			}
			continue
		}
		if perr != nil {
			errBoth++
			// peggy offsets count UTF-16 units: convert to bytes
			u, bpos := 0, len(s)
			for bi, r := range s {
				if u >= js.Pos {
					bpos = bi
					break
				}
				u++
				if r > 0xFFFF {
					u++
				}
			}
			js.Pos = bpos
			{
				posCompared++
				if perr.(*SyntaxError).Pos == js.Pos {
					posSame++
				} else if posCompared-posSame < 15 {
					t.Logf("pos %q: go %d peggy %d (%v)", s, perr.(*SyntaxError).Pos, js.Pos, perr)
				}
			}
			continue
		}
		okBoth++
		gb, _ := json.Marshal(canonNode(n))
		var g any
		json.Unmarshal(gb, &g)
		if !reflect.DeepEqual(g, js.AST) {
			bad++
			if bad < 20 {
				jb, _ := json.Marshal(js.AST)
				t.Errorf("%q:\n go    %s\n peggy %s", s, gb, jb)
			}
		}
	}
	t.Logf("inputs %d: both parse %d (identical trees unless reported), both reject %d; error offset equal on %d of %d; mismatches %d", len(keep), okBoth, errBoth, posSame, posCompared, bad)
	if posSame != posCompared {
		t.Errorf("error offsets differ on %d inputs", posCompared-posSame)
	}
}
