package procid

import (
	"os"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// comm with spaces and a ')' of its own: fields are counted after the last ')'.
	line := []byte("4242 (evil) name) S 4100 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 200 18446744073709551615")
	id, err := ParseStat(line)
	if err != nil || id.PPID != 4100 || id.Start != 987654 || id.Name != "evil) name" {
		t.Fatalf("%+v %v", id, err)
	}
	if _, err := ParseStat([]byte("1 (x) S 0")); err == nil {
		t.Fatal("short stat accepted")
	}
}

func TestReadSelf(t *testing.T) {
	id, err := Root("").Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	if id.Start == 0 || id.Exe != exe || id.PPID != os.Getppid() {
		t.Fatalf("%+v (exe %s)", id, exe)
	}
	if err := Root("").Check(id); err != nil {
		t.Fatal(err)
	}
	bad := id
	bad.Start--
	if err := Root("").Check(bad); err == nil {
		t.Fatal("another start time accepted")
	}
	boot, err := Root("").BootTime()
	if err != nil {
		t.Fatal(err)
	}
	if st := StartTime(boot, id.Start); st.After(time.Now().Add(Slack)) || time.Since(st) > time.Hour {
		t.Fatalf("start %v", st)
	}
}
