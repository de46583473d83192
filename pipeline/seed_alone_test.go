package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// seedGolden holds, per recorded input, the digest of what `xferhunt scan
// --rule seed` printed for it before the coverage rules existed (SPEC §8:
// with --rule seed alone the output is exactly the seed rule's). Regenerate
// only from a binary built at such a commit:
//
//	XFERHUNT_SEED_GOLDEN_BIN=/path/to/old/xferhunt go test -run TestSeedAloneUnchanged ./pipeline
const seedGolden = "../testdata/coverage/seed-alone.json"

// seedInputs are the real captures the digest covers: uploads, a story,
// and every method of the coverage table (overwrites, renames, rsync,
// internal-sftp, shell pipes, directories).
var seedInputs = []string{
	"../testdata/capture/raw.log",
	"../testdata/capture/enriched.log",
	"../testdata/story/raw.log",
	"../testdata/coverage/raw.log",
}

// goldenHostID is the --host-id of every golden scan.
const goldenHostID = "seed-golden"

type seedDigest struct {
	Alerts int      `json:"alerts"`
	UUIDs  []string `json:"uuids"`
	SHA256 string   `json:"sha256"`
}

// wallClock matches the alert fields that hold the time the alert was
// made, which differ from run to run.
var wallClock = regexp.MustCompile(`"(@timestamp|kibana\.alert\.start|kibana\.alert\.last_detected|kibana\.alert\.intended_timestamp)":"[^"]*"`)

// normalize makes scan output comparable across runs and hosts: the alert
// times become T, this host's name (host.name, the reason's "on HOST")
// becomes HOST. Every other byte is kept.
func normalize(out []byte) []byte {
	host, _ := os.Hostname()
	out = wallClock.ReplaceAll(out, []byte(`"$1":"T"`))
	if host != "" {
		out = bytes.ReplaceAll(out, []byte(`"name":"`+host+`"`), []byte(`"name":"HOST"`))
		out = bytes.ReplaceAll(out, []byte(` on `+host+` created `), []byte(` on HOST created `))
	}
	return out
}

func digest(out []byte) seedDigest {
	d := seedDigest{UUIDs: []string{}}
	for _, l := range bytes.Split(out, []byte("\n")) {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var a struct {
			UUID string `json:"kibana.alert.uuid"`
		}
		_ = json.Unmarshal(l, &a)
		d.Alerts++
		d.UUIDs = append(d.UUIDs, a.UUID)
	}
	sum := sha256.Sum256(normalize(out))
	d.SHA256 = hex.EncodeToString(sum[:])
	return d
}

// TestSeedAloneUnchanged: --rule seed gives, byte for byte (but the alert
// times and the host's name), what it gave before the coverage rules, on
// every capture. The kernel side of the same promise (no directory rules
// unless a rule asks) is TestDirLines in sources/auditrules and
// TestSeedAloneSetup here.
func TestSeedAloneUnchanged(t *testing.T) {
	if bin := os.Getenv("XFERHUNT_SEED_GOLDEN_BIN"); bin != "" {
		golden := map[string]seedDigest{}
		for _, in := range seedInputs {
			out, err := exec.Command(bin, "scan", "--ephemeral", "--host-id", goldenHostID, "--rule", "seed", in).Output()
			if err != nil {
				t.Fatalf("%s scan %s: %v", bin, in, err)
			}
			golden[in] = digest(out)
		}
		b, err := json.MarshalIndent(golden, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(seedGolden, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s from %s", seedGolden, bin)
		return
	}
	b, err := os.ReadFile(seedGolden)
	if err != nil {
		t.Fatal(err)
	}
	var golden map[string]seedDigest
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	for _, in := range seedInputs {
		var out bytes.Buffer
		cfg := Config{Rules: []string{"seed"}, Ephemeral: true, HostID: goldenHostID, Stdout: &out, Stderr: io.Discard}
		if err := Scan(cfg, []string{in}); err != nil {
			t.Fatal(err)
		}
		got, want := digest(out.Bytes()), golden[in]
		if got.SHA256 != want.SHA256 || !slices.Equal(got.UUIDs, want.UUIDs) {
			t.Errorf("%s: --rule seed gives %d alerts %v (sha256 %s), before %d %v (%s)", in, got.Alerts, got.UUIDs, got.SHA256, want.Alerts, want.UUIDs, want.SHA256)
		}
	}
}

// With --rule seed alone, no companion runs and the kernel is asked for
// no directory records; the coverage rules ask for them.
func TestSeedAloneSetup(t *testing.T) {
	for _, c := range []struct {
		rules      []string
		companions int
		dirs       bool
	}{
		{[]string{"seed"}, 0, false},
		{[]string{"seed", "upload-exec"}, 1, false},
		{[]string{"seed", "coverage"}, 1, true},
		{[]string{"seed", "coverage", "coverage-dirs", "upload-exec"}, 2, true},
		{[]string{"coverage-rsync"}, 0, false},
	} {
		cfg := Config{Rules: c.rules, Ephemeral: true, Stderr: io.Discard}
		s, err := newSetup(&cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.companions) != c.companions || s.directories != c.dirs {
			t.Errorf("%s: %d companions, directories %v; want %d, %v", strings.Join(c.rules, " "), len(s.companions), s.directories, c.companions, c.dirs)
		}
		s.Close()
	}
}
