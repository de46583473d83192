package visible

import (
	"io"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestString(t *testing.T) {
	cases := []struct{ in, want string }{
		{"/tmp/ok.txt", "/tmp/ok.txt"},
		{"a\x1b[2Jb", `a\x1b[2Jb`},
		{"line\nnext", `line\nnext`},
		{"tab\there", `tab\there`},
		{"bell\x07", `bell\x07`},
		{"del\x7f", `del\x7f`},
		{"bad\xff\xfe", `bad\xff\xfe`},
		{"c1\u009b31m", `c1\u009b31m`},
		{"evil\u202etxt.exe", `evil\u202etxt.exe`},
		{`back\slash`, `back\\slash`},
		{"héllo 日本", "héllo 日本"},
		{"osc\x1b]52;c;AAAA\x07", `osc\x1b]52;c;AAAA\x07`},
	}
	for _, c := range cases {
		got := String(c.in)
		if got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
		}
		if ansi.Strip(got) != got {
			t.Errorf("String(%q) still holds an escape sequence: %q", c.in, got)
		}
	}
}

func BenchmarkStringPlain(b *testing.B) {
	for b.Loop() {
		_ = String("/home/alice/upload/report-2026.pdf")
	}
}

func TestEscapedKeepsBackslash(t *testing.T) {
	if got := Escaped(`"a\"b\u001b" ` + "\x7f\u202e"); got != `"a\"b\u001b" \x7f\u202e` {
		t.Fatalf("got %q", got)
	}
}

func TestLines(t *testing.T) {
	var b strings.Builder
	w := Lines(&b)
	in := "name:\tevil\x1b]0;t\x07\u009b\u202e\nnext line \\ done\n"
	n, err := io.WriteString(w, in)
	if err != nil || n != len(in) {
		t.Fatalf("wrote %d of %d: %v", n, len(in), err)
	}
	want := `name:` + "\t" + `evil\x1b]0;t\x07\u009b\u202e` + "\n" + `next line \\ done` + "\n"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
	b.Reset()
	io.WriteString(w, "plain\ttext\n")
	if b.String() != "plain\ttext\n" {
		t.Fatalf("plain text changed: %q", b.String())
	}
}
