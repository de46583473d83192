package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/enrich"
	"github.com/xferhunt/xferhunt/internal/liveness"
)

// testLive sets up cfg's live pipeline; the setup closes when the test ends.
func testLive(t *testing.T, cfg Config) *live {
	t.Helper()
	s, err := newSetup(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// This host, as Live sets it: the test's log lines are this host's.
	s.here = liveness.Host{ID: cfg.hostID(), Boot: liveness.BootID()}
	srcs, err := openSources(&cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	return newLive(s, srcs)
}

// TestAlertUpdatedWhenUploadDone: a live upload's alert goes out at once
// with its file facts pending while the writer (a real process) still
// holds the file, and again, same kibana.alert.uuid, with the real size and
// sha256 marked final once the writer has closed it.
func TestAlertUpdatedWhenUploadDone(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(log, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "upload.bin")
	cmd := exec.Command("sh", "-c", `exec cat > "$1"`, "sh", target)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { in.Close(); cmd.Wait() }()
	var ino uint64
	for i := 0; i < 500 && ino == 0; i++ {
		if fi, err := os.Stat(target); err == nil {
			ino = fi.Sys().(*syscall.Stat_t).Ino
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ino == 0 {
		t.Fatal("writer never created the file")
	}
	var errb bytes.Buffer
	l := testLive(t, Config{Rules: []string{"seed"}, Ephemeral: true, HostID: "h1", Sources: []string{"auditlog:" + log}, Stderr: &errb})
	var mu sync.Mutex
	var got []ecs.Doc
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- l.run(ctx, func(a detect.Alert) {
			mu.Lock()
			got = append(got, a.Doc.Clone())
			mu.Unlock()
		})
	}()
	<-l.ready()
	h := fmt.Sprintf("msg=audit(%d.000:77):", time.Now().Unix())
	rec := fmt.Sprintf("type=SYSCALL %s arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55be209674e0 a2=241 a3=1a4 items=2 ppid=1 pid=%d auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=(none) ses=2 comm=\"scp\" exe=\"/usr/bin/scp\" key=\"xferhunt\"\n", h, cmd.Process.Pid) +
		fmt.Sprintf("type=CWD %s cwd=\"%s\"\n", h, dir) +
		fmt.Sprintf("type=PATH %s item=0 name=\"%s/\" inode=2 dev=fe:00 mode=040700 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n", h, dir) +
		fmt.Sprintf("type=PATH %s item=1 name=\"%s\" inode=%d dev=fe:00 mode=0100644 ouid=1001 ogid=1001 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n", h, target, ino) +
		fmt.Sprintf("type=PROCTITLE %s proctitle=736370002D74002E\n", h) +
		fmt.Sprintf("type=EOE %s\n", h)
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(rec)
	f.Close()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
	for deadline := time.Now().Add(30 * time.Second); count() < 1 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if count() != 1 {
		t.Fatalf("%d alerts before the upload ended (stderr %s)", count(), errb.String())
	}
	body := bytes.Repeat([]byte("upload "), 300000)
	in.Write(body)
	in.Close()
	cmd.Wait()
	for deadline := time.Now().Add(30 * time.Second); count() < 2 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d documents, want the alert and its update", len(got))
	}
	first, upd := got[0], got[1]
	if first.Str(enrich.FileFactsState) != enrich.FactsPending || first.Get(enrich.FileSHA256) != nil {
		t.Errorf("first document's facts: %v", first.Get("xferhunt.file"))
	}
	if upd.Str("kibana.alert.uuid") != first.Str("kibana.alert.uuid") || upd.Str("kibana.alert.uuid") == "" {
		t.Errorf("update uuid %q, alert %q", upd.Str("kibana.alert.uuid"), first.Str("kibana.alert.uuid"))
	}
	if upd.Str(enrich.FileFactsState) != enrich.FactsFinal || upd.Str(enrich.FileSHA256) != fmt.Sprintf("%x", sha256.Sum256(body)) {
		t.Errorf("update's facts: %v", upd.Get("xferhunt.file"))
	}
	if sz, _ := ecs.Float(upd.Get(enrich.FileSize)); int(sz) != len(body) {
		t.Errorf("update size %v, want %d", upd.Get(enrich.FileSize), len(body))
	}
}
