//go:build !amd64 && !386

package auditrules_test

import (
	"syscall"
	"testing"
)

// legacyOpen: arm64 has no open(2), only openat; the rule for it is
// skipped by the kernel there, and so is this part of the test.
func legacyOpen(t *testing.T, _ string, _, _ int) (uintptr, syscall.Errno) {
	t.Skip("no open(2) on this arch")
	return 0, 0
}
