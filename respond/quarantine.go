package respond

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Quarantine takes every permission off the event's file (mode 000), so
// nobody but root can read or run it, leaving it in place for the
// investigation. The file is opened as evidence is (no symlink at any
// component, a regular file, the event's inode) and changed through that
// descriptor, so a swap of the path after the check changes nothing. It
// returns the mode the file had.
func Quarantine(d Doc) (old string, err error) {
	path := d.Str("file.path")
	f, note, err := openEventFile(path, d.Str("file.inode"))
	if err != nil {
		return "", err
	}
	if f == nil {
		return "", fmt.Errorf("quarantine %s: %s", path, note)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return "", fmt.Errorf("quarantine %s: %w", path, err)
	}
	old = fmt.Sprintf("%04o", st.Mode&0o7777)
	if err := unix.Fchmod(int(f.Fd()), 0); err != nil {
		return old, fmt.Errorf("quarantine %s: %w", path, err)
	}
	return old, nil
}
