package procid

import "syscall"

// errSRCH is what reading /proc/PID of a process that exits meanwhile
// returns.
var errSRCH = syscall.ESRCH
