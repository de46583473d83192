package auditd

import (
	"bytes"
	"fmt"
	"testing"
)

// userFieldsAgree reports whether userFields reads each key of b as field
// does: the same bytes, at the same place, with the same capacity.
func userFieldsAgree(b []byte) (bool, string) {
	var u userRec
	userFields(b, &u)
	for key, got := range map[string][]byte{"res": u.res, "pid": u.pid, "acct": u.acct, "addr": u.addr,
		"hostname": u.hostname, "terminal": u.terminal, "exe": u.exe, "ses": u.ses} {
		want := field(b, key)
		if (got == nil) != (want == nil) || !bytes.Equal(got, want) || cap(got) != cap(want) ||
			len(got) > 0 && &got[0] != &want[0] {
			return false, fmt.Sprintf("%s in %q: %q, field gives %q", key, b, got, want)
		}
	}
	return true, ""
}

// TestUserFieldsAlignment: the word-wise pass finds keys at every offset
// in a word, across word edges and in the last bytes of the body (read
// byte by byte): records shifted by 0 to 15 bytes, cut at every byte, with
// quotes and spaces next to the keys and every key's last letter or '='
// changed.
func TestUserFieldsAlignment(t *testing.T) {
	bodies := []string{
		`pid=1 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:accounting acct="root" exe="/usr/sbin/sshd" hostname=10.0.0.1 addr=10.0.0.1 terminal=ssh res=success'`,
		`user pid=7124 uid=0 auid=0 ses=1 subj=system_u:system_r:local_login_t:s0-s0:c0.c1023 msg='op=PAM:session_open acct="root" exe="/bin/login" hostname=? addr=? terminal=tty1 res=success'`,
		`xpid=9 pid=10 acct="a b exe=/fake" exe=/real hostname= addr='1.2.3.4 terminal="pts/1`,
		`acct=first acct=second addrx=1 addr=2 sess=1 ses=5 terminals=x terminal=y res=`,
		`'res=1''pid=2' 'acct=3''addr=4''hostname=5''terminal=6''exe=7''ses=8'`,
	}
	check := func(b []byte) {
		t.Helper()
		if ok, why := userFieldsAgree(b); !ok {
			t.Fatal(why)
		}
	}
	for _, body := range bodies {
		for shift := range 16 {
			b := append(bytes.Repeat([]byte{'x'}, shift), ' ')
			b = append(b, body...)
			for cut := range len(b) + 1 {
				check(b[:cut])
			}
			for i, c := range b {
				if c != '=' {
					continue
				}
				for _, r := range []byte{'x', ' ', '\'', '"'} {
					m := append([]byte{}, b...)
					m[i] = r
					check(m)
					if i > 0 {
						m[i], m[i-1] = '=', r
						check(m)
					}
				}
			}
		}
	}
}

// FuzzUserFields: userFields reads any body as field does.
//
//	go test -run '^$' -fuzz '^FuzzUserFields$' -fuzztime 30s ./sources/auditd
func FuzzUserFields(f *testing.F) {
	f.Add([]byte(`pid=1 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:accounting acct="root" exe="/usr/sbin/sshd" hostname=10.0.0.1 addr=10.0.0.1 terminal=ssh res=success'`))
	f.Add([]byte(`'res=1''pid=2' 'acct=3''addr=4''hostname=5''terminal=6''exe=7''ses=8'`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if ok, why := userFieldsAgree(b); !ok {
			t.Fatal(why)
		}
	})
}
