package capture

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Upload is one transfer performed by the capture, as listed in expected.json.
type Upload struct {
	Step      int    `json:"step"`
	User      string `json:"user"`
	UID       int    `json:"uid"`
	Tool      string `json:"tool"`
	Server    string `json:"server"`
	ServerExe string `json:"server_executable"`
	SourceIP  string `json:"source_ip"`
	Path      string `json:"path"`
	// Time is when the client command started (RFC 3339, UTC).
	Time string `json:"time"`
	// Alert says whether the seed rule must alert on this upload; Why says why (not).
	Alert bool   `json:"alert"`
	Why   string `json:"why"`
}

// Run is one auditd log written by the capture (raw.log or enriched.log).
type Run struct {
	Log     string   `json:"log"`
	Format  string   `json:"format"`
	Uploads []Upload `json:"uploads"`
}

// Expected is testdata/capture/expected.json: what the capture did, for tests to
// assert detections against.
type Expected struct {
	Date           string `json:"date"`
	Kernel         string `json:"kernel"`
	OpenSSH        string `json:"openssh"`
	Vsftpd         string `json:"vsftpd"`
	Auditd         string `json:"auditd"`
	Curl           string `json:"curl"`
	SSHPort        int    `json:"ssh_port"`
	FTPPort        int    `json:"ftp_port"`
	ExpectedAlerts int    `json:"expected_alerts"`
	Runs           []Run  `json:"runs"`
}

// LoadExpected reads expected.json from dir (normally testdata/capture).
func LoadExpected(dir string) (Expected, error) {
	var exp Expected
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		return exp, fmt.Errorf("load capture expectations: %w", err)
	}
	if err := json.Unmarshal(b, &exp); err != nil {
		return exp, fmt.Errorf("load capture expectations: %w", err)
	}
	return exp, nil
}
