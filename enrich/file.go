package enrich

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"syscall"

	"github.com/xferhunt/xferhunt/internal/safefile"
)

// FileFacts is what a responder asks first about a file that landed.
type FileFacts struct {
	Exists bool
	Size   int64
	Mode   os.FileMode
	UID    uint32
	GID    uint32
	// Dev and Ino identify the file, to find it among a writer's open
	// files and to tell it from another file at the same path later.
	Dev, Ino uint64
	// Kind is regular files' content type from magic bytes (elf, script,
	// archive, …) or the file type (directory, symlink, fifo, …).
	Kind   string
	SHA256 string
	// HashSkipped says why SHA256 is empty for a regular file: "too large"
	// or "timeout".
	HashSkipped string
}

// behindSymlink is the Kind of a path one of whose directories is a link:
// nothing about it is vouched for.
const behindSymlink = "behind symlink"

// StatFile gathers facts about path within ctx: files larger than maxHash
// are not hashed, and hashing stops when ctx ends, so a huge or slow file
// never holds up the caller. Non-regular files are never opened (a FIFO
// would block).
func StatFile(ctx context.Context, path string, maxHash int64) FileFacts {
	var ff FileFacts
	fi, err := os.Lstat(path)
	if err != nil {
		return ff
	}
	ff.Exists, ff.Size, ff.Mode = true, fi.Size(), fi.Mode()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ff.UID, ff.GID = st.Uid, st.Gid
		ff.Dev, ff.Ino = uint64(st.Dev), st.Ino
	}
	switch {
	case fi.Mode().IsDir():
		ff.Kind = "directory"
		return ff
	case fi.Mode()&os.ModeSymlink != 0:
		ff.Kind = "symlink"
		return ff
	case fi.Mode()&os.ModeNamedPipe != 0:
		ff.Kind = "fifo"
		return ff
	case fi.Mode()&os.ModeSocket != 0:
		ff.Kind = "socket"
		return ff
	case fi.Mode()&os.ModeDevice != 0:
		ff.Kind = "device"
		return ff
	}
	// No symlink at any component (Lstat guards only the last: a directory
	// swapped for a link would have us hash a root-only file), and
	// O_NONBLOCK: a file swapped for a FIFO after Lstat still cannot block.
	f, _, err := safefile.OpenRegular(path)
	if errors.Is(err, safefile.ErrSymlink) {
		// What Lstat saw lies behind a link: vouch for none of it.
		return FileFacts{Exists: true, Kind: behindSymlink, HashSkipped: "symlink in path"}
	}
	if errors.Is(err, safefile.ErrPseudo) {
		// A forged event naming /proc/kmsg would have us consume the
		// kernel's log; no upload lands in /proc or /sys.
		ff.Kind, ff.HashSkipped = "kernel pseudo file", "pseudo filesystem"
		return ff
	}
	if err != nil {
		return ff // swapped since Lstat, or not readable
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	ff.Kind = Magic(head[:n])
	if ff.Size > maxHash {
		ff.HashSkipped = "too large"
		return ff
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return ff
	}
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			ff.HashSkipped = "timeout"
		}
		return ff
	}
	ff.SHA256 = hex.EncodeToString(h.Sum(nil))
	return ff
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read stops with the context's error once it is done.
func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) > 1<<20 {
		p = p[:1<<20] // check the deadline at least every MiB
	}
	return c.r.Read(p)
}

// Magic names a file's type from its first bytes.
func Magic(b []byte) string {
	switch {
	case len(b) == 0:
		return "empty"
	case bytes.HasPrefix(b, []byte("\x7fELF")):
		return "elf"
	case bytes.HasPrefix(b, []byte("#!")):
		return "script"
	case bytes.HasPrefix(b, []byte("\x1f\x8b")):
		return "gzip"
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return "zip"
	case bytes.HasPrefix(b, []byte("BZh")):
		return "bzip2"
	case bytes.HasPrefix(b, []byte("\xfd7zXZ\x00")):
		return "xz"
	case bytes.HasPrefix(b, []byte("\x28\xb5\x2f\xfd")):
		return "zstd"
	case bytes.HasPrefix(b, []byte("7z\xbc\xaf\x27\x1c")):
		return "7z"
	case len(b) > 262 && bytes.Equal(b[257:262], []byte("ustar")):
		return "tar"
	case bytes.HasPrefix(b, []byte("%PDF")):
		return "pdf"
	case bytes.HasPrefix(b, []byte("-----BEGIN")):
		return "pem"
	case bytes.HasPrefix(b, []byte("ssh-")) || bytes.HasPrefix(b, []byte("ecdsa-")):
		return "ssh-key"
	}
	for _, c := range b {
		if c < 0x09 || (c > 0x0d && c < 0x20 && c != 0x1b) {
			return "data"
		}
	}
	return "text"
}
