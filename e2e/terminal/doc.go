// Package terminal is the real-terminal acceptance test of the xferhunt TUI:
// the built binary runs inside a private tmux server, is fed an auditd log
// that grows while it runs, and is driven with keys; every assertion is made
// on what tmux actually drew (capture-pane) and on the pane's title, so
// rendering, key handling and the sanitizing of hostile file names are
// checked end to end, as a user's terminal would see them.
//
// The package holds tests only; run them with `go test ./e2e/terminal`
// (XFERHUNT_E2E_BIN=path tests a prebuilt binary instead of building one).
// They need tmux but not root; without tmux they skip unless
// XFERHUNT_E2E=1, which turns the missing prerequisite into a failure.
package terminal
