package preflight

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditrules"
)

const allCaps = 0x000001fffeffffff

// rootFacts is a host where everything works: root with every capability,
// audit on, pid free, a readable log, a usable state directory.
func rootFacts() Facts {
	return Facts{
		EUID: 0, CapEff: allCaps, Cmdline: "console=ttyS0 quiet",
		Audit:         AuditStatus{Enabled: 1},
		KernelRelease: "6.1.0-18-amd64",
		Logs:          []Log{{Path: "/var/log/audit/audit.log", Format: sources.AuditdRaw}},
		State:         State{Dir: "/var/lib/xferhunt", Exists: true},
		Programs:      []string{"/usr/sbin/sshd"},
	}
}

func TestInterpretDecidesTheLiveSource(t *testing.T) {
	noLog := []Log{{Path: "/var/log/audit/audit.log", Err: fmt.Errorf("open: %w", fs.ErrNotExist)}}
	for _, tc := range []struct {
		name   string
		change func(*Facts)
		source Source
		live   bool
		detail string // in SourceDetail
		line   string // a check line must contain it
	}{
		{"audit free", func(*Facts) {}, NetlinkUnicast, true, "netlink unicast", "ok    daemon    audit pid free"},
		{"auditd holds the pid", func(f *Facts) {
			f.Audit.PID, f.Holder = 812, Holder{Comm: "auditd", Alive: true}
		}, NetlinkMulticast, true, "beside auditd (pid 812)", "auditd (pid 812) holds the audit pid"},
		{"another agent", func(f *Facts) {
			f.Audit.PID, f.Holder = 90, Holder{Comm: "edr-sensor", Alive: true}
		}, NetlinkMulticast, true, "another agent (edr-sensor)", "another agent (edr-sensor) (pid 90)"},
		{"stale pid", func(f *Facts) { f.Audit.PID = 4000 }, NetlinkUnicast, true, "unicast", "audit pid 4000 is stale"},
		{"holder but no CAP_AUDIT_READ", func(f *Facts) {
			f.CapEff &^= 1 << CapAuditRead
			f.Audit.PID, f.Holder = 812, Holder{Comm: "auditd", Alive: true}
		}, LogTail, true, "following /var/log/audit/audit.log", "fail  daemon"},
		{"immutable falls back to the log", func(f *Facts) {
			f.Audit = AuditStatus{Enabled: 2, PID: 812}
			f.Holder = Holder{Comm: "auditd", Alive: true}
			f.Rules = []string{"-a always,exit -F arch=b64 -S openat,creat -F success=1 -k files", "-w /etc/passwd -p wa -k ident"}
		}, LogTail, true, "following", "fail  rules     audit configuration is immutable (-e 2): xferhunt cannot add its rules; of 2 loaded rules 1 record file creation and 0 record execve"},
		{"immutable without a log", func(f *Facts) {
			f.Audit = AuditStatus{Enabled: 2}
			f.Logs = noLog
		}, Offline, false, "", "the log will not show uploads"},
		{"not root, log unreadable", func(f *Facts) {
			f.EUID, f.CapEff = 65534, 0
			f.AuditErr = syscall.EPERM
			f.Logs = []Log{{Path: "/var/log/audit/audit.log", Err: fmt.Errorf("open: %w", fs.ErrPermission)}}
		}, Offline, false, "", "fail  root      not root (uid 65534)"},
		{"audit=0 at boot", func(f *Facts) {
			f.Cmdline = "ro audit=0 quiet"
			f.AuditErr = syscall.EPROTONOSUPPORT
			f.Logs = noLog
		}, Offline, false, "", "audit=0 on the kernel command line"},
		{"rootless container", func(f *Facts) {
			f.UserNS, f.AuditErr = true, syscall.EPERM
			f.Logs = noLog
		}, Offline, false, "", "inside a user namespace"},
		{"kernel without audit", func(f *Facts) {
			f.AuditErr = fmt.Errorf("audit not supported by kernel: %w", syscall.EPROTONOSUPPORT)
		}, LogTail, true, "following", "fail  audit     kernel without audit support"},
		{"reply not understood (qemu-user)", func(f *Facts) {
			f.AuditErr = fmt.Errorf("error receiving audit reply: %w", syscall.EINVAL)
		}, LogTail, true, "following", "fail  audit     kernel audit unreachable: error receiving audit reply: invalid argument"},
		{"container network namespace", func(f *Facts) {
			f.AuditErr = syscall.ECONNREFUSED
		}, LogTail, true, "following", "refuses this network namespace"},
		{"state refused", func(f *Facts) {
			f.State.Err = errors.New("/var/lib/xferhunt: refused: owned by uid 1000, not by us (uid 0)")
		}, NetlinkUnicast, false, "unicast", "fail  state     /var/lib/xferhunt: refused: owned by uid 1000, not by us (uid 0) → --ephemeral"},
		{"state refused but ephemeral", func(f *Facts) {
			f.State = State{Ephemeral: true, Err: errors.New("not consulted")}
		}, NetlinkUnicast, true, "unicast", "ok    state     --ephemeral"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := rootFacts()
			tc.change(&f)
			r := Interpret(f)
			var b strings.Builder
			if err := r.Write(&b); err != nil {
				t.Fatal(err)
			}
			if r.Source != tc.source || r.Live() != tc.live || !strings.Contains(r.SourceDetail, tc.detail) {
				t.Errorf("source %v %q live %v, want %v %q live %v", r.Source, r.SourceDetail, r.Live(), tc.source, tc.detail, tc.live)
			}
			if !strings.Contains(b.String(), tc.line) {
				t.Errorf("report lacks %q:\n%s", tc.line, b.String())
			}
			last := b.String()[strings.LastIndex(strings.TrimSuffix(b.String(), "\n"), "\n")+1:]
			if want := map[bool]string{true: "(exit 0)\n", false: "(exit 1)\n"}[tc.live]; !strings.HasSuffix(last, want) {
				t.Errorf("last line %q, want it to end %q", last, want)
			}
		})
	}
}

func TestPrivileges(t *testing.T) {
	for _, tc := range []struct {
		euid          int
		caps          uint64
		err           error
		v             Verdict
		control, read bool
	}{
		{0, allCaps, nil, OK, true, true},
		{0, allCaps &^ (1 << CapAuditRead), nil, Warn, true, false},
		{0, allCaps &^ (1 << CapAuditControl), nil, Fail, false, true},
		{1000, 0, nil, Fail, false, false},
		{1000, allCaps, nil, Fail, false, false}, // file capabilities alone: catalog.Auto still wants root
		{0, 0, errors.New("no /proc"), Fail, false, false},
	} {
		c, control, read := Privileges(tc.euid, tc.caps, tc.err)
		if c.Verdict != tc.v || control != tc.control || read != tc.read {
			t.Errorf("Privileges(%d, %#x, %v) = %v %v %v (%s), want %v %v %v", tc.euid, tc.caps, tc.err, c.Verdict, control, read, c.Detail, tc.v, tc.control, tc.read)
		}
		if c.Verdict != OK && c.Instead == "" {
			t.Errorf("Privileges(%d, %#x): %v without a flag to use instead", tc.euid, tc.caps, c.Verdict)
		}
	}
}

func TestParseCapEff(t *testing.T) {
	caps, err := ParseCapEff("Name:\tcat\nCapInh:\t0000000000000000\nCapEff:\t000001fffeffffff\nCapBnd:\t0\n")
	if err != nil || caps != allCaps {
		t.Errorf("ParseCapEff = %#x, %v", caps, err)
	}
	if _, err := ParseCapEff("Name:\tcat\n"); err == nil {
		t.Error("ParseCapEff without CapEff: no error")
	}
}

func TestAuditDisabledAtBoot(t *testing.T) {
	for cmdline, want := range map[string]bool{
		"ro quiet":                false,
		"ro audit=0 quiet":        true,
		"audit=off":               true,
		"audit=1":                 false,
		"audit=0 audit=1":         false, // the last one wins
		"audit_backlog_limit=0":   false,
		"noaudit=0 audit=1 quiet": false,
	} {
		if got := AuditDisabledAtBoot(cmdline); got != want {
			t.Errorf("AuditDisabledAtBoot(%q) = %v, want %v", cmdline, got, want)
		}
	}
}

func TestImmutableCountsUsefulRules(t *testing.T) {
	rules := []string{
		"-a always,exit -F arch=b64 -S openat,renameat2 -F success=1 -k create",
		"-a always,exit -F arch=b64 -S execve -k exec",
		"-a always,exit -F arch=b64 -F path=/etc/shadow -k all-calls", // no -S: every syscall
		"-a never,exit -F arch=b64 -S openat -F exe=/usr/bin/noise",
		"-w /etc/passwd -p wa -k ident",
	}
	create, exec := UsefulRules(rules)
	if create != 2 || exec != 2 {
		t.Errorf("UsefulRules = %d create, %d exec; want 2, 2", create, exec)
	}
	if c, ok := Immutable(1, nil, nil); c.Verdict != OK || !ok {
		t.Errorf("Immutable(1) = %v %v", c.Verdict, ok)
	}
	c, ok := Immutable(2, rules, nil)
	if c.Verdict != Fail || ok || !strings.Contains(c.Detail, "of 5 loaded rules 2 record file creation and 2 record execve") || !strings.Contains(c.Instead, "--source auditlog:") {
		t.Errorf("Immutable(2) = %v %v %q → %q", c.Verdict, ok, c.Detail, c.Instead)
	}
}

func TestKernelFeatures(t *testing.T) {
	for _, tc := range []struct {
		release string
		cov     auditrules.Coverage
		v       Verdict
		detail  string
	}{
		{"6.1.0-18-amd64", auditrules.Narrow, OK, "-F exe= and openat2 supported"},
		{"5.4.0-150-generic", auditrules.Narrow, OK, "no openat2 before 5.6"},
		{"4.3.0", auditrules.Narrow, OK, "-F exe= supported"},
		{"3.10.0-1160.el7.x86_64", auditrules.Narrow, Fail, "no -F exe="},
		{"3.10.0-1160.el7.x86_64", auditrules.Broad, OK, "no openat2"},
		{"weird", auditrules.Narrow, Warn, "not understood"},
	} {
		c := Kernel(tc.release, tc.cov)
		if c.Verdict != tc.v || !strings.Contains(c.Detail, tc.detail) {
			t.Errorf("Kernel(%q, %v) = %v %q, want %v %q", tc.release, tc.cov, c.Verdict, c.Detail, tc.v, tc.detail)
		}
	}
	if c := Kernel("3.10.0", auditrules.Narrow); c.Instead != "--coverage broad" {
		t.Errorf("old kernel: instead %q", c.Instead)
	}
}

func TestIsInternalSFTP(t *testing.T) {
	for line, want := range map[string]bool{
		"Subsystem sftp internal-sftp":                                true,
		"subsystem\tsftp\tinternal-sftp -l INFO":                      true,
		"    ForceCommand internal-sftp -d /upload":                   true,
		"Subsystem sftp /usr/lib/openssh/sftp-server":                 false,
		"#Subsystem sftp internal-sftp":                               false,
		"ForceCommand cvs server":                                     false,
		"Subsystem sftp /usr/lib/openssh/sftp-server # internal-sftp": false,
	} {
		if got := IsInternalSFTP(line); got != want {
			t.Errorf("IsInternalSFTP(%q) = %v, want %v", line, got, want)
		}
	}
}

func TestLogsAndPrograms(t *testing.T) {
	checks, first := Logs([]Log{
		{Path: "/a", Err: fmt.Errorf("open: %w", fs.ErrNotExist)},
		{Path: "/b", Format: sources.Unknown},
		{Path: "/c", Format: sources.AuditdEnriched},
		{Path: "/d", Empty: true},
	})
	if first != "/c" || len(checks) != 4 || checks[0].Verdict != Warn || checks[1].Verdict != Warn || !strings.Contains(checks[2].Detail, "auditd-enriched") {
		t.Errorf("Logs: first %q, checks %+v", first, checks)
	}
	if c := Programs(nil, nil, auditrules.Narrow); c.Verdict != Warn || c.Instead != "--coverage broad" {
		t.Errorf("Programs(none, narrow) = %+v", c)
	}
	c := Programs([]string{"/usr/sbin/sshd"}, []string{"/etc/ssh/sshd_config:3: Subsystem sftp internal-sftp"}, auditrules.Narrow)
	if c.Verdict != OK || !strings.Contains(c.Detail, "sshd serves SFTP itself (/etc/ssh/sshd_config:3:") {
		t.Errorf("Programs(sshd, internal) = %+v", c)
	}
}

func TestParseRelease(t *testing.T) {
	for s, want := range map[string][2]int{"6.18.44-fc-v1272": {6, 18}, "4.3": {4, 3}, "5.10.0+": {5, 10}} {
		maj, min, ok := ParseRelease(s)
		if !ok || maj != want[0] || min != want[1] {
			t.Errorf("ParseRelease(%q) = %d %d %v", s, maj, min, ok)
		}
	}
	if _, _, ok := ParseRelease("6"); ok {
		t.Error(`ParseRelease("6") ok`)
	}
}
