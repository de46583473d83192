package enrich

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Proc reads live process facts from a procfs.
type Proc struct {
	// Root is the procfs mount (default /proc).
	Root string
}

func (p Proc) root() string {
	if p.Root == "" {
		return "/proc"
	}
	return p.Root
}

// Process is one entry of an ancestry chain.
type Process struct {
	PID, PPID int
	Name      string // comm
	Exe       string
	Args      []string
}

// Read returns what procfs says about pid; ok is false once it has exited.
func (p Proc) Read(pid int) (Process, bool) {
	dir := filepath.Join(p.root(), strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return Process{}, false
	}
	// comm may hold spaces and parentheses: it ends at the last ')'.
	open, close := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || close < open {
		return Process{}, false
	}
	fields := strings.Fields(string(stat[close+1:]))
	if len(fields) < 2 {
		return Process{}, false
	}
	ppid, _ := strconv.Atoi(fields[1])
	pr := Process{PID: pid, PPID: ppid, Name: string(stat[open+1 : close])}
	pr.Exe, _ = os.Readlink(filepath.Join(dir, "exe"))
	if cl, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil && len(cl) > 0 {
		cl = bytes.TrimRight(cl, "\x00")
		for _, a := range bytes.Split(cl, []byte{0}) {
			pr.Args = append(pr.Args, string(a))
		}
	}
	return pr, true
}

// Ancestry returns pid and its ancestors, nearest first, at most max
// entries, stopping at init.
func (p Proc) Ancestry(pid, max int) []Process {
	var out []Process
	for len(out) < max && pid > 0 {
		pr, ok := p.Read(pid)
		if !ok {
			break
		}
		out = append(out, pr)
		if pr.PPID == pid {
			break
		}
		pid = pr.PPID
	}
	return out
}

// SSHConnection finds SSH_CONNECTION in the environment of pid or its
// nearest ancestor that has it: the client address sshd gave the session.
func (p Proc) SSHConnection(chain []Process) (ip netip.Addr, port int, via int, ok bool) {
	for _, pr := range chain {
		env, err := os.ReadFile(filepath.Join(p.root(), strconv.Itoa(pr.PID), "environ"))
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			v, found := bytes.CutPrefix(kv, []byte("SSH_CONNECTION="))
			if !found {
				continue
			}
			f := strings.Fields(string(v))
			if len(f) < 2 {
				continue
			}
			a, err := netip.ParseAddr(f[0])
			n, err2 := strconv.Atoi(f[1])
			if err == nil && err2 == nil {
				return a.Unmap(), n, pr.PID, true
			}
		}
	}
	return netip.Addr{}, 0, 0, false
}

// Peer is the remote end of an established TCP socket.
type Peer struct {
	Local, Remote netip.AddrPort
	PID           int
}

// SocketPeers returns the established TCP peers of the sockets the given
// processes hold open, in chain order.
func (p Proc) SocketPeers(chain []Process) []Peer {
	inodes := map[string]int{}
	var order []string
	for _, pr := range chain {
		fdDir := filepath.Join(p.root(), strconv.Itoa(pr.PID), "fd")
		des, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, de := range des {
			l, err := os.Readlink(filepath.Join(fdDir, de.Name()))
			if err != nil || !strings.HasPrefix(l, "socket:[") {
				continue
			}
			ino := strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")
			if _, seen := inodes[ino]; !seen {
				inodes[ino] = pr.PID
				order = append(order, ino)
			}
		}
	}
	if len(inodes) == 0 {
		return nil
	}
	found := map[string]Peer{}
	for _, f := range []string{"net/tcp", "net/tcp6"} {
		p.scanTCP(filepath.Join(p.root(), f), inodes, found)
	}
	var out []Peer
	for _, ino := range order {
		if pe, ok := found[ino]; ok {
			out = append(out, pe)
		}
	}
	return out
}

// scanTCP reads a /proc/net/tcp{,6} table for established sockets whose
// inode is wanted.
func (p Proc) scanTCP(path string, want map[string]int, found map[string]Peer) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 10 || fl[3] != "01" { // 01 = ESTABLISHED
			continue
		}
		pid, ok := want[fl[9]]
		if !ok {
			continue
		}
		local, ok1 := parseHexAddr(fl[1])
		remote, ok2 := parseHexAddr(fl[2])
		if ok1 && ok2 {
			found[fl[9]] = Peer{Local: local, Remote: remote, PID: pid}
		}
	}
}

// parseHexAddr decodes procfs "0100007F:1F90": the address is stored as
// 32-bit words in host (little-endian) order, the port big-endian.
func parseHexAddr(s string) (netip.AddrPort, bool) {
	a, pt, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, false
	}
	raw, err := hex.DecodeString(a)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, false
	}
	for i := 0; i+4 <= len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	port, err := strconv.ParseUint(pt, 16, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), true
}

// maxFDs bounds the descriptors looked at in one Holds call: a server
// holding thousands of files open must not turn a check into a long walk.
const maxFDs = 4096

// Holds reports whether pid has the file dev/ino open, and whether pid
// still exists. A pid that has exited holds nothing; a pid reused since by
// another process holds another process's files, which is the same answer
// for "has the writer let go of this file".
func (p Proc) Holds(pid int, dev, ino uint64) (held, alive bool) {
	dir := filepath.Join(p.root(), strconv.Itoa(pid), "fd")
	f, err := os.Open(dir)
	if err != nil {
		_, serr := os.Stat(filepath.Join(p.root(), strconv.Itoa(pid)))
		return false, serr == nil
	}
	defer f.Close()
	names, _ := f.Readdirnames(maxFDs)
	for _, n := range names {
		// Stat follows the magic link to the open file itself, even one
		// deleted or renamed since; it never opens it.
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Ino == ino && uint64(st.Dev) == dev {
			return true, true
		}
	}
	return false, true
}
