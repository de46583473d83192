package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/bits"
)

// bbolt's on-disk page format (go.etcd.io/bbolt/internal/common), read here
// by offset: bbolt follows page ids and element offsets without checking
// them, so a file whose branch page names itself sends its cursor round
// for ever (FuzzOpen found one: Open never returned) and its Check recurses
// until the stack limit kills the process. checkPages reads the tree from
// the file itself first and refuses what bbolt could not survive.
const (
	pageHeaderSize = 16 // id u64, flags u16, count u16, overflow u32
	pageElemSize   = 16 // leaf: flags, pos, ksize, vsize u32; branch: pos, ksize u32, pgid u64

	branchPage   = 0x01
	leafPage     = 0x02
	metaPage     = 0x04
	freelistPage = 0x10

	bucketLeaf  = 0x01 // a leaf element whose value is a bucket
	bucketHead  = 16   // root pgid u64, sequence u64; an inline page follows when root is 0
	boltMagic   = 0xED0CDAED
	boltVersion = 2
	noFreelist  = ^uint64(0)

	// maxTreeDepth bounds branch levels plus nested buckets along any
	// path. A real B+tree of a few GB is under ten levels deep and
	// xferhunt nests buckets three deep; a deeper file was made, not
	// written, and bbolt's checker recurses once per level.
	maxTreeDepth = 64

	// maxPageSize bounds the page size: bbolt uses the OS page size
	// (Linux's largest is 64 KiB) and always a power of two. A meta page
	// may state up to 4 GiB, and this check and bbolt's commits each
	// allocate a page-sized buffer per page.
	maxPageSize = 64 << 10

	// maxTxid bounds the transaction id: bbolt takes the meta page of
	// the higher id as the live one, so a commit whose id wrapped to 0
	// was ignored (a transaction at 2^64-2 lost the next run's writes,
	// and bbolt's own freed pages then showed as reachable). A file
	// committing every microsecond since 1970 is near 2^51.
	maxTxid = 1 << 63
)

// metaPage fields, as offsets into the meta page.
const (
	metaMagic    = pageHeaderSize + 0
	metaVersion  = pageHeaderSize + 4
	metaPageSize = pageHeaderSize + 8
	metaRoot     = pageHeaderSize + 16
	metaFreelist = pageHeaderSize + 32
	metaPgid     = pageHeaderSize + 40
	metaTxid     = pageHeaderSize + 48
	metaChecksum = pageHeaderSize + 56
)

var le = binary.LittleEndian

// pageSpan is a page (with its overflow pages) to check, or an inline
// bucket's page held in its parent's value (inline != nil).
type pageSpan struct {
	id     uint64
	inline []byte
	depth  int
	// key is the branch key that leads to the page, in c.keys (off,
	// len; len 0 for a bucket's root): it must be the page's first key.
	keyOff, keyLen uint32
}

// pageChecker holds what checkPages has seen: each page id may be
// reached once, from one parent.
type pageChecker struct {
	r        io.ReaderAt
	pageSize uint64
	hwm      uint64 // pages below the high-water mark exist
	seen     bitset // pages read, overflow pages included
	queued   bitset // pages some element leads to
	freed    bitset // pages the freelist names
	stack    []pageSpan
	buf      []byte
	keys     []byte // the branch keys of queued pages (pageSpan.key)
}

// checkPages walks the database in r (size bytes, pages of pageSize)
// from the meta page of transaction txid, whose high-water mark is hwm:
// every page reached must be a leaf or branch page inside the file,
// reached once, with its elements, keys and values inside it, no deeper
// than maxTreeDepth; the freelist page must hold ids of real pages. It
// reads with ReadAt, so a page past the end is an error, not a fault.
func checkPages(r io.ReaderAt, size int64, pageSize int, txid, hwm uint64) error {
	ps := uint64(pageSize)
	if ps < 1024 || ps > maxPageSize || ps&(ps-1) != 0 {
		return fmt.Errorf("page size %d is not a power of two from 1 KiB to %d KiB", pageSize, maxPageSize>>10)
	}
	if txid >= maxTxid {
		return fmt.Errorf("transaction %d: no file commits that often; the next ids would wrap to 0", txid)
	}
	if hwm < 2 || hwm > uint64(size)/ps {
		return fmt.Errorf("high-water mark %d pages of %d bytes does not fit a file of %d bytes", hwm, pageSize, size)
	}
	words := (hwm + 63) / 64
	c := &pageChecker{r: r, pageSize: ps, hwm: hwm, seen: make(bitset, words), queued: make(bitset, words), freed: make(bitset, words)}
	meta, err := c.meta(txid)
	if err != nil {
		return err
	}
	c.mark(0, 0)
	c.mark(1, 0)
	if fl := le.Uint64(meta[metaFreelist:]); fl != noFreelist {
		if err := c.freelist(fl); err != nil {
			return err
		}
	}
	root := le.Uint64(meta[metaRoot:])
	if root == 0 {
		return errors.New("meta page: root bucket is inline")
	}
	if err := c.queue(root, 1, nil); err != nil {
		return err
	}
	for len(c.stack) > 0 {
		s := c.stack[len(c.stack)-1]
		c.stack = c.stack[:len(c.stack)-1]
		if s.depth > maxTreeDepth {
			return fmt.Errorf("tree deeper than %d levels", maxTreeDepth)
		}
		p := s.inline
		if p == nil {
			if p, err = c.read(s.id, branchPage|leafPage); err != nil {
				return err
			}
		}
		if err := c.elements(p, s); err != nil {
			return err
		}
	}
	// A freed page in use would be handed out again by the next commit:
	// bbolt's Check looks only at the first page of each tree page, so a
	// freed overflow page of a value (overwritten by a new node) or the
	// freelist's own page (a panic when the commit frees it) passed it.
	for i, w := range c.freed {
		if live := w & c.seen[i]; live != 0 {
			return fmt.Errorf("freelist frees page %d, which is in use", uint64(i)*64+uint64(bits.TrailingZeros64(live)))
		}
	}
	return nil
}

// meta finds the meta page bbolt chose for transaction txid: valid, and
// of that transaction with the same high-water mark and page size. bbolt
// reads the page size from meta page 0 but copies the live meta into every
// commit, so a live meta page 1 stating another size made the first write
// put that size in page 0, and the next Open read the file at the wrong
// offsets.
func (c *pageChecker) meta(txid uint64) ([]byte, error) {
	for id := range uint64(2) {
		m := make([]byte, metaChecksum+8)
		if _, err := c.r.ReadAt(m, int64(id*c.pageSize)); err != nil {
			return nil, fmt.Errorf("meta page %d: %w", id, err)
		}
		h := fnv.New64a()
		h.Write(m[pageHeaderSize:metaChecksum])
		if le.Uint16(m[8:]) == metaPage && le.Uint32(m[metaMagic:]) == boltMagic &&
			le.Uint32(m[metaVersion:]) == boltVersion && le.Uint64(m[metaChecksum:]) == h.Sum64() &&
			le.Uint64(m[metaTxid:]) == txid && le.Uint64(m[metaPgid:]) == c.hwm &&
			uint64(le.Uint32(m[metaPageSize:])) == c.pageSize {
			return m, nil
		}
	}
	return nil, fmt.Errorf("no meta page of transaction %d with %d pages of %d bytes", txid, c.hwm, c.pageSize)
}

// queue adds page id to the pages to read. Each id is queued once: a
// hostile file whose every element names one page would otherwise fill
// the stack with millions of copies before the first is read.
func (c *pageChecker) queue(id uint64, depth int, key []byte) error {
	if id < 2 || id >= c.hwm {
		return fmt.Errorf("page %d: outside pages 2..%d", id, c.hwm-1)
	}
	if c.queued.set(id) {
		return fmt.Errorf("page %d: reached twice (a cycle or a shared page)", id)
	}
	c.stack = append(c.stack, pageSpan{id: id, depth: depth, keyOff: uint32(len(c.keys)), keyLen: uint32(len(key))})
	c.keys = append(c.keys, key...)
	return nil
}

// mark records pages id..id+overflow as reached and reports whether none
// of them was reached before.
func (c *pageChecker) mark(id uint64, overflow uint32) bool {
	fresh := true
	for p := id; p <= id+uint64(overflow); p++ {
		if c.seen.set(p) {
			fresh = false
		}
	}
	return fresh
}

// bitset is one bit per page id.
type bitset []uint64

// set sets bit i and reports whether it was set before.
func (b bitset) set(i uint64) (was bool) {
	w, bit := &b[i/64], uint64(1)<<(i%64)
	was = *w&bit != 0
	*w |= bit
	return was
}

// read returns page id with its overflow pages, checking that it lies
// below the high-water mark, is reached for the first time, names itself
// and has one of the flags in want.
func (c *pageChecker) read(id uint64, want uint16) ([]byte, error) {
	if id < 2 || id >= c.hwm {
		return nil, fmt.Errorf("page %d: outside pages 2..%d", id, c.hwm-1)
	}
	// One read of the first page holds the header; overflow pages, if
	// any, follow in a second.
	if uint64(cap(c.buf)) < c.pageSize {
		c.buf = make([]byte, c.pageSize)
	}
	head := c.buf[:c.pageSize]
	if _, err := c.r.ReadAt(head, int64(id*c.pageSize)); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	overflow := le.Uint32(head[12:])
	switch flags := le.Uint16(head[8:]); {
	case le.Uint64(head) != id:
		return nil, fmt.Errorf("page %d: header names page %d", id, le.Uint64(head))
	case flags&want == 0 || flags&(flags-1) != 0:
		return nil, fmt.Errorf("page %d: unexpected type %#x", id, flags)
	case uint64(overflow) >= c.hwm-id:
		return nil, fmt.Errorf("page %d: %d overflow pages run past the high-water mark", id, overflow)
	case !c.mark(id, overflow):
		return nil, fmt.Errorf("page %d: reached twice (a cycle or a shared page)", id)
	}
	if overflow == 0 {
		return head, nil
	}
	n := (uint64(overflow) + 1) * c.pageSize
	if uint64(cap(c.buf)) < n {
		c.buf = append(c.buf[:c.pageSize], make([]byte, n-c.pageSize)...)
	}
	p := c.buf[:n]
	if _, err := c.r.ReadAt(p[c.pageSize:], int64((id+1)*c.pageSize)); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	return p, nil
}

// freelist checks the freelist page: its ids fit in it and name pages,
// each once; checkPages checks last that none of them is in use.
func (c *pageChecker) freelist(id uint64) error {
	p, err := c.read(id, freelistPage)
	if err != nil {
		return fmt.Errorf("freelist: %w", err)
	}
	n, at := uint64(le.Uint16(p[10:])), uint64(pageHeaderSize)
	if n == 0xFFFF { // the count did not fit: it is the first element
		n, at = le.Uint64(p[at:]), at+8
	}
	if n > (uint64(len(p))-at)/8 {
		return fmt.Errorf("freelist page %d: %d ids do not fit in it", id, n)
	}
	for i := range n {
		f := le.Uint64(p[at+8*i:])
		if f < 2 || f >= c.hwm {
			return fmt.Errorf("freelist page %d: frees page %d, outside pages 2..%d", id, f, c.hwm-1)
		}
		if c.freed.set(f) {
			return fmt.Errorf("freelist page %d: frees page %d twice", id, f)
		}
	}
	return nil
}

// elemKey locates the key of element i of page p (flags: the page's) as
// p[lo:hi]; the caller checks hi against the page. A branch element is
// pos, ksize, pgid; a leaf element flags, pos, ksize, vsize; pos counts
// from the element.
func elemKey(p []byte, i uint64, flags uint16) (lo, hi uint64) {
	at := pageHeaderSize + i*pageElemSize
	e := p[at : at+pageElemSize]
	if flags != branchPage {
		e = e[4:]
	}
	lo = at + uint64(le.Uint32(e))
	return lo, lo + uint64(le.Uint32(e[4:]))
}

// elements checks the element table of page p and queues the pages its
// elements lead to: branch children and the roots of nested buckets.
func (c *pageChecker) elements(p []byte, s pageSpan) error {
	flags, count := le.Uint16(p[8:]), uint64(le.Uint16(p[10:]))
	where := func() string {
		if s.inline != nil {
			return "inline bucket page"
		}
		return fmt.Sprintf("page %d", s.id)
	}
	if s.inline != nil && flags != leafPage {
		return fmt.Errorf("%s: unexpected type %#x", where(), flags)
	}
	if count > (uint64(len(p))-pageHeaderSize)/pageElemSize {
		return fmt.Errorf("%s: %d elements do not fit in it", where(), count)
	}
	if flags == branchPage && count < 2 {
		// bbolt splits a page into pieces of two keys or more and
		// collapses a root of one child, so it writes none; its
		// rebalance asserts on one when a delete empties the child
		// below (a panic in SaveTerms).
		return fmt.Errorf("%s: branch with %d children", where(), count)
	}
	if s.keyLen > 0 {
		// bbolt finds a child in its parent by the child's first key
		// when a write moves or drops it: an empty child, or a branch
		// key that differs (bbolt's Check only wants it no greater),
		// left the parent's entry in place while the page was freed,
		// and the next write freed it again (a panic in a SaveTerms).
		// bbolt removes an emptied child, so it writes neither.
		if count == 0 {
			return fmt.Errorf("%s: no keys below a branch", where())
		}
		lo, hi := elemKey(p, 0, flags)
		if hi > uint64(len(p)) || !bytes.Equal(p[lo:hi], c.keys[s.keyOff:s.keyOff+s.keyLen]) {
			return fmt.Errorf("%s: first key is not its parent's key for it", where())
		}
	}
	var prev []byte
	for i := range count {
		at := pageHeaderSize + i*pageElemSize
		e := p[at : at+pageElemSize]
		if flags == branchPage {
			lo, hi := elemKey(p, i, flags)
			if hi > uint64(len(p)) {
				return fmt.Errorf("%s: key %d runs past the page", where(), i)
			}
			if hi == lo {
				return fmt.Errorf("%s: key %d is empty", where(), i)
			}
			if err := c.queue(le.Uint64(e[8:]), s.depth+1, p[lo:hi]); err != nil {
				return err
			}
			continue
		}
		eflags, pos := le.Uint32(e), uint64(le.Uint32(e[4:]))
		ksize, vsize := uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))
		if at+pos+ksize+vsize > uint64(len(p)) {
			return fmt.Errorf("%s: element %d runs past the page", where(), i)
		}
		if ksize == 0 {
			// bbolt writes no empty key, reads one, and asserts on it
			// only when a write loads the page: the write panicked.
			return fmt.Errorf("%s: key %d is empty", where(), i)
		}
		// bbolt's Check skips inline buckets, key order included, and
		// its cursor finds keys by binary search: in unsorted keys a Put
		// added a second copy of a key and a read kept finding the old
		// one (a triage change silently lost).
		if s.inline != nil {
			key := p[at+pos : at+pos+ksize]
			if i > 0 && bytes.Compare(prev, key) >= 0 {
				return fmt.Errorf("%s: key %d is not after key %d", where(), i, i-1)
			}
			prev = key
		}
		if eflags&bucketLeaf == 0 {
			continue
		}
		v := p[at+pos+ksize : at+pos+ksize+vsize]
		if len(v) < bucketHead {
			return fmt.Errorf("%s: bucket %d has a %d-byte header", where(), i, len(v))
		}
		if root := le.Uint64(v); root != 0 {
			if err := c.queue(root, s.depth+1, nil); err != nil {
				return err
			}
			continue
		}
		if len(v) < bucketHead+pageHeaderSize {
			return fmt.Errorf("%s: inline bucket %d is shorter than a page header", where(), i)
		}
		// The inline page lives in c.buf, which the next read reuses.
		c.stack = append(c.stack, pageSpan{inline: append([]byte(nil), v[bucketHead:]...), depth: s.depth + 1})
	}
	return nil
}
