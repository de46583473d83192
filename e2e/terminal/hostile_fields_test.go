package terminal

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/internal/testenv"
)

// hostileField is what an attacker who can write the followed log puts
// into every quoted field: an OSC title, BEL, a C1 CSI (U+009B as UTF-8)
// and a right-to-left override.
const hostileField = "X\x1b]0;pwned\x07\u009b31m\u202eY"

// TestHostileStringsInEveryField: raw control bytes in the command line,
// working directory, file path, and the login's account, host
// name, address and terminal of the session reach the TUI's list, every
// tab of the alert and its story; none reaches the terminal raw (the pane
// title stays, no escape but SGR is drawn).
func TestHostileStringsInEveryField(t *testing.T) {
	up := testenv.ScpUploadRecords("/tmp/up"+hostileField+".bin", time.Now(), 9301)
	// The rule wants scp's name and executable; the command line (hex in
	// PROCTITLE, as auditd writes any value with control bytes) carries
	// the hostile bytes instead.
	s := strings.NewReplacer(`cwd="/home/xfvictim"`, `cwd="/home/`+hostileField+`"`,
		"proctitle=62617368002D6300736370202D74202F746D702F64726F707065642D6C65676163792E62696E",
		"proctitle="+strings.ToUpper(hex.EncodeToString([]byte("scp\x00-t\x00/tmp/"+hostileField)))).Replace(string(up))
	login := "type=USER_START msg=audit(" + stampOf(time.Now().Add(-time.Second), 9300) + "): pid=1414 uid=0 auid=1001 ses=36 msg='op=PAM:session_open grantors=pam_unix acct=\"" +
		hostileField + "\" exe=\"/usr/sbin/sshd\" hostname=" + hostileField + " addr=" + hostileField + " terminal=" + hostileField + " res=success'\n"
	a := startApp(t, 120, 40, false, []byte(login+s))
	a.must("select-pane", "-t", a.target, "-T", knownTitle)
	a.launch()
	a.waitScreen("the hostile upload listed", 15*time.Second, func(scr []string) bool {
		return strings.Contains(strings.Join(scr, "\n"), `\x1b]0;pwned\x07`)
	})
	title0 := a.title()
	if title0 != knownTitle && title0 != "xferhunt" {
		t.Fatalf("pane title %q after start", title0)
	}
	checkNoControl(t, a, title0)
	a.keys("Enter")
	a.waitTab("Overview", func(string) bool { return true })
	checkNoControl(t, a, title0)
	for _, tab := range []string{"Process", "User", "File", "Connection", "Raw", "Guide"} {
		a.keys("Tab")
		a.waitTab(tab, func(string) bool { return true })
		checkNoControl(t, a, title0)
	}
	a.keys("t")
	a.waitScreen("the story", 10*time.Second, func(scr []string) bool {
		return strings.Contains(strings.Join(scr, "\n"), "story")
	})
	checkNoControl(t, a, title0)
	if scr, err := a.screen(); err == nil && !strings.Contains(strings.Join(scr, "\n"), `\x1b]0;pwned`) {
		t.Errorf("the story does not show the escaped hostile name:\n%s", strings.Join(scr, "\n"))
	}
}

// stampOf is the msg=audit(...) stamp ScpUploadRecords writes for when and
// serial, for records written beside them.
func stampOf(when time.Time, serial int) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(string(testenv.ScpUploadRecords("/x", when, serial)), ")", 2)[0], "type=SYSCALL msg=audit("), ")")
}
