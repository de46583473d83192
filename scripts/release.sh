#!/usr/bin/env bash
# Release binaries for a responder to copy onto a host with no Go toolchain:
#
#   scripts/release.sh DIR
#
# writes xferhunt-linux-amd64, xferhunt-linux-arm64, xferhunt-linux-386 and SHA256SUMS
# (sha256sum format: `cd DIR && sha256sum -c SHA256SUMS`) into DIR and prints each
# binary's size. The binaries are static (CGO_ENABLED=0: no libc to match on the
# target), stripped (-s -w) and reproducible: -trimpath drops the build machine's
# paths, -buildid= the link-time id, and the version and commit are stamped from git
# (-X main.version, -X main.commit; a tree with uncommitted changes is COMMIT-dirty), so
# `xferhunt version` names the tree a binary came from.
# Two runs over the same tree give the same bytes (internal/release tests it).
# VERSION=v1.2.3 overrides the version (default: git describe).
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
out=$1
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
mkdir -p "$out"
out=$(cd "$out" && pwd)

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
# A build from uncommitted changes must not pass for the commit it started from.
if [ "$commit" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	commit="$commit-dirty"
fi
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}

ldflags="-s -w -buildid= -X main.version=$version -X main.commit=$commit"
rm -f "$out/SHA256SUMS"
names=()
for arch in amd64 arm64 386; do
	name=xferhunt-linux-$arch
	# GOFLAGS is cleared so a developer's -race, -cover or -mod setting cannot
	# change the release; -buildvcs=false because the stamp above replaces it.
	CGO_ENABLED=0 GOOS=linux GOARCH=$arch GOFLAGS= GO386=sse2 GOAMD64=v1 GOARM64=v8.0 \
		go build -trimpath -buildvcs=false -ldflags="$ldflags" -o "$out/$name" .
	names+=("$name")
done
(cd "$out" && sha256sum "${names[@]}" > SHA256SUMS)

echo "xferhunt $version (commit $commit) in $out:"
for name in "${names[@]}"; do
	printf '  %-22s %9d bytes\n' "$name" "$(stat -c %s "$out/$name")"
done
echo "  SHA256SUMS (verify: cd $out && sha256sum -c SHA256SUMS)"
