// Package keymap holds every key the TUI understands, grouped by the context
// in which it acts, so the help view is generated from the same bindings the
// model matches against and can never drift from them.
package keymap

import "charm.land/bubbles/v2/key"

// Global keys act everywhere unless a text prompt has focus.
type Global struct {
	Quit key.Binding
	Help key.Binding
	// Command opens the `:` command line (:ip, :ses, :user, :sort …).
	Command key.Binding
	// Responses shows the response log: every action taken on the host.
	Responses key.Binding
}

// List keys move through and act on the alert list.
type List struct {
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding
	Open     key.Binding
	Filter   key.Binding
	Sort     key.Binding
	// SortReverse flips the direction of the sorted column.
	SortReverse key.Binding
	// Pause freezes the list while new alerts are counted, not shown.
	Pause  key.Binding
	Export key.Binding
	// Exceptions lists the exceptions, to edit, delete and export them.
	Exceptions key.Binding
}

// Alert keys act on the selected alert, from the list or the detail view.
type Alert struct {
	Ack    key.Binding
	Close  key.Binding
	Reopen key.Binding
	Copy   key.Binding
	// CopyAll copies the whole alert document.
	CopyAll   key.Binding
	Exception key.Binding
	// Kill, Evidence and Quarantine change the host: disabled (absent
	// from help) under --readonly and for alerts not live on this host.
	Kill       key.Binding
	Evidence   key.Binding
	Quarantine key.Binding
	// Recheck takes the file's facts again, now (live alerts only).
	Recheck key.Binding
	// Story opens the story of the alert, or from the detail view the
	// story of the focused field (a pivot).
	Story key.Binding
}

// Detail keys navigate the drill-down view.
type Detail struct {
	Back        key.Binding
	NextTab     key.Binding
	PrevTab     key.Binding
	Up          key.Binding
	Down        key.Binding
	PageUp      key.Binding
	PageDown    key.Binding
	Top         key.Binding
	Bottom      key.Binding
	NextSection key.Binding
	PrevSection key.Binding
	Search      key.Binding
	NextMatch   key.Binding
	PrevMatch   key.Binding
}

// Scroll keys move through the help view, whatever view it covers (the
// list's and detail's own keys are disabled there).
type Scroll struct {
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
}

// Story keys move through and search the story view.
type Story struct {
	Back      key.Binding
	NextScope key.Binding
	PrevScope key.Binding
	Up        key.Binding
	Down      key.Binding
	PageUp    key.Binding
	PageDown  key.Binding
	Top       key.Binding
	Bottom    key.Binding
	Search    key.Binding
	NextMatch key.Binding
	PrevMatch key.Binding
	Wrap      key.Binding
}

// Exception keys drive the exception editor and the list of exceptions.
type Exception struct {
	Up       key.Binding
	Down     key.Binding
	Change   key.Binding // next field or operator
	ChangeBk key.Binding // previous field or operator
	AddEntry key.Binding
	DelEntry key.Binding
	Toggle   key.Binding
	Save     key.Binding
	Cancel   key.Binding
	// In the list of exceptions:
	Edit   key.Binding
	Delete key.Binding
	Export key.Binding
}

// Prompt keys drive the filter, search and command lines and the
// confirmation dialogs. A dialog confirms with enter, never with y: y
// copies, and a dialog that opened a moment after the key was typed must
// not turn a copy into a yes.
type Prompt struct {
	Apply    key.Binding
	Cancel   key.Binding
	Confirm  key.Binding
	Deny     key.Binding
	Complete key.Binding
	Older    key.Binding
	Newer    key.Binding
	Erase    key.Binding
	Clear    key.Binding
	// KillProcess and KillSession choose what K ends.
	KillProcess key.Binding
	KillSession key.Binding
}

// KeyMap is the complete set of bindings. Copy it per model: the TUI toggles
// bindings with SetEnabled as its state changes, so a shared value would leak
// one model's state into another.
type KeyMap struct {
	Global Global
	List   List
	Alert  Alert
	Detail Detail
	Story  Story
	Prompt Prompt
	Scroll Scroll
	// Exception is the exception editor's and list's (off elsewhere).
	Exception Exception
}

// Default returns the standard bindings.
func Default() KeyMap {
	b := func(keys []string, help, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	// The views share their paging and search keys: one definition each,
	// so a key cannot mean one thing in the list and another in a pane.
	pageUp := func() key.Binding { return b([]string{"pgup", "ctrl+b"}, "pgup", "page up") }
	pageDown := func() key.Binding { return b([]string{"pgdown", "ctrl+f", "space"}, "pgdn", "page down") }
	top := func(desc string) key.Binding { return b([]string{"home", "g"}, "g/home", desc) }
	bottom := func(desc string) key.Binding { return b([]string{"end", "G"}, "G/end", desc) }
	up := func(desc string) key.Binding { return b([]string{"up", "k"}, "↑/k", desc) }
	down := func(desc string) key.Binding { return b([]string{"down", "j"}, "↓/j", desc) }
	nextTab := func(desc string) key.Binding { return b([]string{"tab", "right", "l"}, "tab/→", desc) }
	prevTab := func(desc string) key.Binding { return b([]string{"shift+tab", "left", "h"}, "⇧tab/←", desc) }
	search := func(desc string) key.Binding { return b([]string{"/"}, "/", desc) }
	nextMatch := func() key.Binding { return b([]string{"n"}, "n", "next match") }
	prevMatch := func() key.Binding { return b([]string{"N"}, "N", "previous match") }
	back := func(desc string) key.Binding { return b([]string{"esc", "backspace"}, "esc", desc) }
	return KeyMap{
		Global: Global{
			Quit:      b([]string{"q", "ctrl+c"}, "q", "quit (from any view; esc goes back)"),
			Help:      b([]string{"?"}, "?", "help"),
			Command:   b([]string{":"}, ":", "commands"),
			Responses: b([]string{"R"}, "R", "response log"),
		},
		List: List{
			Up:          up("up"),
			Down:        down("down"),
			PageUp:      pageUp(),
			PageDown:    pageDown(),
			Top:         top("newest"),
			Bottom:      bottom("oldest"),
			Open:        b([]string{"enter"}, "enter", "open alert"),
			Filter:      search("KQL filter"),
			Sort:        b([]string{"s"}, "s", "sort by next column"),
			SortReverse: b([]string{"S"}, "S", "reverse sort"),
			Pause:       b([]string{"p"}, "p", "pause live updates"),
			Export:      b([]string{"E"}, "E", "export visible NDJSON"),
			Exceptions:  b([]string{"X"}, "X", "exceptions: list, edit, delete, export"),
		},
		Alert: Alert{
			Ack:        b([]string{"a"}, "a", "acknowledge"),
			Close:      b([]string{"c"}, "c", "close"),
			Reopen:     b([]string{"o"}, "o", "reopen"),
			Copy:       b([]string{"y"}, "y", "copy JSON (OSC 52)"),
			CopyAll:    b([]string{"Y"}, "Y", "copy whole alert JSON"),
			Exception:  b([]string{"x"}, "x", "add exception (from the field)"),
			Kill:       b([]string{"K"}, "K", "kill process or login"),
			Evidence:   b([]string{"P"}, "P", "evidence bundle"),
			Quarantine: b([]string{"Q"}, "Q", "quarantine file (000)"),
			Recheck:    b([]string{"f"}, "f", "re-check file facts now"),
			Story:      b([]string{"t"}, "t", "tell the story"),
		},
		Detail: Detail{
			Back:        back("back to list"),
			NextTab:     nextTab("next tab"),
			PrevTab:     prevTab("previous tab"),
			Up:          up("previous field"),
			Down:        down("next field"),
			PageUp:      pageUp(),
			PageDown:    pageDown(),
			Top:         top("top"),
			Bottom:      bottom("bottom"),
			NextSection: b([]string{"]"}, "]", "next section"),
			PrevSection: b([]string{"["}, "[", "previous section"),
			Search:      search("search this tab"),
			NextMatch:   nextMatch(),
			PrevMatch:   prevMatch(),
		},
		Story: Story{
			Back:      back("back"),
			NextScope: nextTab("next scope"),
			PrevScope: prevTab("previous scope"),
			Up:        up("earlier event"),
			Down:      down("later event"),
			PageUp:    pageUp(),
			PageDown:  pageDown(),
			Top:       top("first event"),
			Bottom:    bottom("last event"),
			Search:    search("search"),
			NextMatch: nextMatch(),
			PrevMatch: prevMatch(),
			Wrap:      b([]string{"w"}, "w", "cut long lines"),
		},
		Scroll: Scroll{
			Up:       up("scroll up"),
			Down:     down("scroll down"),
			PageUp:   pageUp(),
			PageDown: pageDown(),
		},
		Exception: Exception{
			Up:       b([]string{"up"}, "↑", "previous line"),
			Down:     b([]string{"down"}, "↓", "next line"),
			Change:   b([]string{"right"}, "→", "next field / operator"),
			ChangeBk: b([]string{"left"}, "←", "previous field / operator"),
			AddEntry: b([]string{"ctrl+n"}, "ctrl+n", "add an entry (AND)"),
			DelEntry: b([]string{"ctrl+x"}, "ctrl+x", "delete the entry"),
			Toggle:   b([]string{"space"}, "space", "toggle option"),
			Save:     b([]string{"enter"}, "enter", "save"),
			Cancel:   b([]string{"esc"}, "esc", "cancel / close"),
			Edit:     b([]string{"enter"}, "enter", "edit"),
			Delete:   b([]string{"d"}, "d", "delete"),
			Export:   b([]string{"E"}, "E", "export as Kibana NDJSON"),
		},
		Prompt: Prompt{
			Apply:    b([]string{"enter"}, "enter", "apply"),
			Cancel:   b([]string{"esc"}, "esc", "cancel"),
			Confirm:  b([]string{"enter"}, "enter", "yes"),
			Deny:     b([]string{"n", "esc"}, "n/esc", "no"),
			Complete: b([]string{"tab"}, "tab", "complete field or command"),
			Older:    b([]string{"up"}, "↑", "older entry (history)"),
			Newer:    b([]string{"down"}, "↓", "newer entry"),
			Erase:    b([]string{"backspace"}, "backspace", "erase"),
			Clear:    b([]string{"ctrl+u"}, "ctrl+u", "clear the line"),

			KillProcess: b([]string{"p"}, "p", "end the process"),
			KillSession: b([]string{"s"}, "s", "end the login session"),
		},
	}
}

// Group is a titled set of bindings shown together in the help view.
type Group struct {
	Title    string
	Bindings []key.Binding
}

// Groups returns the bindings in help order. Disabled bindings are left
// out so help only lists keys that currently do something.
func (k KeyMap) Groups() []Group {
	all := []Group{
		{"Global", []key.Binding{k.Global.Help, k.Global.Responses, k.Global.Quit, k.Global.Command}},
		{"List", []key.Binding{k.List.Up, k.List.Down, k.List.PageUp, k.List.PageDown, k.List.Top, k.List.Bottom, k.List.Open, k.List.Filter, k.List.Sort, k.List.SortReverse, k.List.Pause, k.List.Export, k.List.Exceptions}},
		{"Alert", []key.Binding{k.Alert.Ack, k.Alert.Close, k.Alert.Reopen, k.Alert.Copy, k.Alert.CopyAll, k.Alert.Exception, k.Alert.Kill, k.Alert.Evidence, k.Alert.Quarantine, k.Alert.Recheck, k.Alert.Story}},
		{"Exception", []key.Binding{k.Exception.Up, k.Exception.Down, k.Exception.Change, k.Exception.ChangeBk, k.Exception.AddEntry, k.Exception.DelEntry, k.Exception.Toggle, k.Exception.Save, k.Exception.Edit, k.Exception.Delete, k.Exception.Export, k.Exception.Cancel}},
		{"Detail", []key.Binding{k.Detail.Back, k.Detail.NextTab, k.Detail.PrevTab, k.Detail.Up, k.Detail.Down, k.Detail.PageUp, k.Detail.PageDown, k.Detail.Top, k.Detail.Bottom, k.Detail.NextSection, k.Detail.PrevSection, k.Detail.Search, k.Detail.NextMatch, k.Detail.PrevMatch}},
		{"Story", []key.Binding{k.Story.Back, k.Story.NextScope, k.Story.PrevScope, k.Story.Up, k.Story.Down, k.Story.PageUp, k.Story.PageDown, k.Story.Top, k.Story.Bottom, k.Story.Search, k.Story.NextMatch, k.Story.PrevMatch, k.Story.Wrap}},
		{"Prompts (/ : and dialogs)", []key.Binding{k.Prompt.Apply, k.Prompt.Cancel, k.Prompt.Complete, k.Prompt.Older, k.Prompt.Newer, k.Prompt.Erase, k.Prompt.Clear, k.Prompt.Confirm, k.Prompt.Deny}},
	}
	out := all[:0]
	for _, g := range all {
		var on []key.Binding
		for _, b := range g.Bindings {
			if b.Enabled() {
				on = append(on, b)
			}
		}
		if len(on) > 0 {
			out = append(out, Group{g.Title, on})
		}
	}
	return out
}
