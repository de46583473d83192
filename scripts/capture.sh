#!/usr/bin/env bash
# Re-records testdata/capture/{raw.log,enriched.log,expected.json,README.md} with real
# auditd, sshd and vsftpd (root and kernel audit required; ports 22220-22225 on 127.0.0.1;
# users xfvictim/xfother are created and removed). Takes about 30 seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
XFERHUNT_E2E=1 go test ./internal/capture -run '^TestCapture$' -update -count=1 -v
ls -l testdata/capture
