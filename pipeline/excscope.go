package pipeline

import (
	"fmt"
	"io"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/exceptions"
	"github.com/xferhunt/xferhunt/ecs"
)

// listScope decides which exception lists apply to which rule. Kibana
// applies to a rule only the lists attached to it (its exceptions_list);
// a Kibana export may hold several lists (a rule's list beside Elastic
// Defend's trusted applications, which the endpoint applies, never a
// detection rule). xferhunt's equivalent:
//   - a rule with an exceptions_list gets exactly those lists, plus
//     xferhunt's own (exceptions.DefaultListID, where TUI exceptions go
//     when no list was loaded);
//   - a rule without one gets every list given to xferhunt, which is how a
//     rule's exported list is passed (--exceptions), except the Elastic
//     Defend artifact lists, which apply to no detection rule unless it
//     names them.
type listScope struct {
	refs  map[string]map[string]bool // rule_id → its exceptions_list ids; absent: none
	types map[string]string          // list_id → list type, from the loaded files
}

// newListScope reads the rules' exceptions_list and the lists' types.
func newListScope(specs []detect.RuleSpec, l *exceptions.List) *listScope {
	s := &listScope{refs: map[string]map[string]bool{}, types: map[string]string{}}
	for _, sp := range specs {
		if len(sp.Rule.ExceptionsList) == 0 {
			continue
		}
		m := map[string]bool{}
		for _, x := range sp.Rule.ExceptionsList {
			m[x.ListID] = true
		}
		s.refs[sp.Rule.RuleID] = m
	}
	if l != nil {
		for _, li := range l.Lists {
			s.types[li.ListID] = li.Type
		}
	}
	return s
}

// endpointArtifact says the list is one of Elastic Defend's own (applied by
// the endpoint or by the Endpoint Security rule), by list type or by the
// fixed list_id Kibana gives it.
func endpointArtifact(listID, typ string) bool {
	switch typ {
	case "endpoint", "endpoint_trusted_apps", "endpoint_events", "endpoint_host_isolation_exceptions", "endpoint_blocklists":
		return true
	}
	switch listID {
	case "endpoint_list", "endpoint_trusted_apps", "endpoint_event_filters", "endpoint_host_isolation_exceptions", "endpoint_blocklists":
		return true
	}
	return false
}

// applies reports whether the items of listID except ruleID's events.
func (s *listScope) applies(ruleID, listID string) bool {
	if refs, ok := s.refs[ruleID]; ok {
		return refs[listID] || listID == exceptions.DefaultListID
	}
	return !endpointArtifact(listID, s.types[listID])
}

// warnUnapplied names on w the loaded lists no rule gets, so an export
// whose items silently apply to nothing is visible.
func (s *listScope) warnUnapplied(w io.Writer, file string, specs []detect.RuleSpec, l *exceptions.List) {
	if l == nil {
		return
	}
	for _, li := range l.Lists {
		used := false
		for _, sp := range specs {
			used = used || s.applies(sp.Rule.RuleID, li.ListID)
		}
		if !used {
			fmt.Fprintf(w, "xferhunt: exceptions %s: list %q (type %q) is attached to no loaded rule: not applied\n", file, li.ListID, li.Type)
		}
	}
}

// excepter adapts an exception list to detect.RuleExcepter.
type excepter struct {
	l     *exceptions.List
	scope *listScope // nil: every item applies to every rule
}

// Match applies every live item (no rule asking).
func (e excepter) Match(d ecs.Doc, now time.Time) (string, bool) {
	it, ok := e.l.Match(d, now)
	if !ok {
		return "", false
	}
	return it.ID, true
}

// ExceptedUntil says until when ruleID's live items except d (zero: for
// good), for offline judgement of expiring exceptions.
func (e excepter) ExceptedUntil(ruleID string, d ecs.Doc, now time.Time) (time.Time, bool) {
	applies := func(string) bool { return true }
	if e.scope != nil {
		applies = func(listID string) bool { return e.scope.applies(ruleID, listID) }
	}
	return e.l.ExceptedUntil(d, now, applies)
}

// MatchRule applies the live items of the lists attached to ruleID.
func (e excepter) MatchRule(ruleID string, d ecs.Doc, now time.Time) (string, bool) {
	if e.scope == nil {
		return e.Match(d, now)
	}
	it, ok := e.l.MatchIn(d, now, func(listID string) bool { return e.scope.applies(ruleID, listID) })
	if !ok {
		return "", false
	}
	return it.ID, true
}
