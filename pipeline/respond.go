package pipeline

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/internal/liveness"
	"github.com/xferhunt/xferhunt/respond"
	"github.com/xferhunt/xferhunt/story"
)

// Evidence is `xferhunt evidence ALERT_ID [--tar]`: the evidence bundle of
// an alert a live run kept in --state (its journal), made headless, with
// the same checks as P in the TUI (live on this host and boot, the file
// still the event's inode, --readonly refuses) and logged in the response
// log. id may be a unique prefix of the uuid (at least 8 characters). It
// prints the bundle's directory (and tar) on stdout.
func Evidence(cfg Config, id string, tarToo bool) error {
	if cfg.ReadOnly {
		return usage(respond.ErrReadOnly)
	}
	if cfg.Ephemeral {
		return usage(errors.New("evidence reads the alerts live runs kept in --state; --ephemeral has none"))
	}
	if len(id) < 8 || strings.ContainsAny(id, "/\x00") {
		return usage(fmt.Errorf("alert id %q: give the alert's kibana.alert.uuid (at least 8 characters of it)", id))
	}
	st, err := openState(&cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	stories := story.NewStore(cfg.StoryBudget)
	r, err := restore(st, stories, nil)
	if err != nil {
		return err
	}
	var found []detect.Alert
	for _, a := range r.alerts {
		if strings.HasPrefix(a.ID(), id) && (len(found) == 0 || found[len(found)-1].ID() != a.ID()) {
			found = append(found, a)
		}
	}
	switch len(found) {
	case 0:
		return usage(fmt.Errorf("no alert %s in the state's journal (%s)", id, st.Dir()))
	case 1:
	default:
		return usage(fmt.Errorf("alert id %s names %d alerts: give more of it", id, len(found)))
	}
	a := found[0]
	here := liveness.Host{ID: cfg.hostID(), Boot: liveness.BootID()}
	if why := here.Check(liveness.Read(a.Doc)); why != "" {
		err := errors.New(why)
		_ = respond.Log(st, respond.Entry{Action: respond.ActionEvidence, Alert: a.ID(), Target: a.Doc.Str("file.path"), Result: err.Error()})
		return err
	}
	bun, err := respond.MakeBundle(filepath.Join(st.Dir(), "evidence"), bundleInput(a, stories, tarToo))
	if err != nil {
		_ = respond.Log(st, respond.Entry{Action: respond.ActionEvidence, Alert: a.ID(), Target: a.Doc.Str("file.path"), Result: err.Error()})
		return err
	}
	if !bun.Existing {
		if err := respond.Log(st, respond.Entry{Action: respond.ActionEvidence, Alert: a.ID(), Target: a.Doc.Str("file.path"), OK: true, Result: bun.Summary()}); err != nil {
			fmt.Fprintf(cfg.Stderr, "xferhunt evidence: not logged: %v\n", err)
		}
	}
	fmt.Fprintln(cfg.Stderr, "xferhunt evidence: "+bun.Summary())
	fmt.Fprintln(cfg.Stdout, bun.Dir)
	if bun.Tar != "" {
		fmt.Fprintln(cfg.Stdout, bun.Tar)
	}
	return nil
}

// Responses is `xferhunt responses`: the response log kept in --state,
// oldest first, one action a line (the caller escapes it).
func Responses(cfg Config) error {
	if cfg.Ephemeral {
		return usage(errors.New("responses reads the log live runs kept in --state; --ephemeral keeps none"))
	}
	st, err := openState(&cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	es, err := respond.Entries(st)
	if err != nil {
		return err
	}
	for _, e := range es {
		fmt.Fprintln(cfg.Stdout, e.String())
	}
	return nil
}
