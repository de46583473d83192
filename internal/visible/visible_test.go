package visible

import (
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
