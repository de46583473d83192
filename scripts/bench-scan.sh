#!/usr/bin/env bash
# Throughput benchmark of `xferhunt scan` against laurel and ausearch on the same
# auditd log: a >= 500,000-line file made by repeating the committed real capture with
# shifted timestamps and serials. Reports lines/s, wall time and peak RSS of each, and
# the ratios. Not run in CI.
#
#   scripts/bench-scan.sh [LINES]        (default 500000)
#
# Needs GNU time (/usr/bin/time, Debian package "time"), laurel and auditd's ausearch;
# a tool that is missing or fails is reported and skipped.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
lines=${1:-500000}
work=$(mktemp -d /tmp/xferhunt-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ ! -x /usr/bin/time ]; then
	echo "GNU time missing: apt-get install time" >&2
	exit 1
fi

log="$work/big.log"
go run ./scripts/mklog -n "$lines" -o "$log" >/dev/null
n=$(wc -l <"$log")
size=$(du -h "$log" | cut -f1)
echo "input: $log, $n lines, $size (from testdata/capture/raw.log)"
echo

declare -A rate rss secs

# measure NAME STDIN_FILE CMD... runs CMD under GNU time with stdin from STDIN_FILE
# (or /dev/null), output discarded, and records wall seconds, lines/s and peak RSS.
measure() {
	local name=$1 in=$2
	shift 2
	local tv="$work/$name.time" out="$work/$name.out"
	if ! /usr/bin/time -v -o "$tv" "$@" <"${in:-/dev/null}" >"$out" 2>"$work/$name.err"; then
		echo "$name: FAILED ($(tail -n 3 "$work/$name.err" | tr '\n' ' '))"
		return 0
	fi
	local wall kb
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tv" |
		awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
	kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tv")
	secs[$name]=$wall
	rss[$name]=$kb
	rate[$name]=$(awk -v n="$n" -v s="$wall" 'BEGIN { if (s <= 0) s = 0.01; printf "%.0f", n / s }')
	printf '%-9s %8.2f s  %10s lines/s  peak RSS %7.1f MiB\n' "$name" "$wall" "${rate[$name]}" "$(awk -v k="$kb" 'BEGIN {print k/1024}')"
}

# xferhunt: only when the tree builds and the binary has the scan command.
bin="$work/xferhunt"
if go build -o "$bin" . 2>"$work/build.err" && { "$bin" help 2>&1 || true; } | grep -q scan; then
	measure xferhunt "" "$bin" scan --ephemeral "$log"
else
	echo "xferhunt: skipped (go build . failed or no scan command: $(head -n 1 "$work/build.err"))"
fi

# laurel reads audit lines on stdin as auditd's plugin would; its JSON goes to a temp dir.
if command -v laurel >/dev/null; then
	mkdir -p "$work/laurel"
	cat >"$work/laurel.toml" <<TOML
directory = "$work/laurel"
statusreport-period = 0
[auditlog]
file = "audit.log"
size = 100000000000
generations = 2
[transform]
execve-argv = [ "array" ]
[translate]
universal = false
user-db = false
[enrich]
pid = true
TOML
	measure laurel "$log" laurel -c "$work/laurel.toml"
else
	echo "laurel: not installed"
fi

if command -v ausearch >/dev/null; then
	measure ausearch "" ausearch --raw -if "$log"
else
	echo "ausearch: not installed"
fi

echo
if [ -n "${rate[xferhunt]:-}" ]; then
	for other in laurel ausearch; do
		if [ -n "${rate[$other]:-}" ]; then
			awk -v a="${rate[xferhunt]}" -v b="${rate[$other]}" -v ra="${rss[xferhunt]}" -v rb="${rss[$other]}" -v o="$other" \
				'BEGIN { printf "xferhunt / %-8s throughput x%.2f, peak RSS x%.2f\n", o, a / b, ra / rb }'
		fi
	done
elif [ -n "${rate[laurel]:-}" ] && [ -n "${rate[ausearch]:-}" ]; then
	awk -v a="${rate[laurel]}" -v b="${rate[ausearch]}" 'BEGIN { printf "laurel / ausearch throughput x%.2f\n", a / b }'
fi
