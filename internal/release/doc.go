// Package release holds the tests of scripts/release.sh: the release
// binaries are static ELF files for their architecture, their SHA256SUMS
// verify, and two builds of one tree give identical bytes. It has no code
// of its own; the script is the build.
package release
