package live

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/capture"
	"github.com/xferhunt/xferhunt/internal/methods"
	"github.com/xferhunt/xferhunt/internal/testenv"
)

// coverageCaptureDir receives the scrubbed audit log of TestCoverage and
// its methods' windows when XFERHUNT_UPDATE_COVERAGE=1 (testdata/coverage,
// see its README).
const coverageCaptureDir = "testdata/coverage"

// Ports of TestCoverage: sshd, vsftpd and vsftpd's passive range.
const (
	covSSHPort             = 22280
	covFTPPort             = 22281
	covPasvMin, covPasvMax = 22282, 22285
)

// TestCoverage is issue 14's acceptance: every transfer method of
// internal/methods.Table, performed for real against sshd (with an
// internal-sftp account), vsftpd, rsync and an FTP client, while
// `xferhunt --headless --source netlink --rule seed --rule coverage` runs
// and auditd logs what the kernel reports. Live, the alerts are exactly
// methods.LiveWant (new_terms rules alert on a program's first time);
// over the auditd log, each method's records scanned alone give exactly
// its row of the table with `--rule seed --rule coverage`, and with `--rule
// seed` alone (its log without the directory records that rule set does
// not ask for) exactly the seed's column — each alert with the method's
// process, user, address and final path.
func TestCoverage(t *testing.T) {
	lockAuditAlone(t)
	for _, b := range []string{"/usr/bin/ssh", "/usr/bin/rsync", "/usr/bin/tnftp", "/usr/bin/ftp", "/usr/bin/curl", "/usr/bin/tar"} {
		testenv.NeedBinary(t, b)
	}
	a := testenv.CreateUser(t, methods.UserA)
	c := testenv.CreateUser(t, methods.UserC)
	sshd := testenv.StartSSHDOpts(t, covSSHPort, testenv.SSHDOptions{InternalSFTP: []string{c.Name}})
	ftp := testenv.StartVsftpd(t, covFTPPort, covPasvMin, covPasvMax)
	dir := dropDir(t, "/tmp", "xferhunt-e2e-cov-")
	w := newCovWorld(t, dir, a, c, sshd, ftp)

	auditDir := t.TempDir()
	ad := testenv.StartAuditd(t, auditDir, "RAW", "")
	x := startXferhunt(t, xferOptions{Netlink: true}, "--headless", "--source", "netlink", "--ephemeral",
		"--rule", "seed", "--rule", "coverage")
	x.waitReady(15 * time.Second)

	var windows []methods.Window
	for _, m := range methods.Table {
		act, ok := w.actions[m.ID]
		if !ok {
			t.Fatalf("no action for method %s", m.ID)
		}
		start := time.Now()
		act()
		if m.Addr != "" && m.User != "" && w.sshLogin(m.ID) {
			// sshd closes the session after the client has gone: its
			// last records must fall inside this method's window.
			testenv.WaitFor(t, func() bool { return w.logHas(ad.LogPath, "type=CRED_DISP ", "addr="+m.Addr) }, 10*time.Second,
				"the end of "+m.ID+"'s ssh session in auditd's log")
		}
		windows = append(windows, methods.NewWindow(m.ID, start, time.Now()))
		// The next method's records must not share this one's millisecond.
		time.Sleep(20 * time.Millisecond)
	}

	// Live: each expected alert arrives, then nothing more.
	live := methods.LiveWant()
	total := 0
	for _, ws := range live {
		total += len(ws)
	}
	if !x.waitCount(func(alert) bool { return true }, total, 20*time.Second) {
		t.Errorf("live: %d alerts, want %d", len(x.Alerts()), total)
	}
	x.stop(10 * time.Second)
	ad.Stop(t)

	var liveDocs []ecs.Doc
	for _, al := range x.Alerts() {
		liveDocs = append(liveDocs, al.Doc)
	}
	for _, m := range methods.Table {
		var mine []ecs.Doc
		for _, d := range liveDocs {
			if inWindow(d, windows, m.ID) {
				mine = append(mine, d)
			}
		}
		for _, p := range methods.Check(m, live[m.ID], dir, mine) {
			t.Errorf("live: %s", p)
		}
	}
	for _, d := range liveDocs {
		if !slices.ContainsFunc(windows, func(w methods.Window) bool { return inWindow(d, windows, w.ID) }) {
			t.Errorf("live: alert outside every method: %s", methods.Describe(d, dir))
		}
	}

	// The auditd log of the same run, one method at a time.
	log, err := os.ReadFile(ad.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkMethods(t, log, dir, windows) {
		t.Error(p)
	}

	if os.Getenv("XFERHUNT_UPDATE_COVERAGE") == "1" && !t.Failed() {
		writeCoverageCapture(t, ad.LogPath, dir, windows, []int{sshd.PID, ftp.PID}, w.clientPIDs, a, c)
	}
}

// checkMethods scans each method's slice of log with the seed rule alone
// and with the coverage rules, fresh each time, and compares with the
// table.
func checkMethods(t *testing.T, log []byte, dir string, windows []methods.Window) []string {
	t.Helper()
	var probs []string
	for _, win := range windows {
		m, _ := methods.Find(win.ID)
		slice := methods.Slice(log, win)
		for _, c := range []struct {
			what  string
			log   []byte
			rules []string
			want  []methods.Want
		}{
			{"--rule seed", methods.DropDirs(slice), []string{"seed"}, m.Seed},
			{"--rule seed --rule coverage", slice, []string{"seed", "coverage"}, m.Coverage},
		} {
			args := []string{"scan", "--ephemeral"}
			for _, r := range c.rules {
				args = append(args, "--rule", r)
			}
			cmd := exec.Command(binPath, append(args, "-")...)
			cmd.Stdin = bytes.NewReader(c.log)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				probs = append(probs, fmt.Sprintf("%s %s: scan: %v: %s", m.ID, c.what, err, stderr.String()))
				continue
			}
			docs, err := methods.ParseAlerts(out)
			if err != nil {
				probs = append(probs, fmt.Sprintf("%s %s: %v", m.ID, c.what, err))
				continue
			}
			for _, p := range methods.Check(m, c.want, dir, docs) {
				probs = append(probs, c.what+": "+p)
			}
		}
	}
	return probs
}

// inWindow reports whether an alert's event happened during method id.
func inWindow(d ecs.Doc, windows []methods.Window, id string) bool {
	t, err := time.Parse(time.RFC3339Nano, d.Str("kibana.alert.original_time"))
	if err != nil {
		return false
	}
	ms := t.UnixMilli()
	for _, w := range windows {
		if w.ID == id {
			return ms >= w.StartMS && ms <= w.EndMS
		}
	}
	return false
}

// covWorld holds what the methods act on.
type covWorld struct {
	t          *testing.T
	dir        string
	a, c       *testenv.User
	sshd       *testenv.SSHD
	ftp        *testenv.Vsftpd
	payload    string
	src        string // world-readable trees to copy
	actions    map[string]func()
	clientPIDs []int // FTP clients run on this host
}

func newCovWorld(t *testing.T, dir string, a, c *testenv.User, sshd *testenv.SSHD, ftp *testenv.Vsftpd) *covWorld {
	w := &covWorld{t: t, dir: dir, a: a, c: c, sshd: sshd, ftp: ftp, payload: writePayload(t, "coverage payload\n")}
	// The files the overwrite methods replace, already the account's.
	for _, n := range []string{"old-scp.bin", "old-scp-O.bin", "old-ftp.bin"} {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, []byte("old content\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, a.UID, a.GID); err != nil {
			t.Fatal(err)
		}
	}
	w.src = t.TempDir()
	for p, content := range map[string]string{"rtree/sub/f1.txt": "one\n", "ttree/f2.txt": "two\n", "stree/s/g.txt": "three\n"} {
		full := filepath.Join(w.src, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(w.src, 0o755); err != nil {
		t.Fatal(err)
	}
	d := func(n string) string { return filepath.Join(dir, n) }
	w.actions = map[string]func(){
		"scp":        func() { sshd.SCP(t, a, w.payload, d("scp.bin"), false, "127.0.0.41") },
		"scp-O":      func() { sshd.SCP(t, a, w.payload, d("scp-O.bin"), true, "127.0.0.42") },
		"sftp":       func() { sshd.SFTPPut(t, a, w.payload, d("sftp.bin"), "127.0.0.43") },
		"ftp":        func() { ftp.FTPPut(t, a, w.payload, d("ftp.bin"), "127.0.0.44") },
		"scp-over":   func() { sshd.SCP(t, a, w.payload, d("old-scp.bin"), false, "127.0.0.45") },
		"scp-O-over": func() { sshd.SCP(t, a, w.payload, d("old-scp-O.bin"), true, "127.0.0.46") },
		"ftp-over":   func() { ftp.FTPPut(t, a, w.payload, d("old-ftp.bin"), "127.0.0.47") },
		"sftp-rename": func() {
			w.sftp(a, "127.0.0.48", "put "+w.payload+" "+d("win.bin.filepart"), "rename "+d("win.bin.filepart")+" "+d("win.bin"))
		},
		"rsync":         func() { sshd.Rsync(t, a, w.payload, d("rsync.bin"), "127.0.0.49") },
		"rsync-inplace": func() { sshd.Rsync(t, a, w.payload, d("rsync-inplace.bin"), "127.0.0.50", "--inplace") },
		"rsync-r":       func() { sshd.Rsync(t, a, filepath.Join(w.src, "rtree")+"/", d("rtree")+"/", "127.0.0.51", "-r") },
		"internal-sftp": func() { w.sftp(c, "127.0.0.52", "put "+w.payload+" "+d("isftp.bin")) },
		"internal-sftp-mkdir": func() {
			w.sftp(c, "127.0.0.53", "mkdir "+d("isftp-dir"))
		},
		"ssh-cat": func() {
			sshd.SSH(t, a, "127.0.0.54", strings.NewReader("piped over ssh\n"), "cat > "+d("cat.bin"))
		},
		"ssh-tar": func() {
			tarball, err := exec.Command("/usr/bin/tar", "c", "-C", w.src, "ttree").Output()
			if err != nil {
				t.Fatalf("tar c: %v", err)
			}
			sshd.SSH(t, a, "127.0.0.55", bytes.NewReader(tarball), "cd "+dir+" && tar x")
		},
		"sftp-mkdir": func() { w.sftp(a, "127.0.0.56", "mkdir "+d("sftp-dir")) },
		"scp-r":      func() { w.scpR(false, "127.0.0.57", d("scp-r")) },
		"scp-O-r":    func() { w.scpR(true, "127.0.0.58", d("scp-O-r")) },
		"ftp-mkd": func() {
			out, err := exec.Command("/usr/bin/curl", "--silent", "--show-error", "--max-time", "60", "--interface", "127.0.0.59",
				"--ftp-pasv", "--user", a.Name+":"+a.Password, "-Q", "MKD "+d("ftp-dir"),
				fmt.Sprintf("ftp://127.0.0.1:%d/", ftp.Port)).CombinedOutput()
			if err != nil {
				t.Fatalf("curl MKD: %v: %s", err, out)
			}
		},
		"tnftp-get": func() { w.ftpGet("/usr/bin/tnftp", d("ftp.bin"), d("tnftp.bin")) },
		"ftp-get":   func() { w.ftpGet("/usr/bin/ftp", d("ftp.bin"), d("ftp-get.bin")) },
	}
	return w
}

// sshLogin reports whether method id logs in over ssh.
func (w *covWorld) sshLogin(id string) bool {
	return !strings.HasPrefix(id, "ftp") && !strings.HasSuffix(id, "-get")
}

// sftp runs one sftp batch session as u from addr.
func (w *covWorld) sftp(u *testenv.User, addr string, lines ...string) {
	w.t.Helper()
	batch := filepath.Join(w.t.TempDir(), "batch")
	if err := os.WriteFile(batch, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		w.t.Fatal(err)
	}
	if err := sftpBatch(u, w.sshd.Port, addr, batch); err != nil {
		w.t.Fatal(err)
	}
}

// scpR copies the tree stree (s/g.txt) to dest with scp -r.
func (w *covWorld) scpR(legacy bool, addr, dest string) {
	w.t.Helper()
	args := sshOpts(w.a, w.sshd.Port, addr)
	if legacy {
		args = append(args, "-O")
	}
	args = append(args, "-r", filepath.Join(w.src, "stree"), w.a.Name+"@127.0.0.1:"+dest)
	if out, err := exec.Command("/usr/bin/scp", args...).CombinedOutput(); err != nil {
		w.t.Fatalf("scp -r: %v: %s", err, out)
	}
}

// ftpGet downloads remote to local with the FTP client at bin (tnftp
// itself, or its alternatives link /usr/bin/ftp: the kernel names the
// process after the path it was run by).
func (w *covWorld) ftpGet(bin, remote, local string) {
	w.t.Helper()
	cmd := exec.Command(bin, "-n", "127.0.0.1", fmt.Sprint(w.ftp.Port))
	cmd.Stdin = strings.NewReader(fmt.Sprintf("user %s %s\nbinary\npassive on\nget %s %s\nquit\n", w.a.Name, w.a.Password, remote, local))
	out, err := runRecordingPID(cmd, &w.clientPIDs)
	if err != nil {
		w.t.Fatalf("%s get: %v: %s", bin, err, out)
	}
	if _, err := os.Stat(local); err != nil {
		w.t.Fatalf("%s get: %v: %s", bin, err, out)
	}
}

func runRecordingPID(cmd *exec.Cmd, pids *[]int) ([]byte, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	*pids = append(*pids, cmd.Process.Pid)
	err := cmd.Wait()
	return out.Bytes(), err
}

// logHas reports whether some line of the log at p holds every part.
func (w *covWorld) logHas(p string, parts ...string) bool {
	b, err := os.ReadFile(p)
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		ok := true
		for _, part := range parts {
			if !strings.Contains(l, part) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// writeCoverageCapture keeps the run's audit log, reduced to the servers',
// the FTP clients' and the test users' events, and the methods' windows,
// as the capture the unit tests read (testdata/coverage).
func writeCoverageCapture(t *testing.T, logPath, dir string, windows []methods.Window, roots, clients []int, users ...*testenv.User) {
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(raw), "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	var uids []int
	for _, u := range users {
		uids = append(uids, u.UID)
	}
	kept := capture.Scrub(lines, capture.Tree{Roots: append(roots, clients...), UIDs: uids})
	// xferhunt's own rule installs (CONFIG_CHANGE, with the SYSCALL of the
	// netlink write that made them) say nothing of the transfers.
	installs := map[string]bool{}
	for _, l := range kept {
		if strings.HasPrefix(l, "type=CONFIG_CHANGE ") {
			installs[auditID(l)] = true
		}
	}
	kept = slices.DeleteFunc(kept, func(l string) bool { return installs[auditID(l)] })
	dst := filepath.Join(repoRoot, coverageCaptureDir)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "raw.log"), []byte(strings.Join(kept, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(methods.Run{Dir: dir, Windows: windows}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "windows.json"), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s/raw.log: %d of %d lines", dst, len(kept), len(lines))
}

// auditID is the audit(time:serial) of a record, "" for a line without one.
func auditID(l string) string {
	_, rest, ok := strings.Cut(l, "msg=audit(")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, ")")
	return id
}
