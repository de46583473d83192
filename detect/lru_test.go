package detect

import "testing"

// generations keeps what was used lately and bounds the rest.
func TestGenerations(t *testing.T) {
	g := newGenerations[int, string](4)
	for i := range 4 {
		g.put(i, "v")
	}
	// 0 and 1 went to the older generation when the newer filled; reading
	// 0 brings it back, so the next turn drops 1, not 0.
	if _, ok := g.get(0); !ok {
		t.Fatal("0 lost too early")
	}
	g.put(4, "v")
	g.put(5, "v")
	if _, ok := g.get(0); !ok {
		t.Error("0, read lately, was dropped")
	}
	if _, ok := g.get(1); ok {
		t.Error("1, never read again, survived two turns")
	}
	if n := len(g.cur) + len(g.prev); n > 4 {
		t.Errorf("%d entries for a bound of 4", n)
	}
	g.drop(0)
	if _, ok := g.get(0); ok {
		t.Error("dropped entry found")
	}
}
