// Command hostload generates the host workloads that scripts/bench-host.sh times
// under each audit configuration. Every subcommand does its work sequentially,
// prints one machine-readable line and exits non-zero if any unit of work failed:
//
//	workload=create n=200000 seconds=1.893412
//
// Only the work itself is timed; set-up (a listener, a prepared tarball) and
// clean-up (removing the created files) happen outside the timed part.
//
//	hostload create -n 200000 -dir /dev/shm/x  open(O_CREAT|O_EXCL)+close of n new files in dir
//	hostload mkdir -n 200000 -dir /dev/shm/x   mkdir of n new directories in dir
//	hostload exec -n 20000                     fork+exec /bin/true n times, one after another
//	hostload connect -n 20000                  n loopback TCP connects to its own 127.0.0.1:0 listener
//	hostload prepare -dir D                    make D/src.tar (of -src) and D/repo (a small git repo)
//	hostload mixed -dir D                      tar x of D/src.tar, git clone of D/repo, -pipelines shell pipelines
//
// Not a test helper: a tool for humans and the benchmark script. Loopback only.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pipeline is the shell pipeline the mixed job runs -pipelines times; it prints 1000.
const pipeline = "seq 1000 | sort | uniq | wc -l"

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hostload:", err)
		os.Exit(1)
	}
}

const usage = `usage: hostload create -n N -dir DIR
       hostload mkdir -n N -dir DIR
       hostload exec -n N [-bin /bin/true]
       hostload connect -n N
       hostload prepare -dir DIR [-src /usr/local/go/src]
       hostload mixed -dir DIR [-pipelines 150]`

// run dispatches a subcommand and prints its result line on out.
func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	name := args[0]
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	n := fs.Int("n", 0, "units of work")
	dir := fs.String("dir", "", "working directory (create: must be empty or absent)")
	bin := fs.String("bin", "/bin/true", "exec: program to run")
	src := fs.String("src", "/usr/local/go/src", "prepare: tree to put in the tarball")
	pipelines := fs.Int("pipelines", 150, "mixed: shell pipelines to run")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	needN := func() error {
		if *n <= 0 {
			return fmt.Errorf("%s: -n must be > 0", name)
		}
		return nil
	}
	needDir := func() error {
		if *dir == "" {
			return fmt.Errorf("%s: -dir is required", name)
		}
		return nil
	}
	var (
		done    int
		elapsed time.Duration
		err     error
	)
	switch name {
	case "create":
		if err := errors.Join(needN(), needDir()); err != nil {
			return err
		}
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			return err
		}
		start := time.Now()
		done, err = createFiles(*dir, *n)
		elapsed = time.Since(start)
		if rerr := removeFiles(*dir, done); err == nil {
			err = rerr
		}
	case "mkdir":
		if err := errors.Join(needN(), needDir()); err != nil {
			return err
		}
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			return err
		}
		start := time.Now()
		done, err = makeDirs(*dir, *n)
		elapsed = time.Since(start)
		if rerr := removeDirs(*dir, done); err == nil {
			err = rerr
		}
	case "exec":
		if err := needN(); err != nil {
			return err
		}
		start := time.Now()
		done, err = execLoop(*bin, *n)
		elapsed = time.Since(start)
	case "connect":
		if err := needN(); err != nil {
			return err
		}
		done, elapsed, err = connectLoop(*n)
	case "prepare":
		if err := needDir(); err != nil {
			return err
		}
		return prepareMixed(*dir, *src)
	case "mixed":
		if err := needDir(); err != nil {
			return err
		}
		var res mixedResult
		res, elapsed, err = mixedJob(*dir, *pipelines)
		done = res.Pipelines
	default:
		return fmt.Errorf("unknown subcommand %q\n%s", name, usage)
	}
	if err != nil {
		return fmt.Errorf("%s: %d done: %w", name, done, err)
	}
	_, err = fmt.Fprintf(out, "workload=%s n=%d seconds=%.6f\n", name, done, elapsed.Seconds())
	return err
}

// fileName is the i-th file createFiles makes in dir.
func fileName(dir string, i int) string {
	return filepath.Join(dir, "f"+strconv.Itoa(i))
}

// createFiles creates n new empty files in dir, each with one
// open(O_CREAT|O_EXCL) and one close, and returns how many it made.
func createFiles(dir string, n int) (int, error) {
	for i := 0; i < n; i++ {
		fd, err := syscall.Open(fileName(dir, i), syscall.O_CREAT|syscall.O_EXCL|syscall.O_WRONLY|syscall.O_CLOEXEC, 0o644)
		if err != nil {
			return i, fmt.Errorf("create %s: %w", fileName(dir, i), err)
		}
		if err := syscall.Close(fd); err != nil {
			return i + 1, err
		}
	}
	return n, nil
}

// removeFiles deletes the first n files createFiles made in dir.
func removeFiles(dir string, n int) error {
	for i := 0; i < n; i++ {
		if err := syscall.Unlink(fileName(dir, i)); err != nil {
			return fmt.Errorf("remove %s: %w", fileName(dir, i), err)
		}
	}
	return nil
}

// makeDirs creates n new directories in dir, one mkdir each, and returns
// how many it made.
func makeDirs(dir string, n int) (int, error) {
	for i := 0; i < n; i++ {
		if err := syscall.Mkdir(fileName(dir, i), 0o755); err != nil {
			return i, fmt.Errorf("mkdir %s: %w", fileName(dir, i), err)
		}
	}
	return n, nil
}

// removeDirs removes the first n directories makeDirs made in dir.
func removeDirs(dir string, n int) error {
	for i := 0; i < n; i++ {
		if err := syscall.Rmdir(fileName(dir, i)); err != nil {
			return fmt.Errorf("rmdir %s: %w", fileName(dir, i), err)
		}
	}
	return nil
}

// execLoop runs bin n times in a row, each a fork+exec waited for, and
// returns how many exited successfully.
func execLoop(bin string, n int) (int, error) {
	for i := 0; i < n; i++ {
		if err := exec.Command(bin).Run(); err != nil {
			return i, fmt.Errorf("run %s: %w", bin, err)
		}
	}
	return n, nil
}

// connectLoop starts a listener on 127.0.0.1:0 that accepts and closes every
// connection, then connects to it n times in a row, each connection closed
// by the client with an RST (SO_LINGER 0) so that no client port lingers in
// TIME_WAIT across runs. It returns the number of connections the listener
// accepted and the time from the first connect to the last accept.
func connectLoop(n int) (int, time.Duration, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	defer ln.Close()
	accepted := make(chan int, 1)
	go func() {
		k := 0
		for ; k < n; k++ {
			c, err := ln.Accept()
			if err != nil {
				break
			}
			c.Close()
		}
		accepted <- k
	}()
	addr := ln.Addr().String()
	start := time.Now()
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			ln.Close()
			<-accepted
			return i, time.Since(start), fmt.Errorf("connect %s: %w", addr, err)
		}
		_ = c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}
	k := <-accepted
	elapsed := time.Since(start)
	if k != n {
		return k, elapsed, fmt.Errorf("listener accepted %d of %d", k, n)
	}
	return k, elapsed, nil
}

// prepareMixed makes, once and untimed, the inputs of the mixed job in dir:
// src.tar, a tarball of the tree src (top directory "src"), and repo, a small
// git repository of 200 generated files over 3 commits. Existing inputs are kept.
func prepareMixed(dir, src string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tarball := filepath.Join(dir, "src.tar")
	if _, err := os.Stat(tarball); err != nil {
		tmp := tarball + ".tmp"
		if err := command("", "tar", "-cf", tmp, "-C", filepath.Dir(src), filepath.Base(src)).Run(); err != nil {
			return fmt.Errorf("tar c %s: %w", src, err)
		}
		if err := os.Rename(tmp, tarball); err != nil {
			return err
		}
	}
	repo := filepath.Join(dir, "repo")
	if _, err := os.Stat(filepath.Join(repo, ".git")); err == nil {
		return nil
	}
	if err := os.RemoveAll(repo); err != nil {
		return err
	}
	if err := command("", "git", "init", "-q", repo).Run(); err != nil {
		return fmt.Errorf("git init: %w", err)
	}
	for c := 0; c < 3; c++ {
		for i := 0; i < 200; i++ {
			body := strings.Repeat(fmt.Sprintf("file %d line of commit %d\n", i, c), 20+i%50)
			p := filepath.Join(repo, "d"+strconv.Itoa(i%10), "f"+strconv.Itoa(i)+".txt")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				return err
			}
		}
		for _, args := range [][]string{{"add", "-A"}, {"commit", "-q", "-m", "commit " + strconv.Itoa(c)}} {
			if out, err := command(repo, "git", args...).CombinedOutput(); err != nil {
				return fmt.Errorf("git %s: %w: %s", args[0], err, out)
			}
		}
	}
	return nil
}

// mixedResult is what one mixed job did, for the test to check.
type mixedResult struct {
	// Extracted is the number of regular files tar extracted.
	Extracted int
	// Cloned is the number of files git checked out in the clone.
	Cloned int
	// Pipelines is the number of pipelines that printed 1000.
	Pipelines int
}

// mixedJob extracts dir/src.tar into a fresh directory, clones dir/repo over
// file:// (git's pack protocol, as a remote clone would) and runs the shell
// pipeline `pipelines` times, all in a row, and returns the time they took.
// The fresh directory is counted and removed afterwards, untimed.
func mixedJob(dir string, pipelines int) (mixedResult, time.Duration, error) {
	var res mixedResult
	dir, err := filepath.Abs(dir)
	if err != nil {
		return res, 0, err
	}
	for _, p := range []string{filepath.Join(dir, "src.tar"), filepath.Join(dir, "repo", ".git")} {
		if _, err := os.Stat(p); err != nil {
			return res, 0, fmt.Errorf("not prepared (run hostload prepare -dir %s): %w", dir, err)
		}
	}
	work, err := os.MkdirTemp(dir, "run-")
	if err != nil {
		return res, 0, err
	}
	defer os.RemoveAll(work)
	start := time.Now()
	if out, err := command(work, "tar", "-xf", filepath.Join(dir, "src.tar")).CombinedOutput(); err != nil {
		return res, time.Since(start), fmt.Errorf("tar x: %w: %s", err, out)
	}
	clone := filepath.Join(work, "clone")
	if out, err := command(work, "git", "clone", "-q", "file://"+filepath.Join(dir, "repo"), clone).CombinedOutput(); err != nil {
		return res, time.Since(start), fmt.Errorf("git clone: %w: %s", err, out)
	}
	for i := 0; i < pipelines; i++ {
		out, err := command(work, "sh", "-c", pipeline).Output()
		if err != nil {
			return res, time.Since(start), fmt.Errorf("pipeline %d: %w", i, err)
		}
		if strings.TrimSpace(string(out)) != "1000" {
			return res, time.Since(start), fmt.Errorf("pipeline %d printed %q, want 1000", i, out)
		}
		res.Pipelines++
	}
	elapsed := time.Since(start)
	res.Extracted, err = countFiles(work, clone)
	if err != nil {
		return res, elapsed, err
	}
	res.Cloned, err = countFiles(clone, filepath.Join(clone, ".git"))
	return res, elapsed, err
}

// countFiles counts the regular files under root, skipping the tree skip.
func countFiles(root, skip string) (int, error) {
	n := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == skip {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n, err
}

// command is exec.Command run in dir (when not empty) with a git identity,
// so that commits work in a bare root environment.
func command(dir, name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.Dir = dir
	c.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=hostload", "GIT_AUTHOR_EMAIL=hostload@localhost",
		"GIT_COMMITTER_NAME=hostload", "GIT_COMMITTER_EMAIL=hostload@localhost",
		"GIT_CONFIG_NOSYSTEM=1")
	return c
}
