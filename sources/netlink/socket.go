package netlink

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	libaudit "github.com/elastic/go-libaudit/v2"
)

// socket is an audit netlink socket whose blocking reads time out, so the
// reader can notice a cancelled context. go-libaudit's own client blocks in
// recvfrom forever and hides its descriptor, which would leave the reader
// goroutine stuck after shutdown.
type socket struct {
	fd  int
	pid uint32
	seq atomic.Uint32
	buf []byte
}

var _ libaudit.NetlinkSendReceiver = (*socket)(nil)

// readTimeout bounds how long a blocking read waits before the reader
// re-checks its context.
const readTimeout = 200 * time.Millisecond

func newSocket(groups uint32, rcvbuf int) (*socket, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_AUDIT)
	if err != nil {
		return nil, fmt.Errorf("open audit netlink socket: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK, Groups: groups}); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("bind audit netlink socket: %w", err)
	}
	tv := syscall.NsecToTimeval(readTimeout.Nanoseconds())
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("set audit socket timeout: %w", err)
	}
	// A reader's large receive buffer absorbs bursts while it is busy;
	// control sockets keep the default.
	if rcvbuf > 0 {
		_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, rcvbuf)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("audit socket name: %w", err)
	}
	nl, ok := sa.(*syscall.SockaddrNetlink)
	if !ok {
		syscall.Close(fd)
		return nil, errors.New("audit socket: unexpected address type")
	}
	return &socket{fd: fd, pid: nl.Pid, buf: make([]byte, syscall.NLMSG_HDRLEN+libaudit.AuditMessageMaxLength)}, nil
}

// Send sends a request and returns its sequence number.
func (s *socket) Send(msg syscall.NetlinkMessage) (uint32, error) { return s.send(msg, 0) }

// SendNoWait is Send that fails instead of blocking.
func (s *socket) SendNoWait(msg syscall.NetlinkMessage) (uint32, error) {
	return s.send(msg, syscall.MSG_DONTWAIT)
}

func (s *socket) send(msg syscall.NetlinkMessage, flags int) (uint32, error) {
	if msg.Header.Pid == 0 {
		msg.Header.Pid = s.pid
	}
	msg.Header.Seq = s.seq.Add(1)
	msg.Header.Len = uint32(syscall.SizeofNlMsghdr + len(msg.Data))
	b := make([]byte, msg.Header.Len)
	*(*syscall.NlMsghdr)(unsafe.Pointer(&b[0])) = msg.Header
	copy(b[syscall.SizeofNlMsghdr:], msg.Data)
	return msg.Header.Seq, syscall.Sendto(s.fd, b, flags, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK})
}

// Receive reads one datagram. A blocking read returns EAGAIN after
// readTimeout without data.
func (s *socket) Receive(nonBlocking bool, p libaudit.NetlinkParser) ([]syscall.NetlinkMessage, error) {
	flags := 0
	if nonBlocking {
		flags = syscall.MSG_DONTWAIT
	}
	n, from, err := syscall.Recvfrom(s.fd, s.buf, flags)
	if err != nil {
		return nil, err
	}
	if n < syscall.NLMSG_HDRLEN {
		return nil, fmt.Errorf("short netlink message (%d bytes)", n)
	}
	if nl, ok := from.(*syscall.SockaddrNetlink); !ok || nl.Pid != 0 {
		return nil, errors.New("netlink message not from the kernel")
	}
	return p(s.buf[:n])
}

// Close closes the socket.
func (s *socket) Close() error { return syscall.Close(s.fd) }

// parseAudit splits one audit datagram: audit messages carry a single record
// and their header length is unreliable, so the header is read as is.
func parseAudit(buf []byte) ([]syscall.NetlinkMessage, error) {
	m, err := parseOne(buf)
	if err != nil {
		return nil, err
	}
	return []syscall.NetlinkMessage{m}, nil
}

func parseOne(buf []byte) (syscall.NetlinkMessage, error) {
	if len(buf) < syscall.NLMSG_HDRLEN {
		return syscall.NetlinkMessage{}, syscall.EINVAL
	}
	return syscall.NetlinkMessage{
		Header: *(*syscall.NlMsghdr)(unsafe.Pointer(&buf[0])),
		Data:   buf[syscall.NLMSG_HDRLEN:],
	}, nil
}
