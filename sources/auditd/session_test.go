package auditd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/sources"
)

// staleLogin is a USER_LOGIN of an older session that had the same audit
// session id (36) as the capture's scp login, from another address: ids
// restart at boot, and a log (or a hostile local user writing to it
// through a PAM module) can hold both.
const staleLogin = `type=USER_LOGIN msg=audit(1795662700.120:5001): pid=1200 uid=0 auid=1001 ses=36 msg='op=login id=1001 exe="/usr/sbin/sshd" hostname=72.83.230.100 addr=72.83.230.100 terminal=/dev/pts/0 res=success'`

// TestSessionIdReused: the stale login placed before the real capture must
// not lend its address to the capture's scp upload, whose own session
// records (LOGIN, USER_START, CRED_ACQ for ses 36) say 127.0.0.6 (before:
// source.ip 72.83.230.100, the first address the session table saw). With
// the kernel's LOGIN record removed, the capture's USER_START from another
// address still starts the session afresh.
func TestSessionIdReused(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "capture", "raw.log"))
	if err != nil {
		t.Fatal(err)
	}
	capture := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	var noLogin []string
	for _, l := range capture {
		if !strings.HasPrefix(l, "type=LOGIN ") || !strings.Contains(l, " ses=36 ") {
			noLogin = append(noLogin, l)
		}
	}
	if len(noLogin) != len(capture)-1 {
		t.Fatalf("removed %d LOGIN lines for ses 36, want 1", len(capture)-len(noLogin))
	}
	for name, lines := range map[string][]string{"capture": capture, "without LOGIN": noLogin} {
		t.Run(name, func(t *testing.T) {
			in := staleLogin + "\n" + strings.Join(lines, "\n") + "\n"
			for _, workers := range []int{1, 2} {
				var legacy *sources.Event
				_, err := Scan(strings.NewReader(in), Options{HostID: "h", Workers: workers, Emit: func(ev sources.Event) {
					if ev.Doc.Str("file.path") == "/tmp/dropped-legacy.bin" && ev.Doc.Str("event.action") == "creation" {
						legacy = &ev
					}
				}})
				if err != nil || legacy == nil {
					t.Fatalf("workers=%d: no creation of /tmp/dropped-legacy.bin (err %v)", workers, err)
				}
				for f, want := range map[string]string{
					"source.ip":                      "127.0.0.6",
					"user.audit.name":                "xfvictim",
					"xferhunt.session.attributed_by": "session",
					"process.executable":             "/usr/bin/scp",
				} {
					if got := legacy.Doc.Str(f); got != want {
						t.Errorf("workers=%d: %s = %q, want %q", workers, f, got, want)
					}
				}
			}
		})
	}
}

// TestSessionLoginsReuseEntry: logins that reuse a session id (and PAM
// conversations that reuse a pid) rewrite its entry: a log of many logins
// over few ids (one spanning boots, the benchmark's mixed log) allocates
// nothing per login record (1 allocation each before), and the entry
// holds the newest login.
func TestSessionLoginsReuseEntry(t *testing.T) {
	p := NewParser(Options{HostID: "h"})
	const runs = 50
	var lines [][]byte
	for i := range runs + 3 {
		addr := fmt.Sprintf("10.0.0.%d", i%2+1)
		lines = append(lines,
			fmt.Appendf(nil, "type=LOGIN msg=audit(1795662700.%03d:%d): pid=1200 uid=0 subj=unconfined old-auid=4294967295 auid=1001 tty=(none) old-ses=4294967295 ses=36 res=1", i%1000, 5000+2*i),
			fmt.Appendf(nil, "type=USER_START msg=audit(1795662700.%03d:%d): pid=1200 uid=0 auid=1001 ses=36 msg='op=PAM:session_open acct=\"victim\" exe=\"/usr/sbin/sshd\" hostname=%s addr=%s terminal=ssh res=success'", i%1000, 5001+2*i, addr, addr))
	}
	next := 0
	feed := func() {
		p.Line(lines[next])
		p.Line(lines[next+1])
		next += 2
	}
	feed() // the first logins make the entries and intern the values
	feed()
	if a := testing.AllocsPerRun(runs, feed); a != 0 {
		t.Errorf("%.1f allocations per login", a)
	}
	s, ok := p.sessions.get(36)
	want := fmt.Sprintf("10.0.0.%d", (next/2-1)%2+1)
	if !ok || s.addr != want || s.acct != "victim" {
		t.Errorf("session 36: %+v, want the newest login from %s", s, want)
	}
}
