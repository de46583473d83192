// Package replay paces a recorded audit log so that it arrives as it was
// recorded: the demo feeds the live pipeline from it, which then behaves
// exactly as it does on a real host.
package replay

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"time"
)

// MaxGap caps the pause between two records, so a capture with a long
// idle stretch does not stall the demo.
const MaxGap = 3 * time.Second

// Reader returns the log's lines one by one, each no earlier than its
// record time (relative to the first record) divided by speed. Lines
// without an audit timestamp pass at once. It ends with io.EOF after the
// last line, or with ctx's error once ctx ends.
type Reader struct {
	ctx   context.Context
	rest  []byte
	speed float64

	start    time.Time // wall time of the first record
	first    float64   // record time of the first record, seconds
	last     float64
	pending  []byte
	sleep    func(context.Context, time.Duration) error
	timeSeen bool
}

// New paces data at speed (1 = recorded pace).
func New(ctx context.Context, data []byte, speed float64) *Reader {
	if speed <= 0 {
		speed = 1
	}
	return &Reader{ctx: ctx, rest: data, speed: speed, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	if len(r.pending) == 0 {
		if len(r.rest) == 0 {
			return 0, io.EOF
		}
		line := r.rest
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line, r.rest = line[:i+1], line[i+1:]
		} else {
			r.rest = nil
		}
		if err := r.wait(line); err != nil {
			return 0, err
		}
		r.pending = line
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

func (r *Reader) wait(line []byte) error {
	ts, ok := recordTime(line)
	if !ok {
		return r.ctx.Err()
	}
	if !r.timeSeen {
		r.timeSeen, r.first, r.last, r.start = true, ts, ts, time.Now()
		return r.ctx.Err()
	}
	gap := time.Duration((ts - r.last) * float64(time.Second) / r.speed)
	if gap > MaxGap {
		// Shift the schedule so the rest keeps its own rhythm.
		r.start = r.start.Add(-(gap - MaxGap))
	}
	r.last = max(r.last, ts)
	due := r.start.Add(time.Duration((ts - r.first) * float64(time.Second) / r.speed))
	if d := time.Until(due); d > 0 {
		return r.sleep(r.ctx, d)
	}
	return r.ctx.Err()
}

// recordTime reads SEC.MSEC from "msg=audit(SEC.MSEC:SERIAL)".
func recordTime(line []byte) (float64, bool) {
	i := bytes.Index(line, []byte("audit("))
	if i < 0 {
		return 0, false
	}
	rest := line[i+len("audit("):]
	j := bytes.IndexByte(rest, ':')
	if j < 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(rest[:j]), 64)
	return f, err == nil
}
