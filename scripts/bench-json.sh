#!/usr/bin/env bash
# Throughput of `xferhunt scan` on ECS / Auditbeat NDJSON against jq running the
# built-in rule's query as a filter over the same file (issue 12's JSON goal).
# The input (SIZE, default 1G) is built by scripts/mkecs from the committed capture's
# ECS documents and the Auditbeat / Elastic Defend samples of ../shared/samples
# (SAMPLES=DIR to point elsewhere; without them only the capture's documents).
# Each command runs RUNS times (default 3); the best run counts (the machine may be
# shared). xferhunt runs again under GOMAXPROCS=1 (row xferhunt1). Prints per
# command wall and CPU seconds, MB/s and docs/s (by wall), peak RSS, and the ratios
# of jq's wall and CPU to xferhunt's. Not run in CI.
#
#   scripts/bench-json.sh            (SIZE=256M RUNS=1 for a quick look)
#
# Needs GNU time (/usr/bin/time, Debian package "time") and jq (Debian package "jq").
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
size=${SIZE:-1G}
samples=${SAMPLES:-../shared/samples}
runs=${RUNS:-3}
for tool in /usr/bin/time jq; do
	if ! command -v "$tool" >/dev/null; then
		echo "$tool missing: apt-get install time jq" >&2
		exit 1
	fi
done
work=$(mktemp -d /tmp/xferhunt-json.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Built as scripts/release.sh builds what ships (static, stripped).
CGO_ENABLED=0 GOFLAGS= go build -trimpath -buildvcs=false -ldflags="-s -w" -o "$work/xferhunt" .
[ -d "$samples" ] || samples=""
go run ./scripts/mkecs -samples "$samples" -size "$size" -o "$work/in.ndjson"
bytes=$(stat -c %s "$work/in.ndjson")
docs=$(wc -l <"$work/in.ndjson")

# The built-in rule's query (detect/rules/builtin/seed.toml) as a jq filter: the
# same documents pass (the scan's summary counts them as matches).
cat >"$work/filter.jq" <<'EOF'
select(.event.action == "creation" and .host.os.type == "linux"
  and (.process.name | IN("scp", "ftp", "sftp", "vsftpd", "sftp-server", "sync"))
  and ([.event.category] | flatten | index("file") != null)
  and ((.file.path // "") | test("^(/dev/ptmx$|/run/|/var/run/)") | not))
EOF

declare -A wall cpu rss
# measure NAME CMD... keeps the best wall time of RUNS runs, its CPU time, and the
# largest peak RSS.
measure() {
	local name=$1
	shift
	for _ in $(seq "$runs"); do
		/usr/bin/time -f '%e %U %S %M' -o "$work/t" "$@" >"$work/$name.out" 2>"$work/$name.err"
		read -r w u s m <"$work/t"
		local c
		c=$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')
		if [ -z "${wall[$name]:-}" ] || awk -v a="$w" -v b="${wall[$name]}" 'BEGIN { exit !(a < b) }'; then
			wall[$name]=$w cpu[$name]=$c
		fi
		if [ -z "${rss[$name]:-}" ] || [ "$m" -gt "${rss[$name]}" ]; then
			rss[$name]=$m
		fi
	done
}

measure xferhunt "$work/xferhunt" scan --ephemeral "$work/in.ndjson"
measure xferhunt1 env GOMAXPROCS=1 "$work/xferhunt" scan --ephemeral "$work/in.ndjson"
measure jq jq -c -f "$work/filter.jq" "$work/in.ndjson"

echo "input: $bytes bytes, $docs documents; load: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -h 'xferhunt scan: [0-9]* lines' "$work/xferhunt.err" || true
echo "jq matches: $(wc -l <"$work/jq.out")"
printf '%-10s %8s %8s %9s %10s %9s\n' tool wall_s cpu_s MB/s docs/s rss_MB
for t in xferhunt xferhunt1 jq; do
	awk -v t="$t" -v w="${wall[$t]}" -v c="${cpu[$t]}" -v m="${rss[$t]}" -v b="$bytes" -v d="$docs" \
		'BEGIN { printf "%-10s %8.2f %8.2f %9.1f %10.0f %9.1f\n", t, w, c, b / w / 1e6, d / w, m / 1024 }'
done
awk -v xw="${wall[xferhunt]}" -v xc="${cpu[xferhunt]}" -v jw="${wall[jq]}" -v jc="${cpu[jq]}" \
	'BEGIN { printf "jq/xferhunt: wall %.2fx, CPU %.2fx\n", jw / xw, jc / xc }'
