package pipeline

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/exceptions"
	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/detect/rules"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/enrich"
	"github.com/xferhunt/xferhunt/internal/liveness"
	"github.com/xferhunt/xferhunt/state"
	"github.com/xferhunt/xferhunt/story"
)

// kqlMatcher adapts a compiled KQL query to detect.Matcher, which keeps the
// detection core free of the query language.
type kqlMatcher struct{ q *kql.Query }

func (m kqlMatcher) Match(d ecs.Doc) bool { return m.q.Match(d) }

// ReadFields lists the fields the query reads (detect.FieldReader): all
// of them by name unless it has free text, field-name wildcards or a
// nested query. A nested query (f:{ a:x }) needs one object at f to pass
// on its own: it reads objects, and a sparse document need not hold them
// (auditd's holds the values at dotted paths, "f.a", in one flat map), so
// it would match no sparse document and lose the alerts of whole ones.
func (m kqlMatcher) ReadFields() ([]string, bool) {
	sh := m.q.Shape()
	if sh.FreeText || sh.Nested {
		return nil, false
	}
	for _, f := range sh.Fields {
		if strings.Contains(f, "*") {
			return nil, false
		}
	}
	return sh.Fields, true
}

func (m kqlMatcher) Explain(d ecs.Doc) []detect.Clause {
	cs := m.q.Explain(d)
	out := make([]detect.Clause, len(cs))
	for i, c := range cs {
		out[i] = detect.Clause{Text: c.Text, Matched: c.Matched}
	}
	return out
}

// loadRules loads and compiles every --rule; any failure is a usage error
// naming the rule and the reason. A group ("coverage") stands for its
// rules, and a built-in rule named twice (`--rule coverage --rule
// coverage-rsync`) is loaded once. Companion rules (upload-exec,
// coverage-shell-pipe) are returned apart: they run over story events,
// not as KQL.
func loadRules(names []string) (specs []detect.RuleSpec, companions []*rules.Rule, err error) {
	loaded := map[string]bool{}
	for _, name := range names {
		rs, err := rules.LoadAll(name)
		if err != nil {
			return nil, nil, usage(err)
		}
		for _, r := range rs {
			if loaded[r.Source] && slices.Contains(rules.Builtin(), r.Source) {
				continue
			}
			loaded[r.Source] = true
			if r.Companion != "" {
				companions = append(companions, r)
				continue
			}
			q, err := kql.ParseMapped(r.Query)
			if err != nil {
				return nil, nil, usage(fmt.Errorf("rule %s (%s): query: %w", r.Name, r.Source, err))
			}
			specs = append(specs, detect.RuleSpec{Rule: r, Query: kqlMatcher{q}})
		}
	}
	return specs, companions, nil
}

// setup is what every command that detects needs: rules, exceptions,
// state and the engine built on them.
type setup struct {
	specs []detect.RuleSpec
	// companions evaluate the companion rules asked for (--rule
	// upload-exec, --rule coverage …) over story events.
	companions []detect.Companion
	// chain is the upload-exec companion among them, when asked for: the
	// seed alerts of uploads are noted to it.
	chain *detect.Chain
	// directories says a loaded rule needs directory creations recorded.
	directories bool
	// stories keeps the events of live runs for the story view.
	stories *story.Store
	// journal keeps alerts and story events in the state store (live runs
	// with a state directory); nil otherwise.
	journal *journal
	// restored is what the journal held at start.
	restored restored
	// recorded says the events are a recording (the demo's replay), not
	// this host now: nothing about them may come from this host's /proc
	// or files, and no action may target this host's processes or files.
	recorded bool
	// here is this host for the live verdict (internal/liveness): set by
	// live runs only, so every alert of a recording or an offline command
	// is refused every action on the host.
	here liveness.Host
	// readOnly is --readonly: no action changes the host.
	readOnly bool
	// responder is the footprint of who runs xferhunt here (live runs on
	// this host only; nil for recordings and offline scans).
	responder *responder
	// enrichOpt configures the enricher of live runs (tests shorten its
	// waits; the zero value is the product's defaults).
	enrichOpt enrich.Options
	exc       *exceptions.List
	// fileExc is what --exceptions loaded (nil without it); exc is it
	// plus the exceptions saved from the TUI.
	fileExc *exceptions.List
	scope   *listScope // which exception lists apply to which rule
	store   *state.Store
	engine  *detect.Engine
	// dropHistory: Close does not write the term history still buffered
	// (a scan whose alerts could not be written).
	dropHistory bool
}

func (s *setup) Close() error {
	if s.engine != nil && !s.dropHistory {
		if err := s.engine.Flush(); err != nil {
			_ = s.store.Close()
			return fmt.Errorf("save term history: %w", err)
		}
	}
	if s.store != nil {
		return s.store.Close()
	}
	return nil
}

func newSetup(cfg *Config) (*setup, error) {
	specs, companions, err := loadRules(cfg.Rules)
	if err != nil {
		return nil, err
	}
	s := &setup{specs: specs, stories: story.NewStore(cfg.StoryBudget), readOnly: cfg.ReadOnly}
	for _, r := range companions {
		c := detect.NewCompanion(r)
		if c == nil {
			continue
		}
		s.companions = append(s.companions, c)
		if ch, ok := c.(*detect.Chain); ok {
			s.chain = ch
		}
	}
	for _, sp := range specs {
		s.directories = s.directories || sp.Rule.Directories
	}
	if cfg.Exceptions != "" {
		l, err := exceptions.LoadFile(cfg.Exceptions)
		if err != nil {
			return nil, usage(err)
		}
		for _, w := range l.Warnings {
			fmt.Fprintf(cfg.Stderr, "xferhunt: exceptions %s: %s\n", cfg.Exceptions, w)
		}
		s.exc = l
	}
	if cfg.Ephemeral {
		s.store = state.OpenMemory()
	} else {
		st, err := openState(cfg)
		if err != nil {
			return nil, err
		}
		s.store = st
	}
	// Exceptions added in the TUI earlier live in the state store. The
	// file's list is kept apart, unchanged: the TUI edits only its own.
	s.fileExc = s.exc
	if s.exc != nil {
		s.exc = s.exc.Clone()
	}
	if s.exc, err = loadStoredExceptions(s.store, s.exc); err != nil {
		_ = s.store.Close()
		return nil, err
	}
	var exc detect.Excepter
	s.scope = newListScope(specs, s.exc)
	if s.exc != nil {
		s.scope.warnUnapplied(cfg.Stderr, cfg.Exceptions, specs, s.exc)
		exc = excepter{s.exc, s.scope}
	}
	var hist detect.HistoryStore
	if !cfg.Ephemeral {
		hist = s.store
	}
	eng, err := detect.NewEngine(specs, hist, exc, detect.Options{
		HistoryWindow:  cfg.HistoryWindow,
		NewTermsFields: cfg.NewTermsFields,
		// A scan judges new_terms over its whole input, order free; the
		// companions (upload-exec) need the seed alerts as they happen.
		Offline: cfg.orderFree && len(s.companions) == 0,
	})
	if err != nil {
		_ = s.store.Close()
		return nil, usage(err)
	}
	s.engine = eng
	return s, nil
}

// openState opens the state directory; with --state-repair a damaged
// database is set aside (kept for a post-mortem, named on stderr) and a
// fresh one started. Without it the damage is the one-line error.
func openState(cfg *Config) (*state.Store, error) {
	st, err := state.Open(cfg.StatePath())
	if !errors.Is(err, state.ErrDamaged) || !cfg.StateRepair {
		return st, err
	}
	moved, serr := state.SetAside(cfg.StatePath())
	if serr != nil {
		return nil, fmt.Errorf("%w (and --state-repair failed: %w)", err, serr)
	}
	fmt.Fprintf(cfg.Stderr, "xferhunt: --state-repair: damaged %s set aside as %s; starting with empty state\n", state.DBFile, moved)
	return state.Open(cfg.StatePath())
}
