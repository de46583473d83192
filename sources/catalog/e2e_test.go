package catalog

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/enrich"
	"github.com/xferhunt/xferhunt/internal/testenv"
	"github.com/xferhunt/xferhunt/sources/netlink"
)

// Real uploads through a real sshd, seen live over netlink and enriched
// from the host: scp (SFTP mode, sftp-server writes) and scp -O (scp -t).
func TestNetlinkSeesSSHUploads(t *testing.T) {
	testenv.LockAudit(t)
	if pid, err := netlink.DaemonPID(); err != nil || pid != 0 {
		testenv.Need(t, false, "audit daemon running (pid %d, %v)", pid, err)
	}
	u := testenv.CreateUser(t, "xfhg-e2e")
	sshd := testenv.StartSSHD(t, 22230)
	src, err := Parse("netlink", Options{HostID: "hid", HostName: "host"})
	if err != nil {
		t.Fatal(err)
	}
	c := &collect{}
	stop := run(t, src, c)
	payload := filepath.Join(t.TempDir(), "payload.bin")
	if err := os.WriteFile(payload, []byte("\x7fELF not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	en := enrich.New(enrich.Options{})
	for _, tc := range []struct {
		dest, proc string
		legacy     bool
	}{
		{"/tmp/xfhg-sftpmode.bin", "sftp-server", false},
		{"/tmp/xfhg-legacy.bin", "scp", true},
	} {
		os.Remove(tc.dest)
		t.Cleanup(func() { os.Remove(tc.dest) })
		sshd.SCP(t, u, payload, tc.dest, tc.legacy, "127.0.0.7")
		testenv.WaitFor(t, func() bool { _, ok := c.find(tc.dest); return ok }, 2*time.Second, "upload event for "+tc.dest)
		e, _ := c.find(tc.dest)
		d := e.Doc
		if d.Str("event.action") != "creation" || d.Str("process.name") != tc.proc || d.Str("user.id") != strconv.Itoa(u.UID) {
			t.Errorf("%s: action %q process %q user.id %q", tc.dest, d.Str("event.action"), d.Str("process.name"), d.Str("user.id"))
		}
		if d.Str("source.ip") != "127.0.0.7" {
			t.Errorf("%s: source.ip %q, want the client's 127.0.0.7", tc.dest, d.Str("source.ip"))
		}
		en.Alert(context.Background(), d)
		if d.Str("user.name") != u.Name || d.Get("xferhunt.file.exists") != true || d.Str("xferhunt.file.type") != "elf" {
			t.Errorf("%s: enriched user %q exists %v type %q", tc.dest, d.Str("user.name"), d.Get("xferhunt.file.exists"), d.Str("xferhunt.file.type"))
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
