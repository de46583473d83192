#!/usr/bin/env bash
# Throughput benchmark of `xferhunt scan` against laurel and ausearch on the same
# auditd log: a >= 500,000-line file made by repeating the committed real capture with
# shifted timestamps and serials (scripts/mklog). Each tool runs RUNS times (default 3)
# and the best run counts: the machine may be shared, and the best run is the one
# least disturbed. Prints a table of lines, seconds, lines/s and peak RSS, the ratios,
# and a memory-flatness check: xferhunt's peak RSS on LINES and on 4×LINES lines.
# Not run in CI.
#
#   scripts/bench-scan.sh [LINES]        (default 500000; RUNS=n to change the runs)
#
# Needs GNU time (/usr/bin/time, Debian package "time"), laurel and auditd's ausearch;
# a tool that is missing or fails is reported and skipped.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:/usr/sbin:$PATH"
lines=${1:-500000}
runs=${RUNS:-3}
work=$(mktemp -d /tmp/xferhunt-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ ! -x /usr/bin/time ]; then
	echo "GNU time missing: apt-get install time" >&2
	exit 1
fi

log="$work/big.log"
go run ./scripts/mklog -n "$lines" -o "$log" >/dev/null
n=$(wc -l <"$log")
echo "input: $n lines, $(du -h "$log" | cut -f1), repeated from testdata/capture/raw.log; best of $runs runs"
echo

declare -A rate rss secs

# run1 NAME IN OUT CMD... runs CMD once under GNU time (stdin from IN, stdout to OUT)
# and prints "wall_seconds peak_rss_kb", or fails with the command.
run1() {
	local name=$1 in=$2 out=$3
	shift 3
	local tv="$work/$name.time"
	/usr/bin/time -v -o "$tv" "$@" <"$in" >"$out" 2>"$work/$name.err" || return 1
	local wall kb
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tv" |
		awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
	kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tv")
	echo "$wall $kb"
}

# measure NAME LINES IN CMD... runs CMD once and keeps, over the calls for NAME, the
# best (shortest) run and the largest peak RSS (memory does not depend on the load).
measure() {
	local name=$1 nl=$2 in=$3
	shift 3
	local r w kb
	if ! r=$(run1 "$name" "$in" /dev/null "$@"); then
		echo "$name: FAILED ($(tail -n 3 "$work/$name.err" | tr '\n' ' '))" >&2
		failed[$name]=1
		return 0
	fi
	read -r w kb <<<"$r"
	if [ -z "${secs[$name]:-}" ] || awk -v a="$w" -v b="${secs[$name]}" 'BEGIN { exit !(a < b) }'; then
		secs[$name]=$w
		rate[$name]=$(awk -v n="$nl" -v s="$w" 'BEGIN { if (s <= 0) s = 0.01; printf "%.0f", n / s }')
	fi
	if [ "$kb" -gt "${rss[$name]:-0}" ]; then rss[$name]=$kb; fi
}

# xferhunt: only when the tree builds and the binary has the scan command.
bin="$work/xferhunt"
have_xferhunt=0
if go build -o "$bin" . 2>"$work/build.err" && { "$bin" help 2>&1 || true; } | grep -q scan; then
	have_xferhunt=1
else
	echo "xferhunt: skipped (go build . failed or no scan command: $(head -n 1 "$work/build.err"))" >&2
fi
have_ausearch=0
if command -v ausearch >/dev/null; then have_ausearch=1; else echo "ausearch: not installed" >&2; fi
# laurel reads audit lines on stdin as auditd's plugin would; its JSON goes to a temp dir.
have_laurel=0
if command -v laurel >/dev/null; then
	have_laurel=1
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
else
	echo "laurel: not installed" >&2
fi

# The tools take turns, round after round, so that a burst of load elsewhere on the
# machine or the kernel writing the new file back does not fall on one tool only.
declare -A failed
sync
cat "$log" >/dev/null
for _ in $(seq "$runs"); do
	if [ "$have_xferhunt" -eq 1 ] && [ -z "${failed[xferhunt]:-}" ]; then
		measure xferhunt "$n" /dev/null "$bin" scan --ephemeral "$log"
	fi
	if [ "$have_ausearch" -eq 1 ] && [ -z "${failed[ausearch]:-}" ]; then
		measure ausearch "$n" /dev/null ausearch --raw -if "$log"
	fi
	if [ "$have_laurel" -eq 1 ] && [ -z "${failed[laurel]:-}" ]; then
		mkdir -p "$work/laurel"
		measure laurel "$n" "$log" laurel -c "$work/laurel.toml"
		rm -rf "$work/laurel"
	fi
done

printf '%-9s %10s %9s %12s %13s\n' tool lines seconds lines/s "peak RSS MiB"
for t in xferhunt ausearch laurel; do
	if [ -n "${secs[$t]:-}" ]; then
		printf '%-9s %10d %9.2f %12d %13.1f\n' "$t" "$n" "${secs[$t]}" "${rate[$t]}" "$(awk -v k="${rss[$t]}" 'BEGIN { print k / 1024 }')"
	fi
done

echo
if [ -n "${rate[xferhunt]:-}" ]; then
	for other in ausearch laurel; do
		if [ -n "${rate[$other]:-}" ]; then
			awk -v a="${rate[xferhunt]}" -v b="${rate[$other]}" -v ra="${rss[xferhunt]}" -v rb="${rss[$other]}" -v o="$other" \
				'BEGIN { printf "xferhunt vs %-8s  %.2fx the throughput, %.2fx the peak RSS\n", o, a / b, ra / rb }'
		fi
	done
fi

# Memory must stay flat as the file grows: the scan streams and its tables are bounded.
if [ "$have_xferhunt" -eq 1 ]; then
	big="$work/big4.log"
	go run ./scripts/mklog -n $((4 * lines)) -o "$big" >/dev/null
	n4=$(wc -l <"$big")
	rm -f "$log"
	sync
	cat "$big" >/dev/null
	for _ in $(seq "$runs"); do
		measure xferhunt4 "$n4" /dev/null "$bin" scan --ephemeral "$big"
	done
	if [ -n "${rss[xferhunt4]:-}" ]; then
		echo
		awk -v a="${rss[xferhunt]}" -v b="${rss[xferhunt4]}" -v n="$n" -v n4="$n4" -v s="${secs[xferhunt4]}" -v r="${rate[xferhunt4]}" \
			'BEGIN { printf "memory flatness: xferhunt peak RSS %.1f MiB on %d lines, %.1f MiB on %d lines (x%.2f for x%.1f the input; %.2f s, %d lines/s)\n", a / 1024, n, b / 1024, n4, b / a, n4 / n, s, r }'
	fi
fi
