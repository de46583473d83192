package keymap

import (
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

func TestDefaultMatchesKeys(t *testing.T) {
	k := Default()
	cases := []struct {
		msg  tea.KeyPressMsg
		want key.Binding
		name string
	}{
		{tea.KeyPressMsg{Code: 'q', Text: "q"}, k.Global.Quit, "q quits"},
		{tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}, k.Global.Quit, "ctrl+c quits"},
		{tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}, k.List.PageDown, "space pages"},
		{tea.KeyPressMsg{Code: tea.KeyEnter}, k.List.Open, "enter opens"},
		{tea.KeyPressMsg{Code: '/', Text: "/"}, k.List.Filter, "slash filters"},
		{tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}, k.Detail.PrevTab, "shift+tab"},
	}
	for _, c := range cases {
		if !key.Matches(c.msg, c.want) {
			t.Errorf("%s: %q did not match %v", c.name, c.msg.String(), c.want.Keys())
		}
	}
}

func TestGroupsHideDisabled(t *testing.T) {
	k := Default()
	before := count(k.Groups())
	k.Alert.Kill.SetEnabled(false)
	if got := count(k.Groups()); got != before-1 {
		t.Fatalf("disabled binding still listed: %d -> %d", before, got)
	}
	for _, g := range k.Groups() {
		for _, b := range g.Bindings {
			if b.Help().Desc == "kill process or login" {
				t.Fatal("kill listed while disabled")
			}
		}
	}
	// Copies are independent: toggling one must not touch Default().
	if !Default().Alert.Kill.Enabled() {
		t.Fatal("Default shares state between copies")
	}
}

func count(gs []Group) int {
	n := 0
	for _, g := range gs {
		n += len(g.Bindings)
	}
	return n
}

// TestStoryKeysDistinct: in the story view the global, alert and story
// keys are live together, so none may answer to the same key.
func TestStoryKeysDistinct(t *testing.T) {
	k := Default()
	seen := map[string]string{}
	for _, g := range k.Groups() {
		if g.Title != "Global" && g.Title != "Alert" && g.Title != "Story" {
			continue
		}
		for _, b := range g.Bindings {
			for _, key := range b.Keys() {
				if prev, ok := seen[key]; ok {
					t.Errorf("%q is both %q and %q", key, prev, b.Help().Desc)
				}
				seen[key] = b.Help().Desc
			}
		}
	}
	for _, want := range []string{"t", "tab", "/", "n", "N", "w", "G", "esc"} {
		if _, ok := seen[want]; !ok {
			t.Errorf("no story-view binding for %q", want)
		}
	}
}

// TestViewKeysDistinct: in the list and the detail view the global and
// alert keys are live beside the view's own, so none may share a key; a
// dialog's yes is never the copy key.
func TestViewKeysDistinct(t *testing.T) {
	k := Default()
	for _, view := range []string{"List", "Detail"} {
		seen := map[string]string{}
		for _, g := range k.Groups() {
			if g.Title != "Global" && g.Title != "Alert" && g.Title != view {
				continue
			}
			for _, b := range g.Bindings {
				for _, key := range b.Keys() {
					if prev, ok := seen[key]; ok {
						t.Errorf("%s: %q is both %q and %q", view, key, prev, b.Help().Desc)
					}
					seen[key] = b.Help().Desc
				}
			}
		}
	}
	for _, c := range append(k.Alert.Copy.Keys(), k.Alert.CopyAll.Keys()...) {
		for _, y := range k.Prompt.Confirm.Keys() {
			if c == y {
				t.Errorf("%q both copies and confirms", c)
			}
		}
	}
}
