// Package respond is what xferhunt does to the host on a responder's
// behalf, and the record of it: kill the event's process or its whole
// login session (only after proving the pids are still the event's),
// build an evidence bundle, quarantine the uploaded file, and write
// every attempt — done or refused — to the response log in the state
// store. Whether an alert may be acted on at all is decided by
// internal/liveness; --readonly refuses everything here before it starts.
package respond

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/xferhunt/xferhunt/state"
)

// Actions written to the response log.
const (
	ActionKillProcess = "kill-process"
	ActionKillSession = "kill-session"
	ActionEvidence    = "evidence"
	ActionQuarantine  = "quarantine"
)

// keepResponses bounds the response log; the oldest entries go first.
var keepResponses = state.Retention{Records: 10000, Bytes: 16 << 20}

// ErrReadOnly refuses every host-changing action under --readonly.
var ErrReadOnly = errors.New("read-only run (--readonly): nothing on the host is changed")

// Entry is one line of the response log.
type Entry struct {
	Time   time.Time `json:"time"`
	Action string    `json:"action"`
	Alert  string    `json:"alert,omitempty"`
	// Target names what was acted on: pids, a path, a bundle directory.
	Target string `json:"target"`
	// OK says the action was done; Result says what happened or why not.
	OK     bool   `json:"ok"`
	Result string `json:"result"`
}

// String is the entry as one line (escape it before printing: targets
// and results name host paths).
func (e Entry) String() string {
	ok := "done"
	if !e.OK {
		ok = "REFUSED/FAILED"
	}
	alert := e.Alert
	if len(alert) > 12 {
		alert = alert[:12]
	}
	return fmt.Sprintf("%s  %-12s %-14s alert %s  %s: %s", e.Time.UTC().Format("2006-01-02 15:04:05Z"), e.Action, ok, alert, e.Target, e.Result)
}

// Log appends an entry to the response log of st.
func Log(st *state.Store, e Entry) error {
	if st == nil {
		return errors.New("no state store")
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := st.Append(state.JournalResponses, [][]byte{b}, keepResponses); err != nil {
		return fmt.Errorf("response log: %w", err)
	}
	return nil
}

// Entries reads the response log, oldest first; unreadable records are
// skipped.
func Entries(st *state.Store) ([]Entry, error) {
	var out []Entry
	err := st.Records(state.JournalResponses, func(b []byte) error {
		var e Entry
		if json.Unmarshal(b, &e) == nil && e.Action != "" {
			out = append(out, e)
		}
		return nil
	})
	return out, err
}
