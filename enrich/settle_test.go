package enrich

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
)

// writer starts a real process that holds path open for writing (cat >
// path) until its stdin is closed, the way scp -t or sftp-server holds an
// upload's target.
func writer(t *testing.T, path string) (*exec.Cmd, func([]byte), func()) {
	t.Helper()
	cmd := exec.Command("sh", "-c", `exec cat > "$1"`, "sh", path)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	closed := false
	done := func() {
		if !closed {
			closed = true
			in.Close()
			cmd.Wait()
		}
	}
	t.Cleanup(done)
	write := func(b []byte) {
		if _, err := in.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until the shell has opened the file.
	for i := 0; i < 200; i++ {
		if ff := StatFile(context.Background(), path, 0); ff.Exists {
			if held, _ := (Proc{}).Holds(cmd.Process.Pid, ff.Dev, ff.Ino); held {
				return cmd, write, done
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("writer never opened the file")
	return nil, nil, nil
}

// TestFactsWaitForTheWriter: an alert raised while the writer still holds
// the file says its facts are pending (no size 0, no hash of nothing);
// Settle returns once the writer closed it, with the real size and hash,
// marked final.
func TestFactsWaitForTheWriter(t *testing.T) {
	p := filepath.Join(t.TempDir(), "upload.bin")
	cmd, write, done := writer(t, p)
	d := ecs.Doc{}
	d.Set("file.path", p)
	d.Set("process.pid", cmd.Process.Pid)
	e := New(Options{})
	if !e.Alert(context.Background(), d) {
		t.Fatalf("facts not pending while the writer holds the file: %v", d.Get("xferhunt.file"))
	}
	if d.Str(FileFactsState) != FactsPending || d.Get(FileSize) != nil || d.Get(FileSHA256) != nil {
		t.Fatalf("pending facts: %v", d.Get("xferhunt.file"))
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	settled := make(chan struct{})
	go func() {
		defer close(settled)
		e.Settle(context.Background(), d, time.Minute)
	}()
	write(body[:len(body)/2])
	time.Sleep(100 * time.Millisecond)
	select {
	case <-settled:
		t.Fatal("Settle returned while the writer still held the file")
	default:
	}
	write(body[len(body)/2:])
	done()
	select {
	case <-settled:
	case <-time.After(30 * time.Second):
		t.Fatal("Settle did not return after the writer exited")
	}
	if d.Str(FileFactsState) != FactsFinal {
		t.Errorf("state %q, want final", d.Str(FileFactsState))
	}
	if got, _ := ecs.Float(d.Get(FileSize)); int(got) != len(body) {
		t.Errorf("size %v, want %d", d.Get(FileSize), len(body))
	}
	if got, want := d.Str(FileSHA256), fmt.Sprintf("%x", sha256.Sum256(body)); got != want {
		t.Errorf("sha256 %q, want %q", got, want)
	}
	if d.Str(FileType) != "text" {
		t.Errorf("type %q", d.Str(FileType))
	}
}

// TestSettleBounded: a writer that never lets go leaves the facts partial
// once the wait ends, and Recheck says partial while it holds the file.
func TestSettleBounded(t *testing.T) {
	p := filepath.Join(t.TempDir(), "slow.bin")
	cmd, write, _ := writer(t, p)
	write([]byte("partial content"))
	d := ecs.Doc{}
	d.Set("file.path", p)
	d.Set("process.pid", cmd.Process.Pid)
	e := New(Options{})
	start := time.Now()
	e.Settle(context.Background(), d, 300*time.Millisecond)
	if el := time.Since(start); el > 20*time.Second {
		t.Errorf("bounded wait took %v", el)
	}
	if d.Str(FileFactsState) != FactsPartial || d.Get(FileExists) != true {
		t.Fatalf("after the bound: %v", d.Get("xferhunt.file"))
	}
	d2 := ecs.Doc{}
	d2.Set("file.path", p)
	d2.Set("process.pid", cmd.Process.Pid)
	e.Recheck(context.Background(), d2)
	if d2.Str(FileFactsState) != FactsPartial || d2.Str(FileSHA256) == "" {
		t.Fatalf("recheck while held: %v", d2.Get("xferhunt.file"))
	}
	// A cancelled context ends the wait at once, partial as well.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d3 := ecs.Doc{}
	d3.Set("file.path", p)
	d3.Set("process.pid", cmd.Process.Pid)
	e.Settle(ctx, d3, time.Hour)
	if d3.Str(FileFactsState) != FactsPartial {
		t.Fatalf("cancelled settle: %v", d3.Get("xferhunt.file"))
	}
}

// TestReplacedFileSaysSo: facts of a path that now names another inode
// than the event recorded carry xferhunt.file.replaced.
func TestReplacedFileSaysSo(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	cmd, _, done := writer(t, p)
	_ = cmd
	done()
	d := ecs.Doc{}
	d.Set("file.path", p)
	d.Set("file.inode", "1")
	New(Options{}).Recheck(context.Background(), d)
	if d.Get(FileReplaced) != true || d.Str(FileFactsState) != FactsFinal {
		t.Fatalf("replaced: %v", d.Get("xferhunt.file"))
	}
}
