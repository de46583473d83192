package ecs

import "testing"

// TestCloneIsDeep: changing a clone's nested objects and arrays leaves
// the original as it was.
func TestCloneIsDeep(t *testing.T) {
	d := Doc{"xferhunt": map[string]any{"file": map[string]any{"size": 0.0}}, "a": []any{map[string]any{"b": "c"}}, "s": []string{"x"}}
	c := d.Clone()
	c.Set("xferhunt.file.size", 42.0)
	c["a"].([]any)[0].(map[string]any)["b"] = "changed"
	c["s"].([]any)[0] = "y"
	if d.Get("xferhunt.file.size") != 0.0 || d["a"].([]any)[0].(map[string]any)["b"] != "c" || d["s"].([]string)[0] != "x" {
		t.Fatalf("original changed: %v", d)
	}
	if c.Get("xferhunt.file.size") != 42.0 {
		t.Fatalf("clone not changed: %v", c)
	}
}
