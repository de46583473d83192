package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// userMarker is the GECOS field of users we create; a leftover user carrying it (from
// a killed test run) may be replaced, any other existing user never is.
const userMarker = "xferhunt test user"

// User is a real local account created by CreateUser.
type User struct {
	// Name is the login name.
	Name string
	// UID and GID are the numeric ids.
	UID, GID int
	// Home is the home directory.
	Home string
	// Password is the account password (used by FTP).
	Password string
	// KeyFile is the private key (no passphrase) authorized for SSH.
	KeyFile string
}

// CreateUser creates a local user (uid >= 1001) with a home directory, a random
// password and an SSH key pair authorized for key login; it is removed with userdel -r
// at cleanup.
func CreateUser(t testing.TB, name string) *User {
	t.Helper()
	NeedRoot(t)
	for _, b := range []string{"/usr/sbin/useradd", "/usr/sbin/userdel", "/usr/sbin/chpasswd", "/usr/bin/ssh-keygen"} {
		NeedBinary(t, b)
	}
	if old, err := user.Lookup(name); err == nil {
		if old.Name != userMarker {
			t.Fatalf("CreateUser: user %q already exists and is not a leftover test user", name)
		}
		if _, err := runAccounts("/usr/sbin/userdel", "-r", "-f", name); err != nil {
			if _, lerr := user.Lookup(name); lerr == nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := runAccounts("/usr/sbin/useradd", "-m", "-s", "/bin/bash", "-c", userMarker, "-K", "UID_MIN=1001", name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := runAccounts("/usr/sbin/userdel", "-r", "-f", name); err != nil {
			// userdel -r reports a missing mail spool as an error after deleting the user.
			if _, lerr := user.Lookup(name); lerr == nil {
				t.Errorf("remove user: %v", err)
			}
		}
	})
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	pw := make([]byte, 12)
	if _, err := rand.Read(pw); err != nil {
		t.Fatal(err)
	}
	out := &User{Name: name, UID: uid, GID: gid, Home: u.HomeDir, Password: hex.EncodeToString(pw)}
	var err2 error
	Poll(func() bool {
		err2 = runStdin(strings.NewReader(name+":"+out.Password+"\n"), "/usr/sbin/chpasswd")
		return err2 == nil || !strings.Contains(err2.Error(), "lock")
	}, 20*time.Second)
	if err2 != nil {
		t.Fatal(err2)
	}
	out.KeyFile = filepath.Join(t.TempDir(), "id_ed25519")
	mustRun(t, 30*time.Second, "/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name+"@xferhunt-test", "-f", out.KeyFile)
	pub, err := os.ReadFile(out.KeyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	sshDir := filepath.Join(out.Home, ".ssh")
	if err := os.MkdirAll(sshDir, 0o700); err != nil {
		t.Fatal(err)
	}
	ak := filepath.Join(sshDir, "authorized_keys")
	if err := os.WriteFile(ak, pub, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{sshDir, ak} {
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
