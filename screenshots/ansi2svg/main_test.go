package main

import (
	"strings"
	"testing"
)

func TestParseSGR(t *testing.T) {
	in := "\x1b[1;38;2;255;0;0mAB\x1b[0m C\x1b[7m日\x1b[27m\x1b]8;;http://x\x07L\n\x1b[48;5;21m x"
	g, err := parse(strings.NewReader(in), 10, 2)
	if err != nil {
		t.Fatal(err)
	}
	if g[0][0].r != "A" || !g[0][0].st.bold || g[0][0].st.fg != "#ff0000" {
		t.Fatalf("cell 0: %+v", g[0][0])
	}
	if g[0][3].r != "C" || g[0][3].st != (style{}) {
		t.Fatalf("reset failed: %+v", g[0][3])
	}
	if g[0][4].r != "日" || !g[0][4].st.rev || !g[0][5].filler {
		t.Fatalf("wide rune: %+v %+v", g[0][4], g[0][5])
	}
	if g[0][6].r != "L" {
		t.Fatalf("OSC not skipped: %+v", g[0][6])
	}
	if g[1][0].st.bg != xterm(21) {
		t.Fatalf("256-color bg: %+v", g[1][0])
	}
}

func TestRenderEscapesText(t *testing.T) {
	g, _ := parse(strings.NewReader("<a&b>"), 8, 1)
	var sb strings.Builder
	render(&sb, g, 8, 1, "t")
	if !strings.Contains(sb.String(), "&lt;a&amp;b&gt;") || strings.Contains(sb.String(), "<a&b>") {
		t.Fatalf("text not escaped:\n%s", sb.String())
	}
}
