package exceptions

import (
	"strings"
	"time"

	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/ecs"
)

// Match returns the first live item that excepts d. Items are OR-ed, so the
// first one is enough; it is returned so the caller can say which exception
// hid an event.
func (l *List) Match(d ecs.Doc, now time.Time) (item *Item, ok bool) {
	if l == nil {
		return nil, false
	}
	for i := range l.Items {
		it := &l.Items[i]
		if it.Live(now) && it.Excepts(d) {
			return it, true
		}
	}
	return nil, false
}

// MatchIn is Match over the items of the lists applies accepts (by list_id):
// the lists attached to one rule.
func (l *List) MatchIn(d ecs.Doc, now time.Time, applies func(listID string) bool) (item *Item, ok bool) {
	if l == nil {
		return nil, false
	}
	for i := range l.Items {
		it := &l.Items[i]
		if it.Live(now) && applies(it.ListID) && it.Excepts(d) {
			return it, true
		}
	}
	return nil, false
}

// ExceptedUntil reports whether a live item of the lists applies accepts
// excepts d at now, and until when: the latest expiry among the items that
// do, or the zero time when one of them never expires.
func (l *List) ExceptedUntil(d ecs.Doc, now time.Time, applies func(listID string) bool) (until time.Time, ok bool) {
	if l == nil {
		return time.Time{}, false
	}
	for i := range l.Items {
		it := &l.Items[i]
		if !it.Live(now) || !applies(it.ListID) || !it.Excepts(d) {
			continue
		}
		if it.Expire.IsZero() {
			return time.Time{}, true
		}
		if !ok || it.Expire.After(until) {
			until = it.Expire
		}
		ok = true
	}
	return until, ok
}

// Excepts reports whether every entry of the item holds on d and, when the
// item names OS types, d comes from one of them. It ignores expiry and
// support: Match checks those.
func (it *Item) Excepts(d ecs.Doc) bool {
	if len(it.Entries) == 0 {
		// Kibana refuses items without entries; never let one hide everything.
		return false
	}
	if len(it.OSTypes) > 0 && !osMatches(d, it.OSTypes) {
		return false
	}
	for i := range it.Entries {
		if !it.Entries[i].Holds(d) {
			return false
		}
	}
	return true
}

// osMatches mirrors Kibana's expansion of os_types into
// host.os.type == os OR host.os.name.caseless == os. Beats fill host.os.type;
// Elastic Defend fills host.os.name, whose .caseless sub-field is a
// lowercased copy, so a case-insensitive compare stands in for it.
func osMatches(d ecs.Doc, osTypes []string) bool {
	for _, os := range osTypes {
		exact := func(v string) bool { return v == os }
		fold := func(v string) bool { return strings.EqualFold(v, os) }
		if anyKeyword(d, "host.os.type", exact) ||
			anyKeyword(d, "host.os.name.caseless", fold) ||
			anyKeyword(d, "host.os.name", fold) {
			return true
		}
	}
	return false
}

// anyKeyword reports whether any indexed keyword value of field satisfies
// f. It is ecs.Doc.Keywords without building the result slice, since Match
// runs on every event.
func anyKeyword(d ecs.Doc, field string, f func(string) bool) bool {
	for _, v := range d.Values(field) {
		s, ok := ecs.Keyword(v)
		if ok && len(s) <= ecs.IgnoreAbove && f(s) {
			return true
		}
	}
	return false
}

// Holds reports whether the entry is satisfied by d, with keyword
// semantics: any value of an array field may satisfy an included entry,
// none may for an excluded one, and a missing field satisfies every
// excluded entry ("is not x" is true when there is no value at all).
func (e *Entry) Holds(d ecs.Doc) bool {
	if e.Type == TypeNested {
		return e.nestedHolds(d)
	}
	in := e.includedHolds(d)
	if e.Operator == OperatorExcluded {
		return !in
	}
	return in
}

func (e *Entry) includedHolds(d ecs.Doc) bool {
	switch e.Type {
	case TypeMatch, TypeMatchAny:
		if holds, handled := typedHolds(e, d); handled {
			return holds
		}
	case TypeWildcard:
		if fieldType(e.Field) == kql.CaselessKeyword {
			pat, _ := e.Value.(string)
			return caselessWildcard(d, e.Field, pat)
		}
	}
	switch e.Type {
	case TypeExists:
		return anyKeyword(d, e.Field, func(string) bool { return true }) || objectHasValue(d, e.Field)
	case TypeMatch:
		want, _ := e.Value.(string)
		return anyKeyword(d, e.Field, func(v string) bool { return v == want })
	case TypeMatchAny:
		set, _ := e.Value.([]string)
		return anyKeyword(d, e.Field, func(v string) bool {
			for _, w := range set {
				if v == w {
					return true
				}
			}
			return false
		})
	case TypeWildcard:
		pat, _ := e.Value.(string)
		return anyKeyword(d, e.Field, func(v string) bool { return WildcardMatch(pat, v) })
	}
	// List entries never get here (their items are unsupported), and an
	// unknown type is refused by Load; both count as not matching.
	return false
}

// nestedHolds requires one element of the parent object array to satisfy
// all child entries, as Elasticsearch's nested query does.
func (e *Entry) nestedHolds(d ecs.Doc) bool {
	for _, elem := range d.Objects(e.Field) {
		all := true
		for i := range e.Entries {
			if !e.Entries[i].Holds(elem) {
				all = false
				break
			}
		}
		if all && len(e.Entries) > 0 {
			return true
		}
	}
	return false
}
