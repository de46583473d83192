//go:build amd64 || 386

package auditrules_test

import (
	"syscall"
	"testing"
	"unsafe"
)

// legacyOpen calls open(2) itself (Go's os.Open uses openat): the rules
// filter the two on different arguments.
func legacyOpen(t *testing.T, path string, flags, mode int) (uintptr, syscall.Errno) {
	t.Helper()
	p, err := syscall.BytePtrFromString(path)
	if err != nil {
		t.Fatal(err)
	}
	fd, _, errno := syscall.Syscall(syscall.SYS_OPEN, uintptr(unsafe.Pointer(p)), uintptr(flags), uintptr(mode))
	return fd, errno
}
