package pipeline

import "errors"

// errNotBuilt reports a command whose pipeline is not in this build yet.
var errNotBuilt = errors.New("not available in this build yet")

// Live is the live run (TUI, or --headless).
func Live(cfg Config) error { return errNotBuilt }

// Demo is `xferhunt demo`.
func Demo(cfg Config) error { return errNotBuilt }
