package live

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/internal/testenv"
	"github.com/xferhunt/xferhunt/sources/auditrules"
)

// perFileTerms makes every distinct uploaded path a new term, so N uploads
// must give exactly N alerts and a repeated or lost line shows.
var perFileTerms = []string{"--new-terms-fields", "file.path,host.id"}

// checkOncePerPath asserts that every path in want got exactly one alert
// and reports alerts on paths under dir that were not uploaded.
func checkOncePerPath(t *testing.T, as []alert, dir string, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, a := range as {
		if strings.HasPrefix(a.Path, dir+"/") {
			seen[a.Path]++
		}
	}
	missing, dup := 0, 0
	for _, p := range want {
		switch n := seen[p]; {
		case n == 0:
			missing++
			t.Errorf("no alert for %s", p)
		case n > 1:
			dup++
			t.Errorf("%d alerts for %s, want 1", n, p)
		}
		delete(seen, p)
	}
	for p, n := range seen {
		t.Errorf("%d alerts for %s, which was never uploaded", n, p)
	}
	t.Logf("%d uploads: %d missing, %d duplicated", len(want), missing, dup)
}

// checkFields asserts field values on every alert under dir, reporting
// each distinct mismatch once.
func checkFields(t *testing.T, as []alert, dir string, want map[string]string) {
	t.Helper()
	bad := map[string]int{}
	for _, a := range as {
		if !strings.HasPrefix(a.Path, dir+"/") {
			continue
		}
		for f, w := range want {
			if got := a.Doc.Str(f); got != w {
				bad[fmt.Sprintf("%s = %q, want %q", f, got, w)]++
			}
		}
	}
	for m, n := range bad {
		t.Errorf("%d alerts: %s", n, m)
	}
}

// TestAuditLogRotation follows auditd's log through a rotation that
// happens in the middle of a burst of real SFTP uploads.
func TestAuditLogRotation(t *testing.T) {
	testenv.LockAudit(t)
	dir := t.TempDir()
	rules := filepath.Join(dir, "xferhunt.rules")
	if err := os.WriteFile(rules, []byte(auditrules.Text), 0o600); err != nil {
		t.Fatal(err)
	}
	ad := testenv.StartAuditdOpts(t, testenv.AuditdOptions{Dir: filepath.Join(dir, "auditd"), Format: "RAW",
		RulesFile: rules, MaxLogFileMB: 100, NumLogs: 5})
	u := testenv.CreateUser(t, "xfe2t-a")
	sshd := testenv.StartSSHD(t, 22250)
	payload := writePayload(t, "burst\n")
	drop := dropDir(t, "/tmp", "xferhunt-e2e-tail-")

	args := append([]string{"--headless", "--ephemeral", "--source", "auditlog:" + ad.LogPath}, perFileTerms...)
	x := startXferhunt(t, xferOptions{}, args...)
	x.waitReady(15 * time.Second)

	var want []string
	batch := func(name string, n int) string {
		var b strings.Builder
		for i := range n {
			p := filepath.Join(drop, fmt.Sprintf("%s-%03d.bin", name, i))
			want = append(want, p)
			fmt.Fprintf(&b, "put %s %s\n", payload, p)
		}
		f := filepath.Join(dir, name+".batch")
		if err := os.WriteFile(f, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	// Each burst runs in the background and auditd rotates its log as soon
	// as the burst's first file exists, when most of its records are still
	// ahead: two rotations, each splitting a burst.
	for _, b := range []struct {
		name string
		n    int
	}{{"before", 30}, {"after", 20}} {
		first := len(want)
		file := batch(b.name, b.n)
		done := make(chan error, 1)
		go func() { done <- sftpBatch(u, sshd.Port, "127.0.0.9", file) }()
		// auditd writes asynchronously: wait until the first file's record
		// is in the log itself, or the rotation may come before it.
		firstName := []byte(filepath.Base(want[first]))
		testenv.WaitFor(t, func() bool {
			b, err := os.ReadFile(ad.LogPath)
			return err == nil && bytes.Contains(b, firstName)
		}, 20*time.Second, "the burst's first file in auditd's log")
		ad.Rotate(t)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	// Both files hold part of the burst, or the rotation came too late to
	// test anything.
	for _, f := range []string{ad.LogPath + ".2", ad.LogPath + ".1", ad.LogPath} {
		b, _ := os.ReadFile(f)
		if !strings.Contains(string(b), filepath.Base(drop)) {
			t.Errorf("%s holds none of the uploads: the rotation did not split the burst", f)
		}
	}

	inDrop := func(a alert) bool { return strings.HasPrefix(a.Path, drop+"/") }
	if !x.waitCount(inDrop, len(want), 15*time.Second) {
		t.Errorf("timed out waiting for %d alerts", len(want))
	}
	time.Sleep(alertBound) // room for duplicates to show
	x.stop(5 * time.Second)
	t.Log(x.lastStatus())
	checkOncePerPath(t, x.Alerts(), drop, want)
	checkFields(t, x.Alerts(), drop, map[string]string{"process.executable": "/usr/lib/openssh/sftp-server",
		"user.name": u.Name, "source.ip": "127.0.0.9"})
	if st := x.finalStatus(); st.Sources[0].Malformed != 0 || st.Sources[0].Lost != 0 {
		t.Errorf("status reports malformed or lost records: %s", x.lastStatus())
	}
}

// auditbeatDoc is an Auditbeat auditd-module document for an openat that
// created path, shaped like Auditbeat 8's file output (see
// /work/shared/samples/auditbeat-ecs/): an "opened-file" action whose
// PATH items say CREATE.
func auditbeatDoc(path string, seq int, at time.Time, hostID string) []byte {
	doc := map[string]any{
		"@timestamp": at.UTC().Format(time.RFC3339Nano),
		"agent":      map[string]any{"type": "auditbeat", "version": "8.17.0"},
		"auditd": map[string]any{
			"data": map[string]any{"syscall": "openat", "a0": "ffffff9c", "a1": "55be209674e0", "a2": "41", "a3": "1a4",
				"arch": "x86_64", "exit": "3", "tty": "(none)"},
			"message_type": "syscall",
			"paths": []any{
				map[string]any{"item": "0", "name": filepath.Dir(path) + "/", "nametype": "PARENT", "inode": "246947", "mode": "041777", "ouid": "0", "ogid": "0"},
				map[string]any{"item": "1", "name": path, "nametype": "CREATE", "inode": fmt.Sprint(9978000 + seq), "mode": "0100644", "ouid": "1001", "ogid": "1001"},
			},
			"result":   "success",
			"sequence": seq,
			"session":  "2",
			"summary": map[string]any{
				"actor":  map[string]any{"primary": "victim", "secondary": "victim"},
				"how":    "/usr/lib/openssh/sftp-server",
				"object": map[string]any{"primary": path, "type": "file"},
			},
		},
		"event": map[string]any{"action": "opened-file", "category": []any{"file"}, "kind": "event",
			"module": "auditd", "outcome": "success", "type": []any{"creation"}},
		"host":    map[string]any{"id": hostID, "name": "e2e-host", "os": map[string]any{"type": "linux"}},
		"process": map[string]any{"pid": 7846, "ppid": 7845, "name": "sftp-server", "executable": "/usr/lib/openssh/sftp-server", "working_directory": "/home/victim"},
		"user":    map[string]any{"id": "1001", "name": "victim", "audit": map[string]any{"id": "1001", "name": "victim"}},
		"service": map[string]any{"type": "auditd"},
	}
	b, _ := json.Marshal(doc)
	return append(b, '\n')
}

// TestAuditbeatRenameRecreate follows an Auditbeat NDJSON file that is
// renamed to auditbeat.1 and re-created mid-stream, with lines still
// written to the renamed file before the new one appears.
func TestAuditbeatRenameRecreate(t *testing.T) {
	// No kernel audit here: any user can run it.
	dir := t.TempDir()
	live := filepath.Join(dir, "auditbeat")
	f, err := os.Create(live)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const hostID = "e2e-auditbeat-host"
	args := append([]string{"--headless", "--ephemeral", "--host-id", hostID, "--source", "auditbeat:" + live}, perFileTerms...)
	x := startXferhunt(t, xferOptions{}, args...)
	x.waitReady(15 * time.Second)

	const drop = "/srv/e2e-drop"
	var want []string
	seq := 1000
	write := func(w *os.File, name string, n int) {
		t.Helper()
		for i := range n {
			p := fmt.Sprintf("%s/%s-%03d.bin", drop, name, i)
			want = append(want, p)
			seq++
			if _, err := w.Write(auditbeatDoc(p, seq, time.Now(), hostID)); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(f, "first", 40)
	if err := os.Rename(live, live+".1"); err != nil {
		t.Fatal(err)
	}
	// The writer has not switched yet: these land in auditbeat.1.
	write(f, "late", 5)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	g, err := os.Create(live)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	write(g, "second", 40)

	inDrop := func(a alert) bool { return strings.HasPrefix(a.Path, drop+"/") }
	if !x.waitCount(inDrop, len(want), 15*time.Second) {
		t.Errorf("timed out waiting for %d alerts", len(want))
	}
	time.Sleep(alertBound)
	x.stop(5 * time.Second)
	t.Log(x.lastStatus())
	checkOncePerPath(t, x.Alerts(), drop, want)
	checkFields(t, x.Alerts(), drop, map[string]string{"process.executable": "/usr/lib/openssh/sftp-server",
		"user.name": "victim", "host.id": hostID, "event.action": "creation"})
	st := x.finalStatus()
	if st.Sources[0].Malformed != 0 || st.Sources[0].Events != int64(len(want)) {
		t.Errorf("status: want %d events and no malformed lines: %s", len(want), x.lastStatus())
	}
}

// creationRecords is an sftp-server upload of path as auditd logs it, cut
// where a writer may pause: after the SYSCALL, CWD and parent PATH records,
// and in the middle of the CREATE record.
func creationRecords(serial int, at time.Time, path string) (head, mid, tail string) {
	h := fmt.Sprintf("msg=audit(%d.%03d:%d):", at.Unix(), at.Nanosecond()/1e6, serial)
	head = "type=SYSCALL " + h + ` arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55be209674e0 a2=41 a3=1a4 items=2 ppid=7845 pid=7846 auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=(none) ses=2 comm="sftp-server" exe="/usr/lib/openssh/sftp-server" key="xferhunt"` + "\n" +
		"type=CWD " + h + ` cwd="/home/victim"` + "\n" +
		"type=PATH " + h + ` item=0 name="` + filepath.Dir(path) + `/" inode=246947 dev=fe:00 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0` + "\n"
	create := "type=PATH " + h + ` item=1 name="` + path + `" inode=9978498 dev=fe:00 mode=0100644 ouid=1001 ogid=1001 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0` + "\n"
	return head, create[:len(create)/2], create[len(create)/2:] +
		"type=PROCTITLE " + h + ` proctitle=62617368002D63002F7573722F6C69622F6F70656E7373682F736674702D736572766572` + "\n"
}

// TestAuditlogPausesAndRotationEveryEvent: the headless binary follows an
// auditd log whose writer pauses 300 ms inside every upload's event (once
// between records, once inside the CREATE record) and rotates the log
// after every event (rename, keep 3). Before, the idle flush cut each event
// short of its CREATE record and the uploads were lost with gaps=0 (issue 9
// item 14); now each raises its alert once and the status counts nothing
// lost, gapped, malformed or dropped.
func TestAuditlogPausesAndRotationEveryEvent(t *testing.T) {
	// No kernel audit here: any user can run it.
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(log, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--headless", "--ephemeral", "--source", "auditlog:" + log}, perFileTerms...)
	x := startXferhunt(t, xferOptions{}, args...)
	x.waitReady(15 * time.Second)

	const drop, n = "/srv/e2e-paused", 8
	var want []string
	inDrop := func(a alert) bool { return strings.HasPrefix(a.Path, drop+"/") }
	for i := range n {
		p := fmt.Sprintf("%s/upload-%02d.bin", drop, i)
		want = append(want, p)
		head, mid, rest := creationRecords(5000+i, time.Now(), p)
		f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range []string{head, mid, rest} {
			if _, err := f.WriteString(part); err != nil {
				t.Fatal(err)
			}
			if part != rest {
				time.Sleep(300 * time.Millisecond)
			}
		}
		f.Close()
		if !x.waitCount(inDrop, len(want), 10*time.Second) {
			t.Fatalf("no alert for %s", p)
		}
		for j := 2; j >= 1; j-- {
			os.Rename(fmt.Sprintf("%s.%d", log, j), fmt.Sprintf("%s.%d", log, j+1))
		}
		if err := os.Rename(log, log+".1"); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(log, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(alertBound) // room for duplicates to show
	x.stop(5 * time.Second)
	t.Log(x.lastStatus())
	checkOncePerPath(t, x.Alerts(), drop, want)
	checkFields(t, x.Alerts(), drop, map[string]string{"process.executable": "/usr/lib/openssh/sftp-server", "event.action": "creation"})
	st := x.finalStatus().Sources[0]
	if st.Events != n || st.Lost != 0 || st.Gaps != 0 || st.Malformed != 0 || st.Dropped != 0 {
		t.Errorf("status: want %d events and nothing lost, gapped, malformed or dropped: %s", n, x.lastStatus())
	}
}
