// Package alertdb holds the alerts the terminal interface shows: one row
// per alert with its list columns extracted and sanitized once, the
// document as a deflated delta against its template's (delta.go,
// codec.go), a flat index of its leaf values so filters need not decode
// it (flat.go, filterplan.go, leafeval.go), and the ordered, filtered
// view over them (Store). A Feeder turns alerts into rows on the
// engine's goroutine and hands them over in batches.
//
// Nothing here does I/O or knows about terminals: the view asks questions
// (which rows, in what order, how many match) and renders the answers.
// Rows are immutable, so a snapshot of them can be filtered on another
// goroutine without locks.
package alertdb
