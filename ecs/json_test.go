package ecs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xferhunt/xferhunt/internal/sharedtest"
)

// stdJSON is the reference: what encoding/json's Encoder writes with HTML
// escaping off, minus the newline, with the terminal controls AppendJSON
// escapes (C1, bidi) turned into \uXXXX rune by rune.
func stdJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return escapeTerminalRunes(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})), nil
}

// terminalRunes are the runes a terminal obeys that AppendJSON escapes,
// listed one by one rather than as the ranges json.go tests.
var terminalRunes = func() map[rune]bool {
	m := map[rune]bool{0x061c: true, 0x200e: true, 0x200f: true}
	for r := rune(0x80); r <= 0x9f; r++ {
		m[r] = true
	}
	for _, r := range []rune{0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069} {
		m[r] = true
	}
	return m
}()

func escapeTerminalRunes(b []byte) []byte {
	var out []byte
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if n > 1 && terminalRunes[r] {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}

// TestAppendJSONEscapesTerminalControls: U+009B (CSI) and U+202E (RLO)
// reached `scan` output raw (issue 9 item 20); they are escaped, the value
// decodes the same, and every other byte is as encoding/json writes it.
func TestAppendJSONEscapesTerminalControls(t *testing.T) {
	doc := map[string]any{"file.path": "/tmp/evil\u202etxt.exe", "k\u009b31m": []any{"\u0085", "a\u2066b\u2069", "ok\u200dzwj", "\u2028"}}
	got, err := AppendJSON(nil, doc)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"file.path":"/tmp/evil\u202etxt.exe","k\u009b31m":["\u0085","a\u2066b\u2069","ok` + "\u200d" + `zwj","\u2028"]}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	var back map[string]any
	if err := json.Unmarshal(got, &back); err != nil || back["file.path"] != doc["file.path"] {
		t.Fatalf("does not decode to the same value: %v %v", back, err)
	}
	// The fallback (encoding/json) and RawMessage paths escape them too.
	type odd struct{ S string }
	for _, v := range []any{odd{"x\u009by"}, json.RawMessage("\"x\u009by\"")} {
		if got, _ := AppendJSON(nil, v); bytes.Contains(got, []byte("\u009b")) || !bytes.Contains(got, []byte(`\u009b`)) {
			t.Fatalf("%T: %q", v, got)
		}
	}
}

// checkSame fails unless AppendJSON and encoding/json agree on v: equal bytes,
// or both failing. A non-empty prefix in dst must survive untouched.
func checkSame(t *testing.T, v any) {
	t.Helper()
	want, wantErr := stdJSON(v)
	prefix := []byte("PFX")
	got, err := AppendJSON(prefix, v)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("error mismatch: AppendJSON err=%v, encoding/json err=%v", err, wantErr)
	}
	if err != nil {
		return
	}
	if !bytes.HasPrefix(got, []byte("PFX")) {
		t.Fatalf("dst prefix clobbered: %q", got[:min(len(got), 10)])
	}
	if got = got[3:]; !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		lo := max(0, i-40)
		t.Fatalf("mismatch at byte %d:\n got: %q\nwant: %q", i, got[lo:min(len(got), i+40)], want[lo:min(len(want), i+40)])
	}
}

func TestAppendJSONTable(t *testing.T) {
	long := strings.Repeat("note with <html> & \"quotes\"\n\ttab \u2028 é ", 20)
	cases := map[string]any{
		"nil":          nil,
		"true":         true,
		"false":        false,
		"empty string": "",
		"controls":     "\x00\x01\b\f\n\r\t\x1f\x7f",
		"html":         "<script>a && b</script>",
		"separators":   "a\u2028b\u2029c",
		"invalid utf8": "ok\xff\xfe\xc3(\xe2\x82",
		"long":         long,
		"ints":         []any{0, -1, int8(-128), int16(32767), int32(-7), int64(math.MinInt64), uint(7), uint8(255), uint16(1), uint32(42), uint64(math.MaxUint64)},
		"floats": []any{0.0, math.Copysign(0, -1), 1.0, -2.5, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, math.MaxFloat64,
			math.SmallestNonzeroFloat64, float32(1e21), float32(1e-7), float32(3.14), float32(1e20)},
		"numbers":      []any{json.Number("12"), json.Number("-0.5e+10"), json.Number("")},
		"bad number":   json.Number("1.2.3"),
		"raw":          json.RawMessage(` { "b" : [ 1 , 2 ] , "a":"<x>" } `),
		"nil raw":      json.RawMessage(nil),
		"bad raw":      json.RawMessage(`{`),
		"nan":          math.NaN(),
		"inf32":        float32(math.Inf(-1)),
		"nested nan":   map[string]any{"a": []any{1, math.Inf(1)}},
		"nil map":      map[string]any(nil),
		"nil doc":      Doc(nil),
		"nil slices":   []any{[]any(nil), []string(nil), []int(nil), []map[string]any(nil)},
		"empty":        []any{map[string]any{}, Doc{}, []any{}, []string{}, []int{}},
		"typed slices": map[string]any{"s": []string{"x", "<y>"}, "i": []int{1, -2}, "m": []map[string]any{{"k": 1}, nil}},
		"sorted keys":  Doc{"b": 1, "a": 2, "a.b": 3, "A": 4, "é": 5, "": 6, "a\x00": 7},
		"escaped keys": map[string]any{"k\"\n\u2028": "v"},
		"time":         []any{time.Date(2024, 5, 6, 7, 8, 9, 120000000, time.UTC), time.Date(1999, 1, 2, 3, 4, 5, 0, time.FixedZone("x", -3*3600-30*60))},
		"bad time":     time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		"odd zones": []any{time.Date(1850, 1, 1, 0, 0, 0, 5, time.FixedZone("lmt", 561)), time.Date(0, 1, 1, 0, 0, 0, 0, time.FixedZone("max", 24*3600-1)),
			time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("min", -24*3600+60)), time.Time{}},
		"zone 24h":    time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("over", 24*3600)),
		"negative yr": time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		"fallback":    map[string]any{"ss": map[string]string{"z": "<a>", "a": "b"}, "p": &struct{ X int }{3}, "b": []byte("hi"), "f": []float64{1e-9}},
		"many keys":   manyKeys(100),
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) { checkSame(t, v) })
	}
}

func manyKeys(n int) map[string]any {
	m := make(map[string]any, n)
	for i := range n {
		m[strings.Repeat("k", i%7)+string(rune('a'+i%26))+string(rune('0'+i%10))] = i
	}
	return m
}

// TestAppendJSONCycle: a self-containing map must error like encoding/json,
// not overflow the stack.
func TestAppendJSONCycle(t *testing.T) {
	m := map[string]any{}
	m["self"] = m
	if _, err := AppendJSON(nil, m); err == nil {
		t.Fatal("AppendJSON on a cyclic map: want error, got nil")
	}
	var deep any = "leaf"
	for range 1500 {
		deep = []any{map[string]any{"d": deep}}
	}
	checkSame(t, deep)
}

// TestAppendJSONCacheRepeats encodes the same long strings many times, so the
// cached path and its eviction are compared, not just the first encoding.
func TestAppendJSONCacheRepeats(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	longs := make([]string, 2*cacheEntries+5)
	for i := range longs {
		longs[i] = randString(r, 300+r.IntN(2000))
	}
	// Each string three times in a row: recorded, cached, then served from
	// the cache; more strings than entries forces eviction.
	for _, s := range longs {
		for range 3 {
			checkSame(t, Doc{"rule": Doc{"note": s, "description": s[:len(s)/2]}})
		}
	}
	strCache.mu.RLock()
	n := len(strCache.enc)
	strCache.mu.RUnlock()
	if n == 0 || n > cacheEntries {
		t.Fatalf("cache holds %d entries, want 1..%d", n, cacheEntries)
	}
	// A short string is never cached, however often it repeats.
	for range 3 {
		checkSame(t, strings.Repeat("x", cacheMinLen-1))
	}
	strCache.mu.RLock()
	_, cached := strCache.enc[strings.Repeat("x", cacheMinLen-1)]
	strCache.mu.RUnlock()
	if cached {
		t.Fatal("string shorter than cacheMinLen was cached")
	}
}

// TestAppendJSONConcurrent shares long strings across goroutines so the
// cache's locking is exercised (meaningful under go test -race).
func TestAppendJSONConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	docs := make([]Doc, 8)
	for i := range docs {
		docs[i] = Doc{"note": randString(r, 400+i*100), "shared": randString(rand.New(rand.NewPCG(9, 9)), 700)}
	}
	want := make([][]byte, len(docs))
	for i, d := range docs {
		want[i] = mustStd(d)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			var buf []byte
			for n := range 200 {
				i := (g + n) % len(docs)
				var err error
				if buf, err = AppendJSON(buf[:0], docs[i]); err != nil || !bytes.Equal(buf, want[i]) {
					errs <- fmt.Errorf("goroutine %d doc %d: err=%v, output differs=%v", g, i, err, !bytes.Equal(buf, want[i]))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

const alphabet = "aZ09 <>&\"\\/\n\r\t\b\f\x00\x01\x1f\x7fé€😀\u2028\u2029"

// randString mixes ASCII, every escape class, multi-byte runes and invalid
// UTF-8 (stray continuation bytes, truncated sequences).
func randString(r *rand.Rand, n int) string {
	var b strings.Builder
	runes := []rune(alphabet)
	for b.Len() < n {
		switch k := r.IntN(20); {
		case k < 12:
			b.WriteString("plain text run ")
		case k < 18:
			b.WriteRune(runes[r.IntN(len(runes))])
		case k == 18:
			b.WriteByte(byte(0x80 + r.IntN(0x80)))
		default:
			b.WriteString("\xe2\x82")
		}
	}
	return b.String()
}

func randFloat(r *rand.Rand) float64 {
	switch r.IntN(6) {
	case 0:
		return r.NormFloat64()
	case 1:
		return math.Ldexp(r.Float64(), r.IntN(2000)-1000)
	case 2:
		return -math.Ldexp(r.Float64(), r.IntN(200)-100)
	case 3:
		return float64(r.IntN(1 << 20))
	case 4:
		return 1e21 * (1 + r.Float64())
	default:
		return 1e-6 * r.Float64()
	}
}

func randValue(r *rand.Rand, depth int) any {
	k := r.IntN(16)
	if depth > 4 && k >= 12 {
		k = r.IntN(12)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2, 3:
		n := r.IntN(40)
		if r.IntN(10) == 0 {
			n = 256 + r.IntN(1000)
		}
		return randString(r, n)
	case 4:
		return int64(r.Uint64())
	case 5:
		return r.IntN(1000) - 500
	case 6:
		return randFloat(r)
	case 7:
		if f := float32(randFloat(r)); !math.IsInf(float64(f), 0) {
			return f
		}
		return float32(r.Float64())
	case 8:
		return json.Number(strings.TrimSuffix(string(mustStd(randFloat(r))), "\n"))
	case 9:
		return uint64(r.Uint64())
	case 10:
		return []string{randString(r, 5), randString(r, 10)}
	case 11:
		return time.Unix(r.Int64N(1<<34), r.Int64N(1e9)).UTC()
	case 12, 13:
		m := make(map[string]any)
		for range r.IntN(8) {
			m[randString(r, r.IntN(12))] = randValue(r, depth+1)
		}
		if k == 13 {
			return Doc(m)
		}
		return m
	default:
		a := make([]any, r.IntN(6))
		for i := range a {
			a[i] = randValue(r, depth+1)
		}
		return a
	}
}

func mustStd(v any) []byte {
	b, err := stdJSON(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestAppendJSONRandom(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	r := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	for i := range n {
		doc := map[string]any{}
		for range 1 + r.IntN(10) {
			doc[randString(r, r.IntN(15))] = randValue(r, 0)
		}
		want, wantErr := stdJSON(doc)
		got, err := AppendJSON(nil, doc)
		if (err != nil) != (wantErr != nil) || err == nil && !bytes.Equal(got, want) {
			t.Fatalf("doc %d: err=%v, encoding/json err=%v\n got: %s\nwant: %s", i, err, wantErr, got, want)
		}
	}
}

// FuzzAppendJSON feeds arbitrary bytes as strings, keys, raw messages and
// decoded documents.
func FuzzAppendJSON(f *testing.F) {
	f.Add([]byte(`{"a":[1,2.5e-7,"x\u2028"],"b":{"<":null}}`))
	f.Add([]byte("\xff\x00\"\\<>&\u2029"))
	f.Add([]byte(" [ 1e400 ] "))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := string(data)
		checkSame(t, s)
		checkSame(t, map[string]any{s: s, "k": []any{s, json.Number(s)}})
		checkSame(t, json.RawMessage(data))
		var v any
		if json.Unmarshal(data, &v) == nil {
			checkSame(t, v)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if dec.Decode(&v) == nil {
			checkSame(t, v)
		}
	})
}

// decodeAll reads every JSON value in r (one document, or NDJSON), both as
// float64 numbers and as json.Number.
func decodeAll(t *testing.T, data []byte) []any {
	t.Helper()
	var out []any
	for _, useNumber := range []bool{false, true} {
		dec := json.NewDecoder(bytes.NewReader(data))
		if useNumber {
			dec.UseNumber()
		}
		for {
			var v any
			err := dec.Decode(&v)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return out // not (entirely) JSON: keep what decoded
			}
			out = append(out, v)
		}
	}
	return out
}

func TestAppendJSONSamples(t *testing.T) {
	root := sharedtest.Dir + "/samples"
	if _, err := os.Stat(root); err != nil {
		t.Skipf("samples not available: %v", err)
	}
	files, docs := 0, 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, v := range decodeAll(t, data) {
			docs++
			if m, ok := v.(map[string]any); ok {
				checkSame(t, Doc(m)) // the type the pipeline really holds
			}
			checkSame(t, v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if docs == 0 {
		t.Fatalf("no JSON documents decoded from %d sample files", files)
	}
	t.Logf("%d documents from %d files identical", docs, files)
}

// scanAlerts builds xferhunt and returns the alert lines it prints for the
// bundled capture: the real documents this encoder exists for.
func scanAlerts(t testing.TB) [][]byte {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped in -short")
	}
	bin := filepath.Join(t.TempDir(), "xferhunt")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "scan", "--ephemeral", "testdata/capture/raw.log")
	cmd.Dir = ".."
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("xferhunt scan: %v\n%s", err, stderr.String())
	}
	var lines [][]byte
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
	}
	if len(lines) == 0 {
		t.Fatalf("xferhunt scan printed no alerts; stderr:\n%s", stderr.String())
	}
	return lines
}

func TestAppendJSONAlerts(t *testing.T) {
	lines := scanAlerts(t)
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("alert %d is not a JSON object: %v", i, err)
		}
		checkSame(t, Doc(m))
		// The scan itself encodes with encoding/json, so re-encoding the
		// decoded alert must reproduce the printed line exactly.
		got, err := AppendJSON(nil, Doc(m))
		if err != nil || !bytes.Equal(got, line) {
			t.Fatalf("alert %d: re-encoding differs from the printed line (err=%v)", i, err)
		}
	}
	t.Logf("%d alerts identical", len(lines))
}
