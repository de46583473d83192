package live

// TEMPORARY: manual comparison run, deleted before the report.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/internal/testenv"
	"github.com/xferhunt/xferhunt/sources/auditrules"
)

func TestManualLaurel(t *testing.T) {
	if os.Getenv("XFERHUNT_MANUAL_LAUREL") != "1" {
		t.Skip("manual")
	}
	testenv.LockAudit(t)
	n := loadFiles(t)
	src := filepath.Join(t.TempDir(), "load")
	os.Mkdir(src, 0o755)
	for i := range n {
		os.WriteFile(filepath.Join(src, fmt.Sprintf("f%05d", i)), []byte("x\n"), 0o644)
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	ldir := filepath.Join(dir, "laurel")
	os.MkdirAll(ldir, 0o755)
	exec.Command("chown", "_laurel", ldir).Run()
	cfg, _ := os.ReadFile("/etc/laurel/config.toml")
	cfg = bytes.Replace(cfg, []byte(`directory = "/var/log/laurel"`), []byte(`directory = "`+ldir+`"`), 1)
	os.WriteFile(filepath.Join(dir, "laurel.toml"), cfg, 0o644)
	ad := filepath.Join(dir, "auditd")
	os.MkdirAll(filepath.Join(ad, "plugins.d"), 0o750)
	os.WriteFile(filepath.Join(ad, "plugins.d", "laurel.conf"), []byte("active = yes\ndirection = out\ntype = always\nformat = string\npath = /usr/sbin/laurel\nargs = --config "+filepath.Join(dir, "laurel.toml")+"\n"), 0o640)
	rules := filepath.Join(dir, "xferhunt.rules")
	os.WriteFile(rules, []byte(auditrules.Text), 0o600)
	a := testenv.StartAuditdOpts(t, testenv.AuditdOptions{Dir: ad, Format: "RAW", RulesFile: rules, MaxLogFileMB: 200})
	out, _ := exec.Command("pgrep", "-P", strconv.Itoa(a.PID)).Output()
	lpid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	if lpid == 0 {
		t.Fatal("no laurel child")
	}
	u := testenv.CreateUser(t, "xfe2lau-a")
	sshd := testenv.StartSSHD(t, 22252)
	drop := dropDir(t, "/tmp", "xferhunt-e2e-laurel-")
	st0, _ := testenv.ReadAuditStatus()
	_ = st0
	ca0, cl0, t0 := procCPU(t, a.PID), procCPU(t, lpid), time.Now()
	args := append(sshOpts(u, sshd.Port, "127.0.0.11"), "-O", "-r", "-q", src, u.Name+"@127.0.0.1:"+drop+"/")
	if out, err := exec.Command("/usr/bin/scp", args...).CombinedOutput(); err != nil {
		t.Fatalf("scp: %v %s", err, out)
	}
	up := time.Since(t0)
	logf := filepath.Join(ldir, "audit.log")
	var got int
	testenv.Poll(func() bool {
		b, _ := os.ReadFile(logf)
		got = bytes.Count(b, []byte("//load/f"))
		return got >= n
	}, 60*time.Second)
	wall := time.Since(t0)
	ca1, cl1 := procCPU(t, a.PID), procCPU(t, lpid)
	lost, _ := exec.Command("auditctl", "-s").Output()
	t.Logf("laurel: %d files in %v upload; laurel log has %d path mentions after %v", n, up, got, wall)
	t.Logf("auditd CPU %.0f%%, laurel CPU %.0f%% of one core; auditd VmHWM %d kB, laurel VmHWM %d kB", float64(ca1-ca0)/wall.Seconds(), float64(cl1-cl0)/wall.Seconds(), procHWM(t, a.PID), procHWM(t, lpid))
	t.Logf("auditctl -s: %s", lost)
	fi, _ := os.Stat(logf)
	if fi != nil {
		t.Logf("laurel log %d bytes", fi.Size())
		b, _ := os.ReadFile(logf)
		i := bytes.Index(b, []byte("f0001"))
		if i > 300 {
			t.Logf("sample: %s", b[i-300:i+100])
		}
	}
}
