package auditd

import (
	"testing"

	"github.com/xferhunt/xferhunt/sources"
)

// TestParserAwaiting: a following parser says it is inside an event from a
// SYSCALL record until that event's PROCTITLE (or EOE), per node, with
// other events' records interleaved.
func TestParserAwaiting(t *testing.T) {
	steps := []struct {
		line string
		want bool
	}{
		{"type=SYSCALL msg=audit(1.000:1): syscall=257", true},
		{"type=USER_START msg=audit(1.000:2): op=login", true},
		{"type=SYSCALL msg=audit(1.000:3): syscall=257", true},
		{"type=PROCTITLE msg=audit(1.000:1): proctitle=6C73", true}, // 3 still open
		{"node=b type=SYSCALL msg=audit(1.000:3): syscall=257", true},
		{"type=PATH msg=audit(1.000:3): item=0", true},
		{"type=PROCTITLE msg=audit(1.000:3): proctitle=6C73", true}, // b's 3 still open
		{"node=b type=EOE msg=audit(1.000:3): ", false},
		{"type=PROCTITLE msg=audit(1.000:9): proctitle=6C73", false},
		{"garbage", false},
		{"type=SYSCALL msg=audit(2.000:4): syscall=257", true},
	}
	a := NewParser(Options{Follow: true, Emit: func(sources.Event) {}})
	for i, s := range steps {
		a.Line([]byte(s.line))
		if got := a.Awaiting(); got != s.want {
			t.Fatalf("after line %d %q: awaiting %v, want %v", i, s.line, got, s.want)
		}
	}
	a.Flush()
	if a.Awaiting() {
		t.Fatal("awaiting after Flush")
	}
	// More open events than the parser keeps forget the oldest.
	for i := range 20 {
		a.Line([]byte("type=SYSCALL msg=audit(3.000:" + string(rune('a'+i)) + "): x"))
	}
	if a.open.n != len(a.open.ids) {
		t.Fatalf("%d open events remembered, want the bound %d", a.open.n, len(a.open.ids))
	}
}
