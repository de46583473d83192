package testenv

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// daemon is a foreground server process we started and must stop by its pid.
type daemon struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

// startDaemon starts a foreground server with its output in logPath, registers its
// stop at cleanup and waits until it accepts TCP connections on 127.0.0.1:port.
func startDaemon(t testing.TB, name, logPath string, port int, argv ...string) *daemon {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	d := &daemon{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(d.done) }()
	t.Cleanup(func() { d.stop(t) })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ok := Poll(func() bool {
		select {
		case <-d.done:
			return true // exited: reported below
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}, 15*time.Second)
	select {
	case <-d.done:
		out, _ := os.ReadFile(logPath)
		t.Fatalf("%s exited at start: %s", name, out)
	default:
	}
	if !ok {
		t.Fatalf("%s is not listening on %s", name, addr)
	}
	return d
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

func (d *daemon) stop(t testing.TB) {
	t.Helper()
	select {
	case <-d.done:
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
		t.Errorf("%s pid %d ignored SIGTERM", d.name, d.pid())
	}
}
