// Package exceptions holds Kibana rule exceptions: it reads and writes
// Kibana's exception-list export (NDJSON) and decides, with Kibana's
// semantics, whether an exception item excepts an event.
//
// Entries of one item are AND-ed, items are OR-ed, and an event that any
// live item matches is left out of detection, history included.
package exceptions

import (
	"strings"
	"time"
)

// Entry operators: included keeps the entry's sense, excluded negates it
// (Kibana's "is not", "is not one of", "does not match", "does not exist").
const (
	OperatorIncluded = "included"
	OperatorExcluded = "excluded"
)

// Entry types, as Kibana names them.
const (
	TypeMatch    = "match"     // is / is not
	TypeMatchAny = "match_any" // is one of / is not one of
	TypeWildcard = "wildcard"  // matches / does not match
	TypeExists   = "exists"    // exists / does not exist
	TypeNested   = "nested"    // a group under one parent object
	TypeList     = "list"      // is in list / is not in list (value lists)
)

// DefaultListID is the list that exceptions added in xferhunt belong to when
// no list was loaded.
const DefaultListID = "xferhunt-exceptions"

// List is the content of one export file: its list objects, its items and
// what loading had to say about them. It is not safe for concurrent use
// while it is being changed: to add an item while detection reads the
// list, Add to a Clone and swap the pointer.
type List struct {
	Lists    []ListInfo
	Items    []Item
	Warnings []string
}

// ListInfo is an exception list object (the container items point at).
// Fields xferhunt does not use are kept and written back by Export.
type ListInfo struct {
	ListID        string
	Name          string
	Description   string
	Type          string // "detection", "endpoint", "rule_default" …
	NamespaceType string // "single" or "agnostic"

	raw map[string]any
}

// Item is one exception item. Fields xferhunt does not use (comments,
// tags, timestamps …) are kept and written back by Export.
type Item struct {
	ID            string // item_id
	ListID        string
	Name          string
	Description   string
	NamespaceType string
	Entries       []Entry
	// Expire is when the item stops applying; zero means never.
	Expire time.Time
	// OSTypes limits the item to hosts of these OS types ("linux" …).
	OSTypes []string
	// Unsupported says why Match ignores the item ("" when it is used).
	// Value-list entries need Kibana's list index, which xferhunt does not
	// have; Kibana likewise skips items it cannot process.
	Unsupported string

	raw map[string]any
}

// Entry is one condition of an item.
type Entry struct {
	Field    string
	Operator string // OperatorIncluded or OperatorExcluded; empty for nested
	Type     string
	// Value is a string for match and wildcard, a []string for match_any,
	// and nil for exists, nested and list.
	Value any
	// Entries are a nested entry's conditions, with fields relative to
	// Field; one element of the parent array must satisfy them all.
	Entries []Entry
	// List names the value list of a list entry.
	List *ValueList
}

// Values is what a match, wildcard or match_any entry compares against:
// its one string (held in *one, so a hot match allocates nothing for it)
// or its list, shared with the entry; nil for other entries.
func (e *Entry) Values(one *[1]string) []string {
	switch v := e.Value.(type) {
	case string:
		one[0] = v
		return one[:]
	case []string:
		return v
	}
	return nil
}

// ValueText is the entry's value as people read and type it: the string,
// or the list joined with ", "; ok is false for entries without one.
func (e *Entry) ValueText() (text string, ok bool) {
	switch v := e.Value.(type) {
	case string:
		return v, true
	case []string:
		return strings.Join(v, ", "), true
	}
	return "", false
}

// ValueList references a Kibana value list.
type ValueList struct {
	ID   string
	Type string // "keyword", "ip", "ip_range" …
}

// Live reports whether the item applies at now: it is usable and has not
// expired (Kibana drops items whose expire_time is before the run start).
func (it *Item) Live(now time.Time) bool {
	return it.Unsupported == "" && (it.Expire.IsZero() || !it.Expire.Before(now))
}

// Clone returns a copy whose Items, Lists and Warnings can be changed
// without touching l. Entries are shared: they are not changed in place.
func (l *List) Clone() *List {
	return &List{
		Lists:    append([]ListInfo(nil), l.Lists...),
		Items:    append([]Item(nil), l.Items...),
		Warnings: append([]string(nil), l.Warnings...),
	}
}

// Expired lists the items that have expired at now, for display.
func (l *List) Expired(now time.Time) []*Item {
	var out []*Item
	for i := range l.Items {
		if e := l.Items[i].Expire; !e.IsZero() && e.Before(now) {
			out = append(out, &l.Items[i])
		}
	}
	return out
}
