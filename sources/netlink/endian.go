package netlink

import "encoding/binary"

// nativeAppend appends v in host byte order, the order of audit_status.
func nativeAppend(b []byte, v uint32) []byte { return binary.NativeEndian.AppendUint32(b, v) }
