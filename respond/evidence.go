package respond

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/xferhunt/xferhunt/internal/procid"
	"github.com/xferhunt/xferhunt/internal/safefile"
)

// BundleInput is what an evidence bundle is made of, gathered by the
// caller (the TUI's backend or `xferhunt evidence`).
type BundleInput struct {
	ID        string // the alert's uuid: the bundle's directory name
	Alert     Doc
	AlertJSON []byte
	// Raw is the event's audit records as auditd logs them
	// (event.original): ausearch -if reads the bundle's audit.log.
	Raw string
	// SessionNDJSON is the login session's events (story), as ECS NDJSON.
	SessionNDJSON []byte
	Proc          procid.Root
	Tar           bool
}

// Item is one file of a bundle, as the manifest lists it.
type Item struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	What   string `json:"what"`
}

// Manifest is manifest.json: every item with its sha256, and what was
// found of the file.
type Manifest struct {
	Alert    string    `json:"alert"`
	Made     time.Time `json:"made"`
	Path     string    `json:"file_path"`
	Inode    string    `json:"file_inode,omitempty"`
	FileNote string    `json:"file_note"`
	FileSHA  string    `json:"file_sha256,omitempty"`
	Items    []Item    `json:"items"`
}

// Bundle is where a bundle is and what it holds.
type Bundle struct {
	Dir      string
	Tar      string
	Existing bool // made by an earlier press: nothing was written now
	Manifest Manifest
}

// Summary is the bundle in one line.
func (b Bundle) Summary() string {
	what := "evidence bundle "
	if b.Existing {
		what = "evidence bundle already made: "
	}
	s := what + b.Dir
	if b.Manifest.FileSHA != "" {
		s += " (file sha256 " + b.Manifest.FileSHA + ")"
	} else if b.Manifest.FileNote != "" {
		s += " (" + b.Manifest.FileNote + ")"
	}
	if b.Tar != "" {
		s += ", tar " + b.Tar
	}
	return s
}

// ErrFileReplaced refuses a bundle whose path now names another file than
// the event's (another inode, a symlink, not a regular file).
var ErrFileReplaced = errors.New("the path now names another file than the event's")

// replaced is a one-line refusal that matches ErrFileReplaced.
type replaced struct{ msg string }

func (r replaced) Error() string        { return r.msg }
func (r replaced) Is(target error) bool { return target == ErrFileReplaced }

// MakeBundle writes the bundle of in into base/ID (base is created
// private; everything through safefile). A second call for the same alert
// writes nothing and reports the first bundle. The file is opened without
// following a symlink at any component and must be the event's inode; a
// file that is gone is noted and the rest is bundled.
func MakeBundle(base string, in BundleInput) (Bundle, error) {
	if in.ID == "" || filepath.Base(in.ID) != in.ID || in.ID[0] == '.' {
		return Bundle{}, fmt.Errorf("evidence: bad alert id %q", in.ID)
	}
	root, err := safefile.MkdirAll(base)
	if err != nil {
		return Bundle{}, fmt.Errorf("evidence: %w", err)
	}
	defer root.Close()
	dirPath := filepath.Join(base, in.ID)
	if b, ok := existing(root, dirPath, in); ok {
		return b, nil
	}
	path := in.Alert.Str("file.path")
	src, note, err := openEventFile(path, in.Alert.Str("file.inode"))
	if err != nil {
		return Bundle{}, err
	}
	if src != nil {
		defer src.Close()
	}
	tmp := "." + in.ID + ".partial-" + randHex()
	d, err := root.Mkdir(tmp)
	if err != nil {
		return Bundle{}, fmt.Errorf("evidence: %w", err)
	}
	defer d.Close()
	m := Manifest{Alert: in.ID, Made: time.Now().UTC(), Path: path, Inode: in.Alert.Str("file.inode"), FileNote: note}
	add := func(name, what string, data []byte) error {
		if err := d.WriteFile(name, data); err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		m.Items = append(m.Items, Item{Name: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), What: what})
		return nil
	}
	if src != nil {
		out, err := d.Create("file")
		if err != nil {
			return Bundle{}, fmt.Errorf("evidence: %w", err)
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(out, h), src)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return Bundle{}, fmt.Errorf("evidence: copy %s: %w", path, unwrapPath(err))
		}
		m.FileSHA = hex.EncodeToString(h.Sum(nil))
		m.Items = append(m.Items, Item{Name: "file", Size: n, SHA256: m.FileSHA, What: "the uploaded file, copied without following symlinks; inode " + m.Inode})
	}
	for _, it := range []struct {
		name, what string
		data       []byte
	}{
		{"alert.json", "the alert document", in.AlertJSON},
		{"audit.log", "the event's raw audit records (ausearch -if audit.log)", []byte(in.Raw)},
		{"session-events.ndjson", "the login session's events as xferhunt keeps them (ECS NDJSON; context events carry no raw records)", in.SessionNDJSON},
		{"proc.txt", "the session's process tree and sockets from /proc when the bundle was made", procSnapshot(in)},
	} {
		if err := add(it.name, it.what, it.data); err != nil {
			return Bundle{}, fmt.Errorf("evidence: %w", err)
		}
	}
	mb, _ := json.MarshalIndent(m, "", "  ")
	if err := d.WriteFile("manifest.json", append(mb, '\n')); err != nil {
		return Bundle{}, fmt.Errorf("evidence: %w", err)
	}
	if err := root.Rename(tmp, in.ID); err != nil {
		if b, ok := existing(root, dirPath, in); ok {
			return b, nil
		}
		return Bundle{}, fmt.Errorf("evidence: %w", err)
	}
	b := Bundle{Dir: dirPath, Manifest: m}
	if in.Tar {
		if b.Tar, err = writeTar(root, base, in.ID, m); err != nil {
			return b, err
		}
	}
	return b, nil
}

// existing reports the bundle an earlier press made.
func existing(root *safefile.Dir, dirPath string, in BundleInput) (Bundle, bool) {
	d, err := safefile.OpenDir(dirPath)
	if err != nil {
		return Bundle{}, false
	}
	defer d.Close()
	b := Bundle{Dir: dirPath, Existing: true}
	if f, err := d.OpenFile("manifest.json", os.O_RDONLY, 0); err == nil {
		data, _ := io.ReadAll(io.LimitReader(f, 1<<20))
		f.Close()
		_ = json.Unmarshal(data, &b.Manifest)
	} else {
		b.Manifest.FileNote = "made by an earlier version (no manifest)"
	}
	if in.Tar {
		t, err := writeTar(root, filepath.Dir(dirPath), in.ID, b.Manifest)
		if err == nil {
			b.Tar = t
		}
	}
	return b, true
}

// openEventFile opens the event's file for copying: no symlink at any
// component, a regular file, the event's inode. A missing file is a note,
// not an error; anything else that is not the event's file refuses.
func openEventFile(path, inode string) (*os.File, string, error) {
	if path == "" {
		return nil, "the alert names no file", nil
	}
	f, fi, err := safefile.OpenRegular(path)
	switch {
	case errors.Is(err, safefile.ErrSymlink):
		return nil, "", replaced{path + ": refused: a path component is a symbolic link now (never followed), not the event's file; nothing bundled"}
	case errors.Is(err, os.ErrNotExist):
		return nil, "file gone since the event (deleted or renamed): not copied", nil
	case errors.Is(err, safefile.ErrPseudo):
		return nil, "", err
	case err != nil && strings.Contains(err.Error(), "not a regular file"):
		return nil, "", replaced{path + ": refused: not a regular file now, not the event's file; nothing bundled"}
	case err != nil:
		return nil, "", fmt.Errorf("evidence: %s: %w", path, unwrapPath(err))
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	if inode != "" && (st == nil || strconv.FormatUint(st.Ino, 10) != inode) {
		f.Close()
		var ino uint64
		if st != nil {
			ino = st.Ino
		}
		return nil, "", replaced{fmt.Sprintf("%s: refused: inode %d now, the event's was %s (replaced since); nothing bundled", path, ino, inode)}
	}
	return f, "copied", nil
}

// unwrapPath keeps the innermost cause of a path error, so a message
// names the path once.
func unwrapPath(err error) error {
	var pe *os.PathError
	for errors.As(err, &pe) {
		err = pe.Err
	}
	return err
}

func randHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// writeTar writes base/ID.tar from the bundle's items and manifest, once.
func writeTar(root *safefile.Dir, base, id string, m Manifest) (string, error) {
	name := id + ".tar"
	path := filepath.Join(base, name)
	out, err := root.Create(name)
	if errors.Is(err, syscall.EEXIST) {
		return path, nil
	}
	if err != nil {
		return "", fmt.Errorf("evidence tar: %w", err)
	}
	d, err := safefile.OpenDir(filepath.Join(base, id))
	if err != nil {
		out.Close()
		return "", fmt.Errorf("evidence tar: %w", err)
	}
	defer d.Close()
	tw := tar.NewWriter(out)
	names := []string{"manifest.json"}
	for _, it := range m.Items {
		names = append(names, it.Name)
	}
	for _, n := range names {
		f, err := d.OpenFile(n, os.O_RDONLY, 0)
		if err != nil {
			out.Close()
			return "", fmt.Errorf("evidence tar: %w", err)
		}
		fi, err := f.Stat()
		if err == nil {
			err = tw.WriteHeader(&tar.Header{Name: id + "/" + n, Mode: 0o600, Size: fi.Size(), ModTime: fi.ModTime(), Typeflag: tar.TypeReg})
		}
		if err == nil {
			_, err = io.Copy(tw, f)
		}
		f.Close()
		if err != nil {
			out.Close()
			return "", fmt.Errorf("evidence tar: %w", err)
		}
	}
	err = tw.Close()
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("evidence tar: %w", err)
	}
	return path, nil
}

// procSnapshot is the session's processes (or the event's process and its
// ancestors when there is no session) with their sockets, from /proc now.
func procSnapshot(in BundleInput) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# /proc snapshot at %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	var ids []procid.Identity
	ses := in.Alert.Str(fieldSession)
	if s, why := planSession(ses, in.Proc); why == "" {
		fmt.Fprintf(&b, "# audit session %s\n", ses)
		ids = s
	} else {
		fmt.Fprintf(&b, "# no session tree: %s; the event's process and its ancestors instead\n", why)
		pid, _ := strconv.Atoi(in.Alert.Str("process.pid"))
		for i := 0; i < 16 && pid > 0; i++ {
			id, err := in.Proc.Read(pid)
			if err != nil {
				break
			}
			ids = append(ids, id)
			if id.PPID == pid {
				break
			}
			pid = id.PPID
		}
	}
	if len(ids) == 0 {
		b.WriteString("# no process left\n")
	}
	b.WriteString(Tree(ids))
	b.WriteString("\n# sockets: pid fd proto local remote state inode\n")
	socks := socketTable(in.Proc)
	for _, id := range ids {
		for _, s := range processSockets(in.Proc, id.PID) {
			line, ok := socks[s.inode]
			if !ok {
				line = "(not tcp/udp: unix or closed)"
			}
			fmt.Fprintf(&b, "%d %s %s inode %s\n", id.PID, s.fd, line, s.inode)
		}
		if cl, err := os.ReadFile(procPath(in.Proc, strconv.Itoa(id.PID), "cmdline")); err == nil {
			fmt.Fprintf(&b, "%d cmdline %q\n", id.PID, string(bytes.ReplaceAll(bytes.TrimRight(cl, "\x00"), []byte{0}, []byte{' '})))
		}
	}
	return b.Bytes()
}

func procPath(r procid.Root, parts ...string) string {
	root := string(r)
	if root == "" {
		root = "/proc"
	}
	return filepath.Join(append([]string{root}, parts...)...)
}

type sock struct{ fd, inode string }

// processSockets lists pid's socket descriptors.
func processSockets(r procid.Root, pid int) []sock {
	dir := procPath(r, strconv.Itoa(pid), "fd")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []sock
	for _, e := range ents {
		l, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil || len(l) < 9 || l[:8] != "socket:[" {
			continue
		}
		out = append(out, sock{fd: e.Name(), inode: l[8 : len(l)-1]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].fd < out[j].fd })
	return out
}

// socketTable maps socket inodes to "proto local remote state" from
// /proc/net/{tcp,tcp6,udp,udp6}.
func socketTable(r procid.Root) map[string]string {
	out := map[string]string{}
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
		data, err := os.ReadFile(procPath(r, "net", proto))
		if err != nil {
			continue
		}
		for i, line := range bytes.Split(data, []byte{'\n'}) {
			f := bytes.Fields(line)
			if i == 0 || len(f) < 10 {
				continue
			}
			out[string(f[9])] = fmt.Sprintf("%s %s %s %s", proto, hexAddr(string(f[1])), hexAddr(string(f[2])), tcpState(string(f[3])))
		}
	}
	return out
}

// hexAddr decodes /proc/net's ADDR:PORT (addresses in host byte order,
// 32-bit words).
func hexAddr(s string) string {
	i := bytes.IndexByte([]byte(s), ':')
	if i < 0 {
		return s
	}
	raw, err := hex.DecodeString(s[:i])
	port, perr := strconv.ParseUint(s[i+1:], 16, 16)
	if err != nil || perr != nil || (len(raw) != 4 && len(raw) != 16) {
		return s
	}
	ip := make([]byte, len(raw))
	for w := 0; w < len(raw); w += 4 {
		ip[w], ip[w+1], ip[w+2], ip[w+3] = raw[w+3], raw[w+2], raw[w+1], raw[w]
	}
	if len(ip) == 4 {
		return fmt.Sprintf("%d.%d.%d.%d:%d", ip[0], ip[1], ip[2], ip[3], port)
	}
	return fmt.Sprintf("[%x]:%d", ip, port)
}

func tcpState(s string) string {
	states := map[string]string{"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING"}
	if v, ok := states[s]; ok {
		return v
	}
	return s
}

// VerifyBundle reads dir's manifest and checks every item's size and
// sha256 against the files: what a colleague runs on a bundle handed to
// them (and the tests).
func VerifyBundle(dir string) (Manifest, error) {
	var m Manifest
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("%s: manifest: %w", dir, err)
	}
	for _, it := range m.Items {
		if filepath.Base(it.Name) != it.Name {
			return m, fmt.Errorf("%s: manifest item %q is not a name in the bundle", dir, it.Name)
		}
		b, err := os.ReadFile(filepath.Join(dir, it.Name))
		if err != nil {
			return m, err
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != it.SHA256 || int64(len(b)) != it.Size {
			return m, fmt.Errorf("%s: item %s does not match its manifest entry", dir, it.Name)
		}
	}
	return m, nil
}
