package liveness

import (
	"strings"
	"testing"
)

type doc map[string]string

func (d doc) Str(f string) string { return d[f] }
func (d doc) Set(f string, v any) { d[f], _ = v.(string) }
func stamp(o Origin, host, boot string) doc {
	return doc{FieldOrigin: string(o), "host.id": host, FieldBoot: boot}
}

func TestDecideAndCheck(t *testing.T) {
	here := Host{ID: "h", Boot: "b"}
	for _, c := range []struct {
		hist, rec, off bool
		host           string
		want           Origin
	}{
		{false, false, false, "h", Live},
		{true, false, false, "h", Backfill},
		{false, true, false, "h", Recorded},
		{true, true, true, "h", Recorded},
		{false, false, true, "h", OffHost},
		{false, false, false, "other", Foreign},
	} {
		if got := Decide(c.hist, c.rec, c.off, c.host, here); got != c.want {
			t.Errorf("Decide(%v,%v,%v,%s) = %s, want %s", c.hist, c.rec, c.off, c.host, got, c.want)
		}
		if got := Decide(c.hist, c.rec, c.off, c.host, Host{}); got == Live {
			t.Errorf("an unknown host decided live")
		}
	}
	for _, c := range []struct {
		d   doc
		why string
	}{
		{stamp(Live, "h", "b"), ""},
		{stamp(Live, "h", "old"), "reboot"},
		{stamp(Live, "x", "b"), "another host"},
		{stamp(Backfill, "h", "b"), "backfilled"},
		{stamp(Recorded, "h", "b"), "recording"},
		{stamp(OffHost, "h", "b"), "stdin"},
		{stamp(Foreign, "x", ""), "another host"},
		{doc{"host.id": "h"}, "not raised live"},
		{stamp("weird", "h", "b"), "unknown origin"},
	} {
		why := here.Check(Read(c.d))
		if (c.why == "") != (why == "") || !strings.Contains(why, c.why) {
			t.Errorf("Check(%v) = %q, want %q", c.d, why, c.why)
		}
		if (Host{}).Check(Read(c.d)) == "" {
			t.Errorf("a zero host accepted %v", c.d)
		}
	}
	d := doc{}
	Set(d, Live, here)
	d["host.id"] = "h"
	if here.Check(Read(d)) != "" {
		t.Fatalf("Set then Check: %v", d)
	}
}
