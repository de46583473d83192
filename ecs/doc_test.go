package ecs

import (
	"encoding/json"
	"reflect"
	"testing"
)

func mustDoc(t *testing.T, s string) Doc {
	t.Helper()
	var d Doc
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestValues(t *testing.T) {
	cases := []struct {
		doc, path string
		want      []string
	}{
		{`{"process":{"name":"scp"}}`, "process.name", []string{"scp"}},
		{`{"process.name":"scp"}`, "process.name", []string{"scp"}},
		{`{"process":{"parent.name":"sshd"}}`, "process.parent.name", []string{"sshd"}},
		{`{"f":["a",null,["b"]]}`, "f", []string{"a", "b"}},
		{`{"f":[{"a":"x"},{"a":"y"}]}`, "f.a", []string{"x", "y"}},
		{`{"f":null}`, "f", nil},
		{`{"f":[]}`, "f", nil},
		{`{"f":{"a":1}}`, "f", nil},
		{`{"f":1024}`, "f", []string{"1024"}},
		{`{"f":true}`, "f", []string{"true"}},
		{`{"f":1.5}`, "f", []string{"1.5"}},
	}
	for _, c := range cases {
		got := mustDoc(t, c.doc).Keywords(c.path)
		if !reflect.DeepEqual(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("%s %s: got %q want %q", c.doc, c.path, got, c.want)
		}
	}
}

func TestIgnoreAbove(t *testing.T) {
	long := make([]byte, IgnoreAbove+1)
	for i := range long {
		long[i] = 'a'
	}
	d := Doc{"f": string(long)}
	if got := d.Keywords("f"); len(got) != 0 {
		t.Fatalf("value over ignore_above indexed: %d values", len(got))
	}
	if d.Get("f") == nil {
		t.Fatal("value over ignore_above must stay in the document")
	}
}

func TestSetGetDelete(t *testing.T) {
	d := Doc{}
	d.Set("process.parent.pid", 7)
	d.Set("kibana.alert.uuid", "u")
	if d.Str("process.parent.pid") != "7" {
		t.Fatalf("Get after Set: %v", d)
	}
	d["kibana.alert.rule.name"] = "r"
	if d.Str("kibana.alert.rule.name") != "r" {
		t.Fatal("dotted top-level key not found")
	}
	d.Delete("process.parent.pid")
	if d.Get("process.parent.pid") != nil {
		t.Fatal("Delete left the value")
	}
	want := []string{"kibana.alert.rule.name", "kibana.alert.uuid"}
	if got := d.Leaves(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Leaves = %v, want %v", got, want)
	}
}

func TestObjects(t *testing.T) {
	d := mustDoc(t, `{"f":[{"a":"x"},{"a":"y"}],"g.h":{"a":"z"},"g":{"h":[{"a":"w"},"scalar",null]}}`)
	if got := len(d.Objects("f")); got != 2 {
		t.Fatalf("f: %d objects, want 2", got)
	}
	got := d.Objects("g.h")
	if len(got) != 2 || got[0].Str("a") != "z" || got[1].Str("a") != "w" {
		t.Fatalf("g.h: %v, want the dotted key's object and the nested array's", got)
	}
	if len(d.Objects("f.a")) != 0 {
		t.Fatal("scalars returned as objects")
	}
}
