package auditd

import (
	"bytes"
	"path"
	"strconv"
)

// Names relative to a directory file descriptor.
//
// The *at syscalls take a directory fd: openat(fd, "f.txt"). Audit records
// the name as given and, for its PARENT item, the directory's device and
// inode, but not the directory's path: a PARENT whose name is relative to
// the fd is printed as the process's working directory (the kernel assumes
// a bare name is relative to it), so joining names with the CWD record puts
// the file in the wrong place. rsync (since its 3.2.7 security fixes, one
// open directory fd per level) and `tar -C` write every file this way.
//
// The parser therefore remembers where directories are by (device, inode):
// from PARENT items whose names are not relative to an fd, and from the
// directories it sees created or renamed. A name relative to an fd whose
// directory it knows is placed there; one it does not know is joined with
// the CWD record as before (right when the fd is the working directory, as
// for rsync's destination and for `cd DIR && tar x`).

// atFDCWD is AT_FDCWD (-100) as audit prints a dirfd argument.
const atFDCWD = 0xffffff9c

// maxDirs bounds the directories remembered (entries).
const maxDirs = 16384

// dirKey names a directory by device (major<<20 | minor) and inode.
type dirKey struct {
	dev uint32
	ino uint64
}

// key returns the item's device and inode, ok false when the record lacks
// either.
func (it *pathItem) key() (dirKey, bool) {
	ino, ok := atoiAll(it.inodeRaw)
	if !ok || it.devRaw == nil {
		return dirKey{}, false
	}
	maj, min, ok := bytes.Cut(it.devRaw, []byte{':'})
	if !ok {
		return dirKey{}, false
	}
	a, err1 := strconv.ParseUint(string(maj), 16, 12)
	b, err2 := strconv.ParseUint(string(min), 16, 20)
	if err1 != nil || err2 != nil {
		return dirKey{}, false
	}
	return dirKey{dev: uint32(a)<<20 | uint32(b), ino: uint64(ino)}, true
}

func (it *pathItem) isDir() bool { return it.hasMode && it.mode&0o170000 == 0o040000 }

// dirfdArgs are the argument indexes of a syscall's directory fds: the one
// the first PARENT item belongs to and the one of a second PARENT (a
// rename's or link's new name); -1 when the syscall takes none.
func dirfdArgs(name string) (first, second int) {
	switch name {
	case "openat", "openat2", "mkdirat", "mknodat", "unlinkat", "fchmodat", "fchmodat2":
		return 0, 0
	case "renameat", "renameat2", "linkat":
		return 0, 2
	case "symlinkat":
		return 1, 1
	}
	return -1, -1
}

// atRelative reports whether the syscall's fd argument i is a directory fd
// rather than AT_FDCWD.
func atRelative(a *[4]uint64, i int) bool { return i >= 0 && uint32(a[i]) != atFDCWD }

// placeAt rewrites the relative names of an event's items that are
// relative to a directory fd whose directory is known into absolute paths,
// then remembers the directories the event shows. cwd and parentDir are
// what absPath joins other names with.
func (p *Parser) placeAt(si sysInfo, a *[4]uint64, items []pathItem, cwd, parentDir string) {
	first, second := dirfdArgs(si.name)
	relFirst, relSecond := atRelative(a, first), atRelative(a, second)
	var parents [2]int
	n := 0
	for i := range items {
		if items[i].nametype == "PARENT" && n < 2 {
			parents[n] = i
			n++
		}
	}
	if n > 0 && (relFirst || relSecond) {
		for i := range items {
			it := &items[i]
			if it.nametype == "PARENT" || it.name == "" || it.name[0] == '/' {
				continue
			}
			rel, pi := relFirst, parents[0]
			if it.nametype == "CREATE" && n > 1 {
				rel, pi = relSecond, parents[1]
			}
			if !rel {
				continue
			}
			if k, ok := items[pi].key(); ok {
				if dir, ok := p.dirs.get(k); ok {
					it.name = path.Join(dir, path.Base(it.name))
				}
			}
		}
	}
	// Remember: PARENT items whose names are the process's own (no fd),
	// and directories created or renamed, at the path the event gives them.
	for i := range items {
		it := &items[i]
		if !it.isDir() || it.name == "" {
			continue
		}
		switch it.nametype {
		case "PARENT":
			if (i == parents[0] && relFirst) || (n > 1 && i == parents[1] && relSecond) {
				continue
			}
		case "CREATE":
		default:
			continue
		}
		if k, ok := it.key(); ok {
			if dir := absPath(it.name, cwd, parentDir); dir != "" && dir[0] == '/' {
				p.dirs.put(k, dir)
			}
		}
	}
}
