package auditd

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestArgListsLazyShared: an exec logged alike again gets the lazyArgs of
// the first (no copy), which decodes the same list; the caller's buffers
// may change after; text that only concatenates alike, or is long, is not
// shared; the held text stays within the interner's bounds.
func TestArgListsLazyShared(t *testing.T) {
	var al argLists
	execs := []byte(`argc=3 a0="scp" a1="-t" a2="/tmp"` + "\n")
	title := []byte("736370002D74002F746D70")
	a := al.lazy(execs, title)
	execs[len(`argc=3 a0="`)] = 'X' // the caller reuses its scratch buffer
	b := al.lazy([]byte(`argc=3 a0="scp" a1="-t" a2="/tmp"`+"\n"), title)
	if a != b {
		t.Fatal("an exec logged alike again was copied")
	}
	if got := b.get(&al); !reflect.DeepEqual(got, []string{"scp", "-t", "/tmp"}) {
		t.Fatalf("shared args decode to %q", got)
	}
	if got := al.lazy([]byte(`argc=3 a0="scp" a1="-t" a2="/tmp"`+"\n"), title).get(&al); !reflect.DeepEqual(got, []string{"scp", "-t", "/tmp"}) {
		t.Fatalf("shared args decoded again give %q", got)
	}
	// The same bytes split otherwise: an EXECVE body, or a PROCTITLE.
	x := al.lazy([]byte("argc=1 a0=ls\n"), nil)
	y := al.lazy(nil, []byte("argc=1 a0=ls\n"))
	if x == y || !reflect.DeepEqual(x.get(&al), []string{"ls"}) || reflect.DeepEqual(y.get(&al), []string{"ls"}) {
		t.Fatalf("EXECVE and PROCTITLE of the same bytes mixed up: %q %q", x.get(&al), y.get(&al))
	}
	long := []byte("argc=1 a0=" + strings.Repeat("a", maxSharedRaw) + "\n")
	if l1, l2 := al.lazy(long, nil), al.lazy(long, nil); l1 == l2 {
		t.Fatal("a long argument list was shared")
	}
	for i := range 3 * internMax {
		al.lazy([]byte("argc=1 a0="+strings.Repeat("b", i%700)+strconv.Itoa(i)+"\n"), nil)
		held := 0
		for k := range al.raws {
			held += len(k)
		}
		if len(al.raws) > internMax || held > internBytes || held != al.rawBytes {
			t.Fatalf("after %d execs: %d held, %d bytes (counted %d)", i+1, len(al.raws), held, al.rawBytes)
		}
	}
}
