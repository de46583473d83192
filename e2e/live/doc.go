// Package live holds the end-to-end acceptance tests of `xferhunt --headless`:
// the real binary against a real sshd, vsftpd, auditd and kernel audit, with
// real users uploading over loopback. It has no code of its own beyond the
// tests; they skip without root and kernel audit unless XFERHUNT_E2E=1.
package live
