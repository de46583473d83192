package pipeline

import (
	"fmt"

	"github.com/xferhunt/xferhunt/detect/kql"
	"github.com/xferhunt/xferhunt/detect/rules"
)

// ListRules is `xferhunt rules`: each rule's description and whether its
// query parses; a group (coverage) lists each of its rules. A rule that does not load or parse still gets listed, and
// the command then exits 2, so a CI check can use it to validate rule files.
func ListRules(cfg Config) error {
	var bad error
	var names []string
	for _, n := range cfg.Rules {
		names = append(names, rules.Expand(n)...)
	}
	for i, name := range names {
		if i > 0 {
			fmt.Fprintln(cfg.Stdout)
		}
		r, err := rules.Load(name)
		if err != nil {
			fmt.Fprintf(cfg.Stdout, "%s\n  %-15s no: %v\n", name, "loads:", err)
			if bad == nil {
				bad = usage(err)
			}
			continue
		}
		if len(cfg.NewTermsFields) > 0 {
			r.SetNewTermsFields(cfg.NewTermsFields)
		}
		if cfg.HistoryWindow > 0 {
			r.SetHistoryWindow(cfg.HistoryWindow)
		}
		if err := r.Validate(); err != nil {
			fmt.Fprintf(cfg.Stdout, "%s\n  %-15s no: %v\n", name, "valid:", err)
			if bad == nil {
				bad = usage(err)
			}
			continue
		}
		fmt.Fprint(cfg.Stdout, rules.Describe(r))
		if r.Companion != "" {
			// The EQL documents the join; xferhunt runs it in Go over
			// story events (execs, renames, chmods), not as a query.
			fmt.Fprintf(cfg.Stdout, "  %-15s built-in companion, evaluated over story events (opt-in: --rule %s)\n", "runs as:", r.Companion)
			continue
		}
		if _, err := kql.ParseMapped(r.Query); err != nil {
			fmt.Fprintf(cfg.Stdout, "  %-15s no: %v\n", "parses:", err)
			if bad == nil {
				bad = usage(fmt.Errorf("rule %s (%s): query: %w", r.Name, r.Source, err))
			}
			continue
		}
		fmt.Fprintf(cfg.Stdout, "  %-15s yes\n", "parses:")
	}
	return bad
}
