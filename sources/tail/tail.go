// Package tail follows a log file, or a directory of log files, across
// rotation (rename, copy-truncate, delete and re-create) so that every line
// is delivered exactly once: first what the file and its rotated siblings
// already hold (backfill, oldest first), then what is appended.
package tail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/xferhunt/xferhunt/internal/safefile"
)

// Options configure a Tailer.
type Options struct {
	// Path is a log file (its rotated siblings name.1, name-20240101 … are
	// included) or a directory (every file whose name starts with Prefix).
	Path string
	// FileOnly refuses a directory (an auditd log is one file and its
	// rotated siblings).
	FileOnly bool
	// Prefix selects files in directory mode; default "auditbeat", "*"
	// for every file not starting with a dot.
	Prefix string
	// Since skips backfilling files last modified before it; zero reads all.
	Since time.Time
	// MaxLine bounds a line's length; longer lines are counted and skipped.
	// Default DefaultMaxLine.
	MaxLine int
	// Rescan is the safety-net interval for filesystems where fsnotify misses
	// events; default 1s.
	Rescan time.Duration
}

// Stats counts what the tailer has read.
type Stats struct {
	Lines    uint64
	Bytes    uint64
	Oversize uint64 // lines longer than MaxLine, skipped
	// Cut counts unfinished lines whose file was truncated before their
	// end was written: skipped, since what is left is not a record.
	Cut uint64
	// Missed counts files that came into the rotation set while
	// following and were gone before the tailer could look at them
	// (rotated out and deleted, or compressed, by a writer rotating
	// faster than the tailer looks): their lines are lost.
	Missed uint64
	Files  int // files currently followed
	Live   bool
}

// Tailer follows one rotation set.
type Tailer struct {
	opt  Options
	dir  string
	base string // file mode: the live file's name; "" in directory mode
	// shared says another user may write dir (its owner, or group or
	// others with write permission): a name there that is a link was put
	// by them, and is never followed (root would read whatever it names).
	shared bool
	ready  chan struct{}

	mu    sync.Mutex
	stats Stats

	files   map[fileID]*file
	skipped map[fileID]bool // outside the backfill window, never read
	buf     []byte
	// held counts files whose last line is unfinished, and heldAt is when
	// one last grew (Unix ns), for the idle flush on another goroutine.
	held, heldAt atomic.Int64
	lineHold     time.Duration
	// order is the files in the order the last scan read them.
	order []*file
	// halt, once closed, stops reading between two chunks: at shutdown
	// what is not read yet stays in the file, however far behind a slow
	// consumer left the tailer.
	halt <-chan struct{}

	// Loss by rotation: births counts files created in the set since the
	// backfill (creation events), opened those the tailer has opened
	// since; more births than openings are files gone unread.
	births, opened    uint64
	live              bool // the backfill is over
	afterMemberRename bool // the last event renamed a member: a creation next is its other half
}

type fileID struct{ dev, ino uint64 }

// file is one inode we read, whatever names it has had.
type file struct {
	id      fileID
	f       *os.File
	name    string
	off     int64
	partial []byte
	head    []byte // first bytes, to recognize a copy made by copytruncate
	// mark is the last bytes read, those just before off: a file
	// truncated and refilled past off between two reads is told by them
	// when its first bytes happen to be the same.
	mark   [markLen]byte
	markN  int
	markAt int64 // the offset mark ends at: off, unless off was moved without reading
	seen   bool  // present in the last scan
	// twin is the original of a copytruncate copy; while it has not been
	// truncated, its lines come through it and the copy only keeps pace.
	twin *file
	// skipLong drops the rest of an oversize line.
	skipLong bool
	held     bool // counted in Tailer.held
	eof      bool // the last read reached the end: partial is the file's last line
	// backfilled says the file was opened by the backfill, not born since.
	backfilled bool
}

const headLen = 256

// markLen is how many bytes before the read offset are compared, about a
// record: a refill that repeats them would have to repeat a whole line at
// the same offset.
const markLen = 256

// lineHold is how long an unfinished line holds back the idle flush of the
// events before it. A writer that stopped mid-line for longer may never
// finish it; the line itself still waits for its newline (it is handed
// over whole, or at shutdown as it is), so no half is ever parsed while
// the other half may yet come.
const lineHold = 5 * time.Second

// recheckAfter is how long handing a chunk's lines over may take before
// the file is checked again for a truncate-and-refill.
const recheckAfter = time.Millisecond

// finalDrain bounds the last read at shutdown: lines written just before
// it still count, a backlog does not delay the exit.
const finalDrain = time.Second

// DefaultMaxLine caps a live line (a file followed, or stdin): far above
// any real audit record or ECS document, far below what would hurt memory.
const DefaultMaxLine = 4 << 20

// New checks that the path can be followed; errors name the path.
func New(opt Options) (*Tailer, error) {
	if opt.Prefix == "" {
		opt.Prefix = "auditbeat"
	}
	if opt.MaxLine <= 0 {
		opt.MaxLine = DefaultMaxLine
	}
	if opt.Rescan <= 0 {
		opt.Rescan = time.Second
	}
	st, err := os.Stat(opt.Path)
	if err != nil {
		return nil, fmt.Errorf("follow %s: %w", opt.Path, err)
	}
	t := &Tailer{opt: opt, ready: make(chan struct{}), files: map[fileID]*file{}, skipped: map[fileID]bool{},
		buf: make([]byte, 256<<10), lineHold: lineHold}
	switch {
	case st.IsDir() && opt.FileOnly:
		return nil, fmt.Errorf("follow %s: a directory: name the log file", opt.Path)
	case st.IsDir():
		t.dir = opt.Path
	case !st.Mode().IsRegular():
		// A FIFO or a device was taken, said ready and followed nothing.
		kind := "a device"
		switch {
		case st.Mode()&os.ModeNamedPipe != 0:
			kind = "a FIFO"
		case st.Mode()&os.ModeSocket != 0:
			kind = "a socket"
		}
		return nil, fmt.Errorf("follow %s: not a regular file (%s)", opt.Path, kind)
	default:
		// Non-blocking: a FIFO swapped in after the Stat must not hang
		// the start.
		f, err := os.OpenFile(opt.Path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return nil, fmt.Errorf("follow %s: %w", opt.Path, err)
		}
		// /proc/self/mem and kin are regular files that are not logs.
		err = safefile.CheckNotPseudo(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("follow %w", err)
		}
		t.dir, t.base = filepath.Dir(opt.Path), filepath.Base(opt.Path)
	}
	var dst syscall.Stat_t
	t.shared = syscall.Stat(t.dir, &dst) != nil || int(dst.Uid) != os.Geteuid() && dst.Uid != 0 || dst.Mode&0o022 != 0
	return t, nil
}

// Ready is closed when backfill is done and the tailer follows live.
func (t *Tailer) Ready() <-chan struct{} { return t.ready }

// Stats returns a snapshot of the counters.
func (t *Tailer) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// Run backfills then follows until ctx ends, calling line for each
// complete line (without its newline; the slice is reused after the call).
// historical is true for lines read during backfill.
func (t *Tailer) Run(ctx context.Context, line func(b []byte, historical bool)) error {
	w, err := fsnotify.NewBufferedWatcher(1024)
	if err != nil {
		return fmt.Errorf("watch %s: %w", t.dir, err)
	}
	defer w.Close()
	// Watching the directory, not the file, sees rotation and re-creation.
	if err := w.Add(t.dir); err != nil {
		return fmt.Errorf("watch %s: %w", t.dir, err)
	}
	defer func() {
		for _, f := range t.files {
			f.f.Close()
		}
	}()
	t.halt = ctx.Done()
	if err := t.scan(line, true); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil // stopped inside the backfill: the rest is history still on disk
	}
	t.mu.Lock()
	t.stats.Live = true
	t.mu.Unlock()
	close(t.ready)

	tick := time.NewTicker(t.opt.Rescan)
	defer tick.Stop()
	var evs []fsnotify.Event
	for {
		select {
		case <-ctx.Done():
			// Final drain: lines written just before shutdown still count,
			// and so does an unfinished last line, which scan of the same
			// file would read too.
			halt := make(chan struct{})
			drain := time.AfterFunc(finalDrain, func() { close(halt) })
			defer drain.Stop()
			t.halt = halt
			err := t.scan(line, false)
			for _, f := range t.order {
				if f.eof {
					t.flushPartial(f, line, false)
				}
			}
			return err
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			// A rotation is a burst of events (renames, a creation,
			// writes): take what is queued and look once, first, so that
			// every file still there is opened before a writer rotating
			// faster than the queue is worked through takes it away.
			batch := append(evs[:0], ev)
			for len(batch) < cap(w.Events) {
				select {
				case ev, ok := <-w.Events:
					if !ok {
						return nil
					}
					batch = append(batch, ev)
					continue
				default:
				}
				break
			}
			evs = batch
			var written []*file
			rescan := false
			for _, ev := range batch {
				if ev.Op != fsnotify.Write {
					rescan = true
				} else if f := t.byName(ev.Name); f == nil {
					rescan = true
				} else if !slices.Contains(written, f) {
					written = append(written, f)
				}
			}
			if rescan {
				if err := t.scan(line, false); err != nil {
					return err
				}
			} else {
				for _, f := range written {
					t.read(f, line, false)
				}
			}
			for _, ev := range batch {
				t.noteBirth(ev)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				if err := t.scan(line, false); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("watch %s: %w", t.dir, err)
		case <-tick.C:
			if err := t.scan(line, false); err != nil {
				return err
			}
		}
	}
}

// noteBirth counts a file created in the rotation set. A rename within the
// set is a pair of events, the creation of the new name right after the
// rename of the old: not a birth. (If the kernel's event queue overflows,
// births go uncounted: the count can fall short, never run over.)
func (t *Tailer) noteBirth(ev fsnotify.Event) {
	inSet := filepath.Dir(ev.Name) == filepath.Clean(t.dir) && t.member(filepath.Base(ev.Name))
	paired := t.afterMemberRename
	t.afterMemberRename = inSet && ev.Has(fsnotify.Rename)
	if !inSet || !ev.Has(fsnotify.Create) || paired {
		return
	}
	var st syscall.Stat_t
	if err := syscall.Stat(ev.Name, &st); err == nil {
		// Created while the backfill listed it, if the backfill opened the
		// file now there (and it is still that file, not a reused inode).
		if f := t.files[fileID{uint64(st.Dev), uint64(st.Ino)}]; f != nil && f.backfilled {
			var fst syscall.Stat_t
			if syscall.Fstat(int(f.f.Fd()), &fst) == nil && fst.Nlink > 0 {
				return
			}
		}
	}
	t.births++
}

// member reports whether a directory entry belongs to the rotation set.
func (t *Tailer) member(name string) bool {
	for _, ext := range []string{".gz", ".bz2", ".xz", ".zst", ".lz4", ".zip"} {
		if strings.HasSuffix(name, ext) {
			return false // compressed rotations are history we cannot tail
		}
	}
	if t.base == "" {
		return t.opt.Prefix == "*" && !strings.HasPrefix(name, ".") || strings.HasPrefix(name, t.opt.Prefix)
	}
	return name == t.base || strings.HasPrefix(name, t.base+".") || strings.HasPrefix(name, t.base+"-")
}

func (t *Tailer) byName(path string) *file {
	if filepath.Dir(path) != filepath.Clean(t.dir) || !t.member(filepath.Base(path)) {
		return nil
	}
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return nil
	}
	return t.files[fileID{uint64(st.Dev), uint64(st.Ino)}]
}

type entry struct {
	name  string
	id    fileID
	mtime time.Time
	size  int64
}

// scan lists the rotation set, opens new inodes, drains every file oldest
// first and forgets files that are gone once drained.
func (t *Tailer) scan(line func([]byte, bool), backfill bool) error {
	// Each birth counted so far is of a file in this listing, or of one
	// gone for good: the openings after it tell how many were missed.
	births := t.births
	t.live = !backfill
	ents, err := t.list()
	if err != nil {
		return err
	}
	// Oldest first; for equal mtimes the higher rotation number is older.
	slices.SortStableFunc(ents, func(a, b entry) int {
		if c := a.mtime.Compare(b.mtime); c != 0 {
			return c
		}
		return -strings.Compare(a.name, b.name)
	})
	present := make(map[fileID]bool, len(ents))
	for _, e := range ents {
		present[e.id] = true
	}
	for _, f := range t.files {
		f.seen = false
		// A deleted file's inode number can be handed to a new file at
		// once; the old one is drained and dropped before names are matched.
		var st syscall.Stat_t
		if err := syscall.Fstat(int(f.f.Fd()), &st); err == nil && st.Nlink == 0 {
			t.retire(f, line, backfill)
		}
	}
	var order []*file
	unopened := uint64(0) // present, not opened yet: not missed
	for _, e := range ents {
		if t.skipped[e.id] {
			continue
		}
		f := t.files[e.id]
		if f == nil {
			if backfill && !t.opt.Since.IsZero() && e.mtime.Before(t.opt.Since) && !t.isLive(e.name) {
				t.skipped[e.id] = true
				continue
			}
			nf, err := t.open(e, present, backfill)
			if err != nil {
				continue // raced with deletion; the next scan sees the truth
			}
			if nf == nil {
				unopened++
				continue // a copy still being written, or the name moved; look again
			}
			f = nf
		}
		f.seen = true
		f.name = e.name
		order = append(order, f)
	}
	// A file missing from the listing but still linked was renamed out of
	// the set, or readdir raced a rename: either way keep following it, first,
	// since its lines are older. Only deletion (nlink 0) retires a file.
	var gone []*file
	for _, f := range t.files {
		if !f.seen {
			gone = append(gone, f)
		}
	}
	slices.SortFunc(gone, func(a, b *file) int { return strings.Compare(a.name, b.name) })
	order = append(gone, order...)
	for id := range t.skipped {
		if !present[id] {
			delete(t.skipped, id)
		}
	}
	for _, f := range order {
		t.read(f, line, backfill)
	}
	t.order = order
	t.mu.Lock()
	t.stats.Files = len(t.files)
	missed := t.stats.Missed
	t.mu.Unlock()
	// Openings may run ahead of births (files opened before their
	// creation's event is handled), so the difference may fall short of
	// the files missed for a while. It would exceed it if a rename hid a
	// file from the listing: it is believed only when a second listing
	// shows the directory unchanged.
	if seen := t.opened + unopened; births > seen && births-seen > missed && t.unchanged(ents) {
		t.mu.Lock()
		t.stats.Missed = births - seen
		t.mu.Unlock()
	}
	return nil
}

// list returns the regular files of the rotation set.
func (t *Tailer) list() ([]entry, error) {
	des, err := os.ReadDir(t.dir)
	if err != nil {
		return nil, fmt.Errorf("follow %s: %w", t.dir, err)
	}
	var ents []entry
	for _, de := range des {
		if !t.member(de.Name()) {
			continue
		}
		var st syscall.Stat_t
		p := filepath.Join(t.dir, de.Name())
		if err := syscall.Stat(p, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			continue
		}
		ents = append(ents, entry{name: p, id: fileID{uint64(st.Dev), uint64(st.Ino)},
			mtime: time.Unix(st.Mtim.Unix()), size: st.Size})
	}
	return ents, nil
}

// unchanged reports whether the rotation set still holds the same files
// under the same names as ents.
func (t *Tailer) unchanged(ents []entry) bool {
	now, err := t.list()
	if err != nil || len(now) != len(ents) {
		return false
	}
	ids := make(map[string]fileID, len(ents))
	for _, e := range ents {
		ids[e.name] = e.id
	}
	for _, e := range now {
		if id, ok := ids[e.name]; !ok || id != e.id {
			return false
		}
	}
	return true
}

// retire drains a file that left the set and stops following it.
func (t *Tailer) retire(f *file, line func([]byte, bool), historical bool) {
	t.read(f, line, historical)
	if f.eof {
		t.flushPartial(f, line, historical)
	}
	f.f.Close()
	delete(t.files, f.id)
	for _, c := range t.files {
		if c.twin == f {
			c.twin = nil
			c.off = max(c.off, f.off)
		}
	}
}

func (t *Tailer) isLive(name string) bool {
	return t.base != "" && filepath.Base(name) == t.base
}

// open starts tracking an inode. A rotated sibling whose first bytes equal
// those of a file still present is a copytruncate copy: its lines were (or
// will be) delivered through the original up to the truncation. A sibling
// that appears while following and is still empty, or still a prefix of such
// a head, is not opened yet (nil, nil): the copy is being written.
func (t *Tailer) open(e entry, present map[fileID]bool, backfill bool) (*file, error) {
	// O_NONBLOCK: the name may have been swapped for a FIFO since the
	// listing (a directory others can write), and a blocking open would
	// wait for a writer forever, deaf to the stop. The checks below then
	// drop it.
	flags := os.O_RDONLY | syscall.O_NONBLOCK
	if t.shared {
		flags |= syscall.O_NOFOLLOW
	}
	fh, err := os.OpenFile(e.name, flags, 0)
	if err != nil {
		return nil, err
	}
	// The name may have moved to another inode since the listing; a file
	// is only ever known by the inode actually opened.
	var st syscall.Stat_t
	// It must still be a regular file: an inode number freed by the
	// swap's unlink is soon reused, by the FIFO itself for one.
	if err := syscall.Fstat(int(fh.Fd()), &st); err != nil || (fileID{uint64(st.Dev), uint64(st.Ino)}) != e.id ||
		st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		fh.Close()
		return nil, nil
	}
	f := &file{id: e.id, f: fh, name: e.name}
	f.head = t.headOf(f, headLen)
	if !t.isLive(e.name) && !backfill && len(f.head) == 0 {
		fh.Close()
		return nil, nil
	}
	if !t.isLive(e.name) {
		for _, o := range t.files {
			if !present[o.id] || o.off == 0 || o.twin != nil || len(o.head) == 0 {
				continue
			}
			if len(o.head) <= len(f.head) && bytes.Equal(o.head, f.head[:len(o.head)]) {
				f.twin, f.off = o, o.off
				break
			}
			if !backfill && bytes.HasPrefix(o.head, f.head) {
				fh.Close()
				return nil, nil
			}
		}
	}
	t.files[e.id] = f
	f.backfilled = backfill
	if t.live {
		t.opened++
	}
	return f, nil
}

// read delivers the complete lines appended to f since the last read.
func (t *Tailer) read(f *file, line func([]byte, bool), historical bool) {
	if f.twin != nil {
		f.off = max(f.off, f.twin.off)
		return
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.f.Fd()), &st); err == nil && (st.Size < f.off || t.rewritten(f)) {
		t.restart(f, line, historical)
	}
	var lines, nbytes, over uint64
	start := f.off
	f.eof = false
	for {
		if nbytes > 0 && t.halted() {
			break
		}
		n, err := f.f.ReadAt(t.buf, f.off)
		if n > 0 {
			f.off += int64(n)
			nbytes += uint64(n)
			chunk := t.buf[:n]
			f.remember(chunk)
			f.markAt = f.off
			handed := time.Now()
			for len(chunk) > 0 {
				i := bytes.IndexByte(chunk, '\n')
				if i < 0 {
					if f.skipLong {
						break
					}
					if len(f.partial)+len(chunk) > t.opt.MaxLine {
						f.partial, f.skipLong = f.partial[:0], true
						over++
						break
					}
					f.partial = append(f.partial, chunk...)
					break
				}
				seg := chunk[:i]
				chunk = chunk[i+1:]
				if f.skipLong {
					f.skipLong = false
					continue
				}
				if len(f.partial) > 0 {
					if len(f.partial)+len(seg) > t.opt.MaxLine {
						f.partial = f.partial[:0]
						over++
						continue
					}
					f.partial = append(f.partial, seg...)
					seg = f.partial
				}
				if len(seg) > t.opt.MaxLine {
					over++
				} else {
					line(trimCR(seg), historical)
					lines++
				}
				f.partial = f.partial[:0]
			}
			// Handing lines over may have waited for a full sink, and the
			// file may have been truncated and refilled meanwhile: reading
			// on from our offset would skip the refill's start. A quick
			// hand-over leaves no more room for that than any two reads.
			if time.Since(handed) >= recheckAfter && t.rewritten(f) {
				t.restart(f, line, historical)
				start = 0
				continue
			}
		}
		if err != nil || n == 0 {
			f.eof = true
			break
		}
	}
	t.noteHeld(f)
	if nbytes > 0 && len(f.partial) > 0 {
		t.heldAt.Store(time.Now().UnixNano())
	}
	if start < headLen && f.off > start {
		// What we just read is the file's head: remember it as it is now,
		// not as it was when the file was opened (it may since have been
		// truncated and refilled).
		f.head = t.headOf(f, headLen)
	}
	t.mu.Lock()
	t.stats.Lines += lines
	t.stats.Bytes += nbytes
	t.stats.Oversize += over
	t.mu.Unlock()
}

// halted reports that reading must stop (see Tailer.halt).
func (t *Tailer) halted() bool {
	select {
	case <-t.halt:
		return true
	default:
		return false
	}
}

// restart starts f over from its beginning after it was truncated in place
// (copytruncate, or truncated and refilled). Lines appended after our last
// read live on only in a copy, if one was made: deliver them first.
func (t *Tailer) restart(f *file, line func([]byte, bool), historical bool) {
	t.findCopies(f)
	copied := false
	for _, c := range t.files {
		if c.twin == f {
			c.twin = nil
			c.off = max(c.off, f.off)
			c.partial = append(c.partial[:0], f.partial...)
			t.read(c, line, historical)
			copied = true
		}
	}
	if !copied && len(f.partial) > 0 && !f.skipLong {
		// Its end, if ever written, went with the truncation.
		t.mu.Lock()
		t.stats.Cut++
		t.mu.Unlock()
	}
	f.off, f.partial, f.skipLong = 0, f.partial[:0], false
	f.head, f.markN = f.head[:0], 0
	t.noteHeld(f)
}

// findCopies looks for a copytruncate copy of f made since the last scan,
// while f's old head still identifies it.
func (t *Tailer) findCopies(f *file) {
	des, err := os.ReadDir(t.dir)
	if err != nil {
		return
	}
	for _, de := range des {
		if !t.member(de.Name()) || t.isLive(de.Name()) {
			continue
		}
		p := filepath.Join(t.dir, de.Name())
		var st syscall.Stat_t
		if syscall.Stat(p, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			continue
		}
		id := fileID{uint64(st.Dev), uint64(st.Ino)}
		if t.files[id] != nil || t.skipped[id] {
			continue
		}
		_, _ = t.open(entry{name: p, id: id, size: st.Size}, map[fileID]bool{f.id: true}, false)
	}
}

// rewritten reports a file truncated and refilled past our offset between
// two reads: its first bytes, or those just before our offset, changed.
func (t *Tailer) rewritten(f *file) bool {
	if f.off == 0 {
		return false
	}
	var b [max(headLen, markLen)]byte
	if len(f.head) > 0 {
		n, _ := f.f.ReadAt(b[:len(f.head)], 0)
		if !bytes.Equal(b[:n], f.head) {
			return true
		}
	}
	if f.markN > 0 && f.markAt == f.off {
		n, _ := f.f.ReadAt(b[:f.markN], f.off-int64(f.markN))
		return !bytes.Equal(b[:n], f.mark[:f.markN])
	}
	return false
}

// remember keeps the last markLen bytes read, chunk being the newest.
func (f *file) remember(chunk []byte) {
	if len(chunk) >= markLen {
		f.markN = copy(f.mark[:], chunk[len(chunk)-markLen:])
		return
	}
	if keep := markLen - len(chunk); f.markN > keep {
		copy(f.mark[:], f.mark[f.markN-keep:f.markN])
		f.markN = keep
	}
	f.markN += copy(f.mark[f.markN:], chunk)
}

func (t *Tailer) headOf(f *file, n int) []byte {
	b := make([]byte, n)
	n, _ = f.f.ReadAt(b, 0)
	return b[:n]
}

// flushPartial delivers an unterminated last line of a file that will never
// grow again.
func (t *Tailer) flushPartial(f *file, line func([]byte, bool), historical bool) {
	if len(f.partial) > 0 && !f.skipLong {
		line(trimCR(f.partial), historical)
		t.mu.Lock()
		t.stats.Lines++
		t.mu.Unlock()
	}
	f.partial = f.partial[:0]
	t.noteHeld(f)
}

// noteHeld keeps Tailer.held in step with f's unfinished line.
func (t *Tailer) noteHeld(f *file) {
	if h := len(f.partial) > 0; h != f.held {
		f.held = h
		if h {
			t.held.Add(1)
		} else {
			t.held.Add(-1)
		}
	}
}

// holding reports whether a followed file ends in an unfinished line that
// grew within lineHold: its writer is inside a record, so the record's
// event is not complete. Safe for use by another goroutine.
func (t *Tailer) holding() bool {
	return t.held.Load() > 0 && time.Since(time.Unix(0, t.heldAt.Load())) < t.lineHold
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}
