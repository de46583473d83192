#!/usr/bin/env bash
# Throughput benchmark of `xferhunt scan` against laurel and ausearch on the same
# auditd logs, in one run:
#  - repeated: a >= LINES-line file made by repeating the committed real capture with
#    shifted timestamps and serials (scripts/mklog);
#  - mixed: the realistic noisy log, >= MIXED_LINES lines (default 1,000,000, ~250 MB):
#    every public auditd text sample of ../shared/samples (auditd-raw, auditd-enriched;
#    many distributions and real hosts) interleaved with the capture, restamped over
#    24 h (scripts/mklog -mix; SAMPLES=DIR to point elsewhere, skipped when absent).
# Each tool runs RUNS times (default 3) and the best run counts: the machine may be
# shared, and the best run is the one least disturbed. xferhunt runs again under
# GOMAXPROCS=1 (row xferhunt1) to show what the second core gives. Prints per case a
# table of lines, wall and CPU seconds, lines/s and peak RSS and the ratios of
# xferhunt's wall, CPU and RSS to ausearch's and laurel's; then a memory-flatness
# check: xferhunt's peak RSS on LINES and on 4×LINES lines. Not run in CI.
#
#   scripts/bench-scan.sh [LINES]        (default 500000; RUNS=n to change the runs)
#
# MIXED_ONLY=1 runs the mixed case alone (no repeated case, no flatness check): a
# third of the time, for iterating on the scan of a realistic log; NO_LAUREL=1 leaves
# laurel out (on the mixed log it takes ~70 s a run, the rest seconds).
#
# Needs GNU time (/usr/bin/time, Debian package "time"), laurel and auditd's ausearch;
# a tool that is missing or fails is reported and skipped.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:/usr/sbin:$PATH"
lines=${1:-500000}
mixed_lines=${MIXED_LINES:-1000000}
samples=${SAMPLES:-../shared/samples}
runs=${RUNS:-3}
work=$(mktemp -d /tmp/xferhunt-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ ! -x /usr/bin/time ]; then
	echo "GNU time missing: apt-get install time" >&2
	exit 1
fi

declare -A rate rss secs cpu failed

# run1 NAME IN OUT CMD... runs CMD once under GNU time (stdin from IN, stdout to OUT)
# and prints "wall_seconds peak_rss_kb cpu_seconds", or fails with the command.
run1() {
	local name=$1 in=$2 out=$3
	shift 3
	local tv="$work/$name.time"
	/usr/bin/time -v -o "$tv" "$@" <"$in" >"$out" 2>"$work/$name.err" || return 1
	local wall kb user sys
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tv" |
		awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
	kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tv")
	user=$(awk -F': ' '/User time/ {print $2}' "$tv")
	sys=$(awk -F': ' '/System time/ {print $2}' "$tv")
	echo "$wall $kb $(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')"
}

# measure NAME LINES IN CMD... runs CMD once and keeps, over the calls for NAME, the
# best (shortest) run with its CPU time, and the largest peak RSS (memory does not
# depend on the load).
measure() {
	local name=$1 nl=$2 in=$3
	shift 3
	local r w kb c
	if ! r=$(run1 "$name" "$in" /dev/null "$@"); then
		echo "$name: FAILED ($(tail -n 3 "$work/$name.err" | tr '\n' ' '))" >&2
		failed[$name]=1
		return 0
	fi
	read -r w kb c <<<"$r"
	if [ -z "${secs[$name]:-}" ] || awk -v a="$w" -v b="${secs[$name]}" 'BEGIN { exit !(a < b) }'; then
		secs[$name]=$w
		cpu[$name]=$c
		rate[$name]=$(awk -v n="$nl" -v s="$w" 'BEGIN { if (s <= 0) s = 0.01; printf "%.0f", n / s }')
	fi
	if [ "$kb" -gt "${rss[$name]:-0}" ]; then rss[$name]=$kb; fi
}

# xferhunt: only when the tree builds and the binary has the scan command. It is built as
# scripts/release.sh builds what ships to a suspect host (static, stripped; XFERHUNT_CGO=1
# builds with cgo instead, as a plain `go build` does where a C compiler is installed: the
# dynamic binary's start costs ~8 ms more CPU on this VM, loading libc and its relocations).
bin="$work/xferhunt"
have_xferhunt=0
cgo=0
if [ "${XFERHUNT_CGO:-0}" = 1 ]; then cgo=1; fi
if CGO_ENABLED=$cgo GOFLAGS= go build -trimpath -buildvcs=false -ldflags="-s -w" -o "$bin" . 2>"$work/build.err" &&
	{ "$bin" help 2>&1 || true; } | grep -q scan; then
	have_xferhunt=1
else
	echo "xferhunt: skipped (go build . failed or no scan command: $(head -n 1 "$work/build.err"))" >&2
fi
have_ausearch=0
if command -v ausearch >/dev/null; then have_ausearch=1; else echo "ausearch: not installed" >&2; fi
# laurel reads audit lines on stdin as auditd's plugin would; its JSON goes to a temp dir.
have_laurel=0
if [ "${NO_LAUREL:-0}" = 1 ]; then
	echo "laurel: left out (NO_LAUREL=1)" >&2
elif command -v laurel >/dev/null; then
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

# compare LABEL LOG runs every tool on LOG, round after round, and prints the table
# and the ratios. The tools take turns so that a burst of load elsewhere on the machine
# or the kernel writing the new file back does not fall on one tool only. xferhunt also
# runs with GOMAXPROCS=1 (as xferhunt1) to show what the second core gives.
compare() {
	local label=$1 log=$2 nl
	nl=$(wc -l <"$log")
	sync
	cat "$log" >/dev/null
	for _ in $(seq "$runs"); do
		if [ "$have_xferhunt" -eq 1 ] && [ -z "${failed[$label-xferhunt]:-}" ]; then
			measure "$label-xferhunt" "$nl" /dev/null "$bin" scan --ephemeral "$log"
			GOMAXPROCS=1 measure "$label-xferhunt1" "$nl" /dev/null "$bin" scan --ephemeral "$log"
		fi
		if [ "$have_ausearch" -eq 1 ] && [ -z "${failed[$label-ausearch]:-}" ]; then
			measure "$label-ausearch" "$nl" /dev/null ausearch --raw -if "$log"
		fi
		if [ "$have_laurel" -eq 1 ] && [ -z "${failed[$label-laurel]:-}" ]; then
			mkdir -p "$work/laurel"
			measure "$label-laurel" "$nl" "$log" laurel -c "$work/laurel.toml"
			rm -rf "$work/laurel"
		fi
	done

	echo "== $label: $nl lines, $(du -h "$log" | cut -f1); best of $runs runs"
	printf '%-12s %10s %9s %9s %12s %13s\n' tool lines seconds "CPU s" lines/s "peak RSS MiB"
	local t
	for t in xferhunt xferhunt1 ausearch laurel; do
		if [ -n "${secs[$label-$t]:-}" ]; then
			printf '%-12s %10d %9.2f %9.2f %12d %13.1f\n' "$t" "$nl" "${secs[$label-$t]}" "${cpu[$label-$t]}" "${rate[$label-$t]}" \
				"$(awk -v k="${rss[$label-$t]}" 'BEGIN { print k / 1024 }')"
		fi
	done
	local x=$label-xferhunt
	if [ -n "${rate[$x]:-}" ]; then
		for other in ausearch laurel; do
			local o=$label-$other
			if [ -n "${rate[$o]:-}" ]; then
				awk -v a="${secs[$x]}" -v b="${secs[$o]}" -v ca="${cpu[$x]}" -v cb="${cpu[$o]}" -v ra="${rss[$x]}" -v rb="${rss[$o]}" -v o="$other" \
					'BEGIN { if (b <= 0) b = 0.01; if (cb <= 0) cb = 0.01; printf "xferhunt/%-8s wall %.2fx, CPU %.2fx, peak RSS %.2fx\n", o, a / b, ca / cb, ra / rb }'
			fi
		done
		if [ -n "${secs[$label-xferhunt1]:-}" ]; then
			awk -v a="${secs[$label-xferhunt1]}" -v b="${secs[$x]}" \
				'BEGIN { if (b <= 0) b = 0.01; printf "two cores over GOMAXPROCS=1: %.2fx\n", a / b }'
		fi
	fi
	echo
}

mixed_only=${MIXED_ONLY:-0}
if [ "$mixed_only" != 1 ]; then
	log="$work/big.log"
	go run ./scripts/mklog -n "$lines" -o "$log" >/dev/null
	compare repeated "$log"
	n=$(wc -l <"$log")
fi

# The realistic noisy log: the public auditd samples of many distributions and real
# hosts interleaved with the capture over 24 h (scripts/mklog -mix). The samples are
# not in the repository; without them this case is skipped.
if [ -d "$samples/auditd-raw" ]; then
	mixed="$work/mixed.log"
	go run ./scripts/mklog -mix "$samples" -n "$mixed_lines" -o "$mixed" >/dev/null
	compare mixed "$mixed"
	rm -f "$mixed"
else
	echo "mixed: skipped ($samples/auditd-raw missing; SAMPLES=DIR names the samples)" >&2
fi

# Memory must stay flat as the file grows: the scan streams and its tables are bounded.
if [ "$have_xferhunt" -eq 1 ] && [ "$mixed_only" != 1 ]; then
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
		awk -v a="${rss[repeated-xferhunt]}" -v b="${rss[xferhunt4]}" -v n="$n" -v n4="$n4" -v s="${secs[xferhunt4]}" -v r="${rate[xferhunt4]}" \
			'BEGIN { printf "memory flatness: xferhunt peak RSS %.1f MiB on %d lines, %.1f MiB on %d lines (x%.2f for x%.1f the input; %.2f s, %d lines/s)\n", a / 1024, n, b / 1024, n4, b / a, n4 / n, s, r }'
	fi
fi
