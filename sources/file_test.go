package sources_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/catalog"
)

const oneCreation = `type=SYSCALL msg=audit(1795661111.044:3375): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55be209674e0 a2=41 a3=1a4 items=2 ppid=7845 pid=7846 auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=(none) ses=2 comm="sftp-server" exe="/usr/lib/openssh/sftp-server" key="xfer"
type=CWD msg=audit(1795661111.044:3375): cwd="/home/victim"
type=PATH msg=audit(1795661111.044:3375): item=0 name="/tmp/" inode=246947 dev=fe:00 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
type=PATH msg=audit(1795661111.044:3375): item=1 name="/tmp/dropped-sftpmode.bin" inode=9978498 dev=fe:00 mode=0100644 ouid=1001 ogid=1001 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
not an audit line
type=PROCTITLE msg=audit(1795661111.044:3375): proctitle=62617368002D63002F7573722F6C69622F6F70656E7373682F736674702D736572766572`

func write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScanFile(t *testing.T) {
	var got []sources.Event
	p := write(t, "audit.log", []byte(oneCreation)) // no final newline
	st, err := catalog.Formats().ScanFile(p, sources.ScanOptions{HostID: "h1", Emit: func(ev sources.Event) { got = append(got, ev) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Doc.Str("file.path") != "/tmp/dropped-sftpmode.bin" || got[0].Key != "h1:1795661111.044:3375" {
		t.Fatalf("events %v", got)
	}
	if st.Lines != 6 || st.Events != 1 || st.Malformed != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestScanFileCapture(t *testing.T) {
	for _, name := range []string{"raw.log", "enriched.log"} {
		p := filepath.Join("..", "testdata", "capture", name)
		if _, err := os.Stat(p); err != nil {
			t.Skipf("no capture: %v", err)
		}
		n := 0
		st, err := catalog.Formats().ScanFile(p, sources.ScanOptions{Emit: func(sources.Event) { n++ }})
		if err != nil || st.Events == 0 || uint64(n) != st.Events || st.Malformed != 0 {
			t.Errorf("%s: %v %+v (%d emitted)", name, err, st, n)
		}
	}
}

func TestScanFileRejects(t *testing.T) {
	dir := t.TempDir()
	bin := make([]byte, 4096)
	copy(bin, "\x7fELF")
	cases := []struct {
		name string
		path string
		want error
	}{
		{"missing", filepath.Join(dir, "nope.log"), sources.ErrUnreadable},
		{"directory", dir, sources.ErrIsDirectory},
		{"binary", write(t, "bin", bin), sources.ErrBinary},
		{"unknown text", write(t, "notes.txt", []byte("just some notes\nnothing else\n")), sources.ErrUnknownFormat},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := catalog.Formats().ScanFile(c.path, sources.ScanOptions{})
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.Contains(msg, filepath.Base(c.path)) {
				t.Errorf("message not one line naming the file: %q", msg)
			}
		})
	}
}

func TestScanFileEmpty(t *testing.T) {
	st, err := catalog.Formats().ScanFile(write(t, "empty.log", nil), sources.ScanOptions{})
	if err != nil || st != (sources.Stats{}) {
		t.Errorf("%+v %v", st, err)
	}
}

func TestScanFileStdin(t *testing.T) {
	p := write(t, "in.log", []byte(oneCreation+"\n"))
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	st, err := catalog.Formats().ScanFile("-", sources.ScanOptions{})
	if err != nil || st.Events != 1 {
		t.Errorf("%+v %v", st, err)
	}
}
