package pipeline

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"time"

	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/story"
)

// StoryQuery is what `xferhunt story` selects and how it prints.
type StoryQuery struct {
	Session  int64 // -1: not asked
	IP, User string
	File     string
	PID      int
	Format   string // "text" (default) or "ndjson"
}

// NewStoryQuery returns a query that selects nothing yet.
func NewStoryQuery() StoryQuery { return StoryQuery{Session: -1, Format: "text"} }

// scope checks that exactly one selector was given and returns it.
func (q StoryQuery) scope() (story.Scope, error) {
	var scs []story.Scope
	if q.Session >= 0 {
		scs = append(scs, story.Scope{Kind: story.BySession, Session: q.Session})
	}
	if q.IP != "" {
		a, err := netip.ParseAddr(q.IP)
		if err != nil {
			return story.Scope{}, fmt.Errorf("--ip %q is not an IP address", q.IP)
		}
		scs = append(scs, story.Scope{Kind: story.ByAddr, Addr: a.String()})
	}
	if q.User != "" {
		scs = append(scs, story.Scope{Kind: story.ByUser, User: q.User})
	}
	if q.File != "" {
		if !path.IsAbs(q.File) {
			return story.Scope{}, fmt.Errorf("--file %q must be an absolute path", q.File)
		}
		scs = append(scs, story.Scope{Kind: story.ByFile, File: path.Clean(q.File)})
	}
	if q.PID > 0 {
		scs = append(scs, story.Scope{Kind: story.ByProcess, PID: q.PID})
	}
	switch len(scs) {
	case 0:
		return story.Scope{}, errors.New("story needs one selector: --session N, --ip ADDR, --user NAME, --file PATH or --pid N")
	case 1:
		return scs[0], nil
	}
	return story.Scope{}, errors.New("story takes one selector at a time (--session, --ip, --user, --file or --pid)")
}

// Story is `xferhunt story`: every input read as `scan` reads it, with the
// context events a story needs, kept in an event store; then the selected
// story printed in time order. The rules run too, in memory only (the
// state store is not touched), so the events that raised an alert within
// these inputs are marked.
func Story(cfg Config, q StoryQuery, paths []string) error {
	sc, err := q.scope()
	if err != nil {
		return usage(err)
	}
	if q.Format != "text" && q.Format != "ndjson" {
		return usage(fmt.Errorf("--format %q: want text or ndjson", q.Format))
	}
	if len(paths) == 0 {
		return storyFromState(cfg, q, sc)
	}
	inputs, err := openInputs(paths)
	defer closeInputs(inputs)
	if err != nil {
		return err
	}
	cfg.Ephemeral = true
	s, err := newSetup(&cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	feed := &storyFeed{store: s.stories, companions: s.companions, chain: s.chain}
	opt := sources.ScanOptions{
		HostID:   cfg.hostID(),
		HostName: hostName(),
		Story:    true,
		Emit:     func(ev sources.Event) { feed.process(s.engine, ev, false) },
	}
	var readErr error
	for _, in := range inputs {
		if _, err := in.Scan(opt); err != nil && readErr == nil {
			readErr = err
		}
	}
	// The alerts max_signals still defers are raised at the end of the
	// input, as scan raises them: their events are marked too.
	feed.released(s.engine.Drain())
	return printStory(cfg, q, sc, feed.store, readErr)
}

// storyFromState tells a story from what live runs kept in the state
// directory (their journal of events), for a run that has stopped: a
// running one holds the directory, and its TUI tells stories itself.
func storyFromState(cfg Config, q StoryQuery, sc story.Scope) error {
	if cfg.Ephemeral {
		return usage(errors.New("story without PATH reads the events live runs kept in --state; --ephemeral has none"))
	}
	st, err := openState(&cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	store := story.NewStore(cfg.StoryBudget)
	r, err := restore(st, store, nil)
	if err != nil {
		return err
	}
	if r.skipped > 0 {
		fmt.Fprintf(cfg.Stderr, "xferhunt story: %d records of the state's journal could not be read and were skipped\n", r.skipped)
	}
	return printStory(cfg, q, sc, store, nil)
}

// printStory prints the story of sc; nothing held is a usage error (exit 2).
func printStory(cfg Config, q StoryQuery, sc story.Scope, store *story.Store, readErr error) error {
	evs := store.Story(sc)
	if sc.Kind == story.BySession {
		if starts := store.Logins(sc.Session); len(starts) > 1 {
			fmt.Fprintf(cfg.Stderr, "xferhunt story: session id %d was used by %d logins (ids restart at boot); this is the newest, which began %s\n",
				sc.Session, len(starts), time.UnixMilli(starts[len(starts)-1]).UTC().Format(time.RFC3339Nano))
		}
	}
	if st := store.Stats(); st.Evicted > 0 {
		fmt.Fprintf(cfg.Stderr, "xferhunt story: the event store's budget (%d bytes) held the newest %d events; %d older ones were evicted (raise --story-budget)\n",
			st.Budget, st.Events, st.Evicted)
	}
	if len(evs) == 0 {
		if readErr != nil {
			return readErr
		}
		return usage(fmt.Errorf("no events of %s in the inputs", sc))
	}
	var err error
	if q.Format == "ndjson" {
		err = story.WriteNDJSON(cfg.Stdout, evs)
	} else {
		err = story.WriteText(cfg.Stdout, sc, evs)
	}
	if err != nil {
		return fmt.Errorf("write story: %w", err)
	}
	return readErr
}
