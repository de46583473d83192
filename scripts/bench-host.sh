#!/usr/bin/env bash
# Host-overhead benchmark of live mode (issue 7, acceptance 2): the wall time of four
# workloads (scripts/hostload) with no audit, under xferhunt's default rules
# (--coverage narrow), under --coverage broad, and under auditd loaded with exactly the
# rules xferhunt installs in each mode (captured from `auditctl -l` while it runs, and
# the same backlog_limit / backlog_wait_time it sets). Each round runs every workload
# under every configuration, the configurations interleaved (rotated each round); the
# tables give the median over the rounds, the overhead against no audit, the range, and
# per run the kernel's `lost` delta and xferhunt's own loss counters. Not run in CI.
#
#   sudo scripts/bench-host.sh [-r ROUNDS] [-c CONFIGS] [-w WORKLOADS] [-l LOADS] [-b REF] [-t SECONDS]
#
#   -r ROUNDS     rounds (env ROUNDS, default 3)
#   -c CONFIGS    comma list of none, xferhunt-narrow, xferhunt-broad, auditd-narrow,
#                 auditd-broad, base-narrow, base-broad (env CONFIGS, default all but base-*)
#   -w WORKLOADS  comma list of create, mkdir, exec, connect, mixed (env WORKLOADS, default
#                 all but mkdir)
#   -l LOADS      comma list of daemon, session (env LOADS, default daemon): whose work it
#                 is. daemon: audit login uid unset, as a service's; session: the login uid
#                 set (env SESSION_AUID, default 1001), as a logged-in user's, which the
#                 session rules of narrow coverage record. Each workload runs once per load.
#   -b REF        also build xferhunt at the git revision REF (env BASE_REF) for the
#                 base-narrow and base-broad configurations: the cost before a change
#   -t SECONDS    per-workload time limit; a run that hits it counts as ">SECONDS s"
#                 (env TIMEOUT, default 120)
#   sizes:        env N_CREATE (200000, also the mkdir count), N_EXEC (20000), N_CONNECT (20000),
#                 PIPELINES (150)
#   XFERHUNT_RULES comma list of --rule values for the xferhunt configurations (default: none
#                 given, the seed rule); e.g. seed,coverage, whose coverage-dirs adds mkdir rules
#   KEEP=1        keep the work directory (xferhunt/auditd stderr, per-run raw results)
#
# Needs root, /usr/sbin/auditctl and /usr/sbin/auditd (Debian package auditd), flock, git,
# tar, bash, and Go on PATH or in /usr/local/go/bin. Setting a load's login uid (writing
# /proc/self/loginuid before exec'ing the workload) needs loginuid_immutable 0. A binary without --coverage (before the
# narrow rule set exists) runs its only rule set as "broad" and the narrow configurations
# are skipped with a note.
#
# Safety: kernel audit has one configuration per host. Every step that touches it
# (xferhunt, auditd, auditctl) runs while this script holds the host-wide flock
# /run/xferhunt-audit.lock, the lock the Go tests take (internal/testenv.LockAudit), for
# the whole of one configuration's run. On every way out (and after each configuration)
# the script kills what it started, deletes the rules keyed xferhunt and puts enabled,
# backlog_limit and backlog_wait_time back as found; it never sets enabled 2. Network
# traffic stays on 127.0.0.1.
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

rounds=${ROUNDS:-3}
configs=${CONFIGS:-none,xferhunt-narrow,xferhunt-broad,auditd-narrow,auditd-broad}
workloads=${WORKLOADS:-create,exec,connect,mixed}
loads=${LOADS:-daemon}
base_ref=${BASE_REF:-}
session_auid=${SESSION_AUID:-1001}
limit=${TIMEOUT:-120}
n_create=${N_CREATE:-200000}
n_exec=${N_EXEC:-20000}
n_connect=${N_CONNECT:-20000}
pipelines=${PIPELINES:-150}
while getopts 'r:c:w:l:b:t:h' opt; do
	case $opt in
	r) rounds=$OPTARG ;;
	c) configs=$OPTARG ;;
	w) workloads=$OPTARG ;;
	l) loads=$OPTARG ;;
	b) base_ref=$OPTARG ;;
	t) limit=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
for v in rounds limit n_create n_exec n_connect pipelines session_auid; do
	if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then
		echo "bench-host: $v must be a positive integer, got '${!v}'" >&2
		exit 2
	fi
done

if [ "$(id -u)" != 0 ]; then
	echo "bench-host: must run as root (it sets kernel audit rules)" >&2
	exit 1
fi
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
for b in auditctl auditd flock git tar timeout go bash; do
	command -v "$b" >/dev/null || { echo "bench-host: $b not found" >&2; exit 1; }
done

readonly LOCK=/run/xferhunt-audit.lock
work=$(mktemp -d /tmp/xferhunt-benchhost.XXXXXX)
shm=$(mktemp -d /dev/shm/xferhunt-benchhost.XXXXXX) # tmpfs: creations and the mixed job
log="$work/bench.log"                                 # one line per run, see run_one

# State the exit trap needs: what we started, whether we hold the lock, what we found.
xh_pid="" auditd_pid="" wl_pid="" locked=0
found_enabled="" found_pid="" found_backlog="" found_wait=""

note() { echo "bench-host: $*" >&2; }

# status_field NAME prints the number after NAME in `auditctl -s`.
status_field() {
	auditctl -s 9>&- | awk -v k="$1" '$1 == k { print $2; exit }'
}

# alive PID: the process exists and is not a zombie waiting to be reaped.
alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# stop_pid PID SECONDS: SIGTERM, wait up to SECONDS, then SIGKILL; reaps our child.
# Sets stopped to "ok" or "killed".
stopped=""
stop_pid() {
	local pid=$1 secs=$2 i
	stopped=ok
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < secs * 10; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
		stopped=killed
	fi
	wait "$pid" 2>/dev/null || true
}

# our_rules prints how many loaded rules carry the key xferhunt. (The listing is read
# whole first: `auditctl -l | grep -q` under pipefail fails when grep exits early.)
our_rules() {
	local l
	l=$(auditctl -l 9>&- 2>/dev/null) || true
	grep -c 'key=xferhunt' <<<"$l" || true
}

delete_rules() {
	if [ "$(our_rules)" != 0 ]; then
		auditctl -D -k xferhunt 9>&- >/dev/null
	fi
	[ "$(our_rules)" = 0 ]
}

# restore_audit: kill what we started, delete our rules, put the status back as found
# when the lock was taken. Only ever called while holding the lock.
restore_audit() {
	if [ -n "$wl_pid" ]; then # timeout(1) passes the TERM on to hostload
		stop_pid "$wl_pid" 15
		wl_pid=""
	fi
	if [ -n "$xh_pid" ]; then
		stop_pid "$xh_pid" 30
		[ "$stopped" = ok ] || note "xferhunt pid $xh_pid ignored SIGTERM for 30 s; killed"
		xh_pid=""
	fi
	delete_rules || note "could not delete the xferhunt rules"
	if [ -n "$auditd_pid" ]; then
		stop_pid "$auditd_pid" 10
		[ "$stopped" = ok ] || note "auditd pid $auditd_pid ignored SIGTERM for 10 s; killed"
		auditd_pid=""
	fi
	[ -n "$found_enabled" ] || return 0
	local i
	for ((i = 0; i < 50; i++)); do # the kernel clears a dead daemon's pid itself
		[ "$(status_field pid)" = "$found_pid" ] && break
		sleep 0.1
	done
	[ "$(status_field backlog_limit)" = "$found_backlog" ] || auditctl -b "$found_backlog" 9>&- >/dev/null
	[ "$(status_field backlog_wait_time)" = "$found_wait" ] ||
		auditctl --backlog_wait_time "$found_wait" 9>&- >/dev/null
	[ "$(status_field enabled)" = "$found_enabled" ] || auditctl -e "$found_enabled" 9>&- >/dev/null
}

# lock takes the host-wide audit lock (waiting for other users), records the audit
# status to restore and checks that the audit daemon slot is free.
lock() {
	flock 9
	locked=1
	found_enabled=$(status_field enabled)
	found_pid=$(status_field pid)
	found_backlog=$(status_field backlog_limit)
	found_wait=$(status_field backlog_wait_time)
	if [ "$found_enabled" = 2 ]; then
		note "kernel audit is immutable (enabled 2); cannot benchmark"
		exit 1
	fi
	if [ "$found_pid" != 0 ]; then
		note "an audit daemon (pid $found_pid) is registered; stop it first"
		exit 1
	fi
}

# unlock restores the audit state, checks it and releases the lock.
unlock() {
	restore_audit
	local now
	now="$(status_field enabled)/$(status_field pid)/$(status_field backlog_limit)/$(status_field backlog_wait_time)"
	if [ "$now" != "$found_enabled/$found_pid/$found_backlog/$found_wait" ]; then
		note "audit status not restored: found enabled/pid/backlog_limit/wait $found_enabled/$found_pid/$found_backlog/$found_wait, now $now"
	fi
	if [ "$(our_rules)" != 0 ]; then
		note "rules keyed xferhunt still loaded after clean-up: $(our_rules)"
	fi
	found_enabled=""
	flock -u 9
	locked=0
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ "$locked" = 1 ]; then
		unlock
	elif [ -n "$wl_pid" ]; then # hostload prepare, outside the lock
		stop_pid "$wl_pid" 15
	fi
	rm -rf "$shm"
	if [ "${KEEP:-0}" = 1 ]; then note "kept $work"; else rm -rf "$work"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

(umask 077 && : >>"$LOCK") # as the Go tests create it: 0600
exec 9>>"$LOCK"

# ---- build ---------------------------------------------------------------------------
xh="$work/xferhunt" hl="$work/hostload"
go build -o "$xh" . || { note "go build . failed"; exit 1; }
go build -o "$hl" ./scripts/hostload || { note "go build ./scripts/hostload failed"; exit 1; }
has_coverage() { { "$1" --help 2>&1 || true; } | grep -q -- '-coverage'; }
have_coverage=0
if has_coverage "$xh"; then have_coverage=1; fi
# The base binary: the same source at another revision, built from a git archive.
xh_base="$work/xferhunt-base" base_coverage=0
base_commit=""
if [ -n "$base_ref" ]; then
	# The commit, not the name: a branch may move while the benchmark runs.
	base_commit=$(git rev-parse --short "$base_ref^{commit}") || { note "no revision $base_ref"; exit 1; }
	mkdir "$work/base"
	git archive "$base_commit" | tar -x -C "$work/base" || { note "git archive $base_ref failed"; exit 1; }
	(cd "$work/base" && go build -buildvcs=false -o "$xh_base" .) || { note "go build at $base_ref failed"; exit 1; }
	if has_coverage "$xh_base"; then base_coverage=1; fi
fi

# Which configurations run, and which rule set each one uses.
declare -A mode_of=([xferhunt-narrow]=narrow [xferhunt-broad]=broad [auditd-narrow]=narrow [auditd-broad]=broad
	[base-narrow]=narrow [base-broad]=broad)
run_configs=()
IFS=, read -r -a want_configs <<<"$configs"
for c in "${want_configs[@]}"; do
	case $c in
	none | xferhunt-broad | auditd-broad) run_configs+=("$c") ;;
	xferhunt-narrow | auditd-narrow)
		if [ "$have_coverage" = 1 ]; then
			run_configs+=("$c")
		else
			note "NOTE: this xferhunt has no --coverage flag yet: skipping $c (rerun once it exists)"
		fi
		;;
	base-narrow | base-broad)
		if [ -z "$base_ref" ]; then
			note "$c needs -b REF"; exit 2
		elif [ "$c" = base-narrow ] && [ "$base_coverage" = 0 ]; then
			note "NOTE: xferhunt at $base_ref has no --coverage flag: skipping $c"
		else
			run_configs+=("$c")
		fi
		;;
	*) note "unknown configuration '$c'"; exit 2 ;;
	esac
done
IFS=, read -r -a want_workloads <<<"$workloads"
for w in "${want_workloads[@]}"; do
	case $w in create | mkdir | exec | connect | mixed) ;; *) note "unknown workload '$w'"; exit 2 ;; esac
done
# run_workloads are WORKLOAD for the daemon load, WORKLOAD@session for the session load.
run_workloads=()
IFS=, read -r -a want_loads <<<"$loads"
for l in "${want_loads[@]}"; do
	case $l in daemon | session) ;; *) note "unknown load '$l'"; exit 2 ;; esac
done
for w in "${want_workloads[@]}"; do
	for l in "${want_loads[@]}"; do
		if [ "$l" = daemon ]; then run_workloads+=("$w"); else run_workloads+=("$w@session"); fi
	done
done
[ "${#run_configs[@]}" -gt 0 ] || { note "no configuration to run"; exit 2; }

# xferhunt_args MODE COVERAGE: the command line of a live xferhunt in that rule mode.
# Without --coverage (COVERAGE 0) the binary's only (broad) rule set is used.
xferhunt_args() {
	local a=(--headless --ephemeral --source netlink:unicast) r rules
	if [ "$2" = 1 ]; then a+=(--coverage "$1"); fi
	if [ -n "${XFERHUNT_RULES:-}" ]; then
		IFS=, read -r -a rules <<<"$XFERHUNT_RULES"
		for r in "${rules[@]}"; do a+=(--rule "$r"); done
	fi
	echo "${a[@]}"
}

# start_xferhunt MODE ERRFILE [base]: start xferhunt (the base binary with "base") and
# wait for its "ready" line.
start_xferhunt() {
	local i bin=$xh cov=$have_coverage
	if [ "${3:-}" = base ]; then bin=$xh_base cov=$base_coverage; fi
	: >"$2"
	# shellcheck disable=SC2046 # word splitting of the fixed argument list is intended
	"$bin" $(xferhunt_args "$1" "$cov") >/dev/null 2>>"$2" 9>&- &
	xh_pid=$!
	for ((i = 0; i < 600; i++)); do
		grep -qx ready "$2" && return 0
		if ! alive "$xh_pid"; then
			wait "$xh_pid" || true
			xh_pid=""
			note "xferhunt ($1) exited before ready: $(tail -n 3 "$2" | tr '\n' ' ')"
			return 1
		fi
		sleep 0.1
	done
	note "xferhunt ($1) not ready after 60 s: $(tail -n 3 "$2" | tr '\n' ' ')"
	return 1
}

# start_auditd MODE DIR: auditd in the foreground with its own config and log in DIR
# (as internal/testenv.StartAuditd), the kernel backlog settings xferhunt uses in MODE,
# and the rules xferhunt installs in MODE.
start_auditd() {
	local mode=$1 dir=$2 i
	mkdir -p "$dir/plugins.d"
	cat >"$dir/auditd.conf" <<EOF
local_events = yes
write_logs = yes
log_file = $dir/audit.log
log_group = root
log_format = RAW
flush = INCREMENTAL_ASYNC
freq = 1
max_log_file = 0
max_log_file_action = IGNORE
num_logs = 5
priority_boost = 0
name_format = NONE
space_left = 2
space_left_action = IGNORE
admin_space_left = 1
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
plugin_dir = $dir/plugins.d
q_depth = 2000
overflow_action = IGNORE
end_of_event_timeout = 2
EOF
	# -n: no fork, so the pid is ours; -s enable: auditd enables audit (and disables it
	# again on exit); -c: our config dir.
	auditd -n -s enable -c "$dir" >"$dir/auditd.stderr" 2>&1 9>&- &
	auditd_pid=$!
	for ((i = 0; i < 150; i++)); do
		[ "$(status_field pid)" = "$auditd_pid" ] && break
		alive "$auditd_pid" || break
		sleep 0.1
	done
	if [ "$(status_field pid)" != "$auditd_pid" ]; then
		note "auditd did not register: $(tail -n 3 "$dir/auditd.stderr" | tr '\n' ' ')"
		return 1
	fi
	auditctl -b "${rule_backlog[$mode]}" 9>&- >/dev/null || return 1
	auditctl --backlog_wait_time "${rule_wait[$mode]}" 9>&- >/dev/null || return 1
	# Under the lock no rule of ours should be loaded here; one that is was put there by
	# something that does not take the lock, and would make -R fail with "Rule exists".
	local stray
	stray=$(our_rules)
	if [ "$stray" != 0 ]; then
		note "$stray rules keyed xferhunt were loaded before auditd's (someone outside $LOCK?); deleting them"
		delete_rules
	fi
	auditctl -R "$work/rules.$mode" 9>&- >"$dir/auditctl-R.out" 2>&1 || {
		note "auditctl -R $work/rules.$mode failed: $(tail -n 3 "$dir/auditctl-R.out" | tr '\n' ' ')"
		return 1
	}
	for ((i = 0; i < 100; i++)); do
		grep -q DAEMON_START "$dir/audit.log" 2>/dev/null && return 0
		sleep 0.1
	done
	note "auditd wrote no DAEMON_START to $dir/audit.log"
	return 1
}

# ---- rules of each mode, captured from a running xferhunt -----------------------------
declare -A rule_backlog rule_wait
need_modes=()
for c in "${run_configs[@]}"; do
	case $c in auditd-*) need_modes+=("${mode_of[$c]}") ;; esac
done
if [ "${#need_modes[@]}" -gt 0 ]; then
	lock
	for mode in $(printf '%s\n' "${need_modes[@]}" | sort -u); do
		start_xferhunt "$mode" "$work/capture.$mode.err" || exit 1
		auditctl -l 9>&- | grep 'key=xferhunt' >"$work/rules.$mode" || true
		rule_backlog[$mode]=$(status_field backlog_limit)
		rule_wait[$mode]=$(status_field backlog_wait_time)
		stop_pid "$xh_pid" 30
		xh_pid=""
		[ "$stopped" = ok ] || note "xferhunt ($mode) ignored SIGTERM while capturing its rules; killed"
		if ! [ -s "$work/rules.$mode" ]; then
			note "xferhunt ($mode) installed no rules keyed xferhunt"
			exit 1
		fi
		delete_rules
		note "$mode rules: $(wc -l <"$work/rules.$mode") lines; backlog_limit ${rule_backlog[$mode]}, backlog_wait_time ${rule_wait[$mode]}"
	done
	unlock
fi

# Untimed: src.tar and the repo the mixed job clones.
"$hl" prepare -dir "$shm/mixed" >/dev/null 9>&- &
wl_pid=$!
wait "$wl_pid"
wl_pid=""

# ---- the runs --------------------------------------------------------------------------

# as_load: bash that sets its audit login uid to $1 (written only if different: unset
# 4294967295 for a daemon, the session's uid for a login session) and execs the rest.
# The kernel keeps the login uid per task and children inherit it, so every process of
# the workload has it; the write happens before hostload starts its clock.
# shellcheck disable=SC2016 # expanded by that bash
as_load=(bash -c 'read -r cur </proc/self/loginuid; if [ "$cur" != "$0" ]; then
	echo "$0" >/proc/self/loginuid || { echo "cannot set the login uid to $0 (loginuid_immutable?)" >&2; exit 97; }
fi; exec "$@"')

# run_workload NAME OUTFILE: one timed workload (NAME is WORKLOAD or WORKLOAD@session);
# sets secs to its seconds, ">LIMIT" on timeout or "fail". It runs in the background and
# is waited for, so that a signal to the script is handled at once and the trap can
# stop it by pid.
run_workload() {
	local args rc=0 auid=4294967295
	case $1 in *@session) auid=$session_auid ;; esac
	case ${1%@session} in
	create) args=(create -n "$n_create" -dir "$shm/create") ;;
	mkdir) args=(mkdir -n "$n_create" -dir "$shm/create") ;;
	exec) args=(exec -n "$n_exec") ;;
	connect) args=(connect -n "$n_connect") ;;
	mixed) args=(mixed -dir "$shm/mixed" -pipelines "$pipelines") ;;
	esac
	timeout -k 10 "$limit" "${as_load[@]}" "$auid" "$hl" "${args[@]}" >"$2" 2>"$2.err" 9>&- &
	wl_pid=$!
	wait "$wl_pid" || rc=$?
	wl_pid=""
	rm -rf "$shm/create"
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		secs=">$limit"
	elif [ "$rc" != 0 ]; then
		note "hostload $1 failed (rc $rc): $(tail -n 2 "$2.err" | tr '\n' ' ')"
		secs=fail
	else
		secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$2")
		[ -n "$secs" ] || secs=fail
	fi
}

# drain: after a workload, give the audit reader up to 30 s to empty the kernel backlog
# so that late losses count for this run; prints the seconds it took.
drain() {
	local s e i
	s=$(date +%s.%N)
	for ((i = 0; i < 300; i++)); do
		[ "$(status_field backlog)" -lt 16 ] && break
		sleep 0.1
	done
	e=$(date +%s.%N)
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f", e - s }'
}

# cpu_ticks PID: the process's user + system time in clock ticks (USER_HZ).
cpu_ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# hwm_kb PID: the process's peak resident set (VmHWM) in kB.
hwm_kb() {
	awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status"
}

# run_one CONFIG WORKLOAD ROUND: set up CONFIG, run WORKLOAD once, tear down, and append
# "config|workload|round|seconds|kernel lost delta (session)|xferhunt counters|drain|loadavg|
# xferhunt CPU seconds from the workload's start until the backlog drained|xferhunt VmHWM kB"
# to the log.
run_one() {
	local cfg=$1 wl=$2 round=$3 tag="$work/$1.$2.$3" lostpre lost0 lost1 lostpost xhc="-" dr="-" load
	local cpu0="" xcpu="-" xhwm="-"
	lostpre=$(status_field lost)
	read -r load _ </proc/loadavg # other load on the host: the figures' noise
	case $cfg in
	none)
		[ "$(status_field enabled)" = 0 ] || auditctl -e 0 9>&- >/dev/null
		if [ "$(auditctl -l 9>&-)" != "No rules" ]; then note "none: audit rules are loaded (not ours?)"; fi
		;;
	xferhunt-*) start_xferhunt "${mode_of[$cfg]}" "$tag.xferhunt.err" || return 1 ;;
	base-*) start_xferhunt "${mode_of[$cfg]}" "$tag.xferhunt.err" base || return 1 ;;
	auditd-*) start_auditd "${mode_of[$cfg]}" "$tag.auditd" || return 1 ;;
	esac
	lost0=$(status_field lost)
	if [ -n "$xh_pid" ]; then cpu0=$(cpu_ticks "$xh_pid"); fi
	run_workload "$wl" "$tag.out"
	if [ "$cfg" != none ]; then dr=$(drain); fi
	lost1=$(status_field lost)
	if [ -n "$xh_pid" ] && [ -n "$cpu0" ]; then
		# After the drain: the events of the workload have reached xferhunt.
		xcpu=$(awk -v a="$cpu0" -v b="$(cpu_ticks "$xh_pid")" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / hz }')
		xhwm=$(hwm_kb "$xh_pid")
	fi
	case $cfg in
	xferhunt-* | base-*)
		stop_pid "$xh_pid" 60
		xh_pid=""
		[ "$stopped" = ok ] || note "$cfg: xferhunt ignored SIGTERM for 60 s; killed"
		# The final status line: "[src state records=… events=… malformed=… lost=N gaps=N
		# dropped=N …]"; keep the loss counters and a state other than live.
		local st
		st=$(grep '^status:' "$tag.xferhunt.err" | tail -n 1 || true)
		if [ -n "$st" ]; then
			xhc=$(grep -o '\(lost\|gaps\|dropped\)=[0-9]*' <<<"$st" | head -n 3 | cut -d= -f2 | paste -sd/)
			if grep -q '\[[^ ]* error' <<<"$st"; then xhc="$xhc (error)"; fi
			echo "$cfg $wl $round $st" >>"$work/status.log"
		fi
		;;
	auditd-*)
		delete_rules
		stop_pid "$auditd_pid" 10
		auditd_pid=""
		[ "$stopped" = ok ] || note "$cfg: auditd ignored SIGTERM for 10 s; killed"
		rm -f "$tag.auditd/audit.log"*
		;;
	esac
	restore_audit
	lostpost=$(status_field lost)
	echo "$cfg|$wl|$round|$secs|$((lost1 - lost0)) ($((lostpost - lostpre)))|$xhc|$dr|$load|$xcpu|$xhwm" >>"$log"
	note "round $round $cfg $wl: ${secs} s; kernel lost +$((lost1 - lost0)) (session +$((lostpost - lostpre)));" \
		"xferhunt lost/gaps/dropped $xhc; drain ${dr} s"
}

start_all=$(date +%s)
ncfg=${#run_configs[@]}
for ((round = 1; round <= rounds; round++)); do
	for ((k = 0; k < ncfg; k++)); do
		cfg=${run_configs[$(((k + round - 1) % ncfg))]} # rotate the order each round
		lock
		for wl in "${run_workloads[@]}"; do
			if ! run_one "$cfg" "$wl" "$round"; then
				restore_audit
				echo "$cfg|$wl|$round|fail|-|-|-" >>"$log"
			fi
		done
		unlock
	done
done
elapsed=$(($(date +%s) - start_all))

# ---- report ----------------------------------------------------------------------------

# median CONFIG WORKLOAD: "median min max failed" over the rounds that did not fail,
# each "%.2f" or ">LIMIT" for runs that hit the limit (they sort last), and the number
# of failed runs; "fail" when every run failed.
median() {
	awk -F'|' -v c="$1" -v w="$2" -v lim="$limit" '
		function f(x) { return x >= 1e12 ? ">" lim : sprintf("%.2f", x) }
		$1 == c && $2 == w && $4 == "fail" { bad++ }
		$1 == c && $2 == w && $4 != "fail" { v = $4; if (v ~ /^>/) v = 1e12; a[n++] = v + 0 }
		END {
			if (n == 0) { print "fail"; exit }
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			m = (n % 2) ? a[int(n / 2)] : (a[n / 2] >= 1e12 ? 1e12 : (a[n / 2 - 1] + a[n / 2]) / 2)
			printf "%s %s %s %d\n", f(m), f(a[0]), f(a[n - 1]), bad
		}' "$log"
}

human() { awk -v n="$1" 'BEGIN { if (n >= 1000 && n % 1000 == 0) printf "%dk", n / 1000; else printf "%d", n }'; }
declare -A label=(
	[create]="$(human "$n_create") file creations (tmpfs)"
	[mkdir]="$(human "$n_create") directory creations (tmpfs)"
	[exec]="$(human "$n_exec") execs of /bin/true"
	[connect]="$(human "$n_connect") loopback connects"
	[mixed]="mixed job (tar x of Go's src, git clone, $pipelines pipelines)"
)
for w in create mkdir exec connect mixed; do label[$w@session]="${label[$w]}, in a login session"; done
declare -A title=(
	[none]="no audit" [xferhunt-narrow]="xferhunt default (narrow)" [xferhunt-broad]="xferhunt --coverage broad"
	[auditd-narrow]="auditd, narrow rules" [auditd-broad]="auditd, broad rules"
	[base-narrow]="xferhunt $base_ref (narrow)" [base-broad]="xferhunt $base_ref --coverage broad"
)

echo
echo "Host overhead, $(nproc) cores, kernel $(uname -r), xferhunt $(git describe --always --dirty 2>/dev/null || echo '?')," \
	"$(date -u +%Y-%m-%d); median of $rounds round(s), configurations interleaved; per-run limit ${limit} s; total $((elapsed / 60)) min $((elapsed % 60)) s."
awk -F'|' 'NF >= 8 && $8 != "" { if (n++ == 0 || $8 < lo) lo = $8; if ($8 > hi) hi = $8 }
	END { if (n) printf "1-min load average before each run: %.2f–%.2f (this benchmark alone keeps it near 1; higher means other load on the host).\n", lo, hi }' "$log"
[ "$have_coverage" = 1 ] || echo "This xferhunt has no --coverage flag: \"broad\" is its only rule set; narrow not measured."
[[ " ${run_workloads[*]}" != *@session* ]] || echo "\"in a login session\": the workload ran with audit login uid $session_auid (as after pam_loginuid); the others with it unset, as a service's."
[ -z "$base_ref" ] || echo "xferhunt $base_ref: $base_commit, built from git archive."
for mode in narrow broad; do
	[ -n "${rule_backlog[$mode]:-}" ] || continue
	echo "auditd-$mode: $(wc -l <"$work/rules.$mode") rules, backlog_limit ${rule_backlog[$mode]}, backlog_wait_time ${rule_wait[$mode]} (as xferhunt sets them)."
done
echo
hdr="| workload |" sep="|---|"
for c in "${run_configs[@]}"; do hdr+=" ${title[$c]} |"; sep+="---|"; done
echo "$hdr"
echo "$sep"
for w in "${run_workloads[@]}"; do
	row="| ${label[$w]} |"
	base=""
	if [[ " ${run_configs[*]} " == *" none "* ]]; then
		read -r base _ <<<"$(median none "$w")"
	fi
	for c in "${run_configs[@]}"; do
		read -r m lo hi bad <<<"$(median "$c" "$w")"
		if [ "$m" = fail ]; then row+=" failed |"; continue; fi
		cell="$m s"
		if [ "$c" != none ] && [ -n "$base" ] && [ "$base" != fail ] && [[ $base != \>* ]] && [[ $m != \>* ]]; then
			cell+=$(awk -v m="$m" -v b="$base" 'BEGIN { if (b > 0) printf " (%+.0f%%)", (m - b) / b * 100 }')
		fi
		if [ "$rounds" -gt 1 ]; then cell+=", $lo–$hi"; fi
		if [ "${bad:-0}" -gt 0 ]; then cell+=" ($bad of $rounds runs failed)"; fi
		row+=" $cell |"
	done
	echo "$row"
done

echo
# Per workload, the number of items it makes (what "per item" divides by).
declare -A items=([create]=$n_create [mkdir]=$n_create [exec]=$n_exec [connect]=$n_connect)
echo
echo "xferhunt's own cost per run (round 1, 2, …): its CPU seconds from the workload's start until the kernel"
echo "backlog drained (user + system, all its threads), that per workload item in µs, and its peak resident set"
echo "(VmHWM) at that point."
echo
echo "| workload | configuration | xferhunt CPU s | µs per item | VmHWM MB |"
echo "|---|---|---|---|---|"
for w in "${run_workloads[@]}"; do
	for c in "${run_configs[@]}"; do
		case $c in xferhunt-* | base-*) ;; *) continue ;; esac
		awk -F'|' -v c="$c" -v w="$w" -v l="${label[$w]}" -v t="${title[$c]}" -v n="${items[${w%@session}]:-0}" '
			$1 == c && $2 == w && NF >= 10 {
				cpu = cpu sep $9
				per = per sep ($9 ~ /^[0-9.]+$/ && n > 0 ? sprintf("%.1f", $9 * 1e6 / n) : "-")
				hwm = hwm sep ($10 ~ /^[0-9]+$/ ? sprintf("%.1f", $10 / 1024) : "-")
				sep = ", "
			}
			END { if (sep != "") printf "| %s | %s | %s | %s | %s |\n", l, t, cpu, per, hwm }' "$log"
	done
done

echo
echo "Losses per run (round 1, 2, …): the kernel's \`lost\` delta (\`auditctl -s\`) from the workload's start until"
echo "the backlog drained, and in parentheses from before the reader started until after it stopped (the window"
echo "xferhunt's own counter covers); xferhunt's lost/gaps/dropped from its final status line; drain = seconds"
echo "until the kernel backlog emptied after the workload."
echo
echo "| workload | configuration | kernel lost Δ (session) | xferhunt lost/gaps/dropped | drain s |"
echo "|---|---|---|---|---|"
for w in "${run_workloads[@]}"; do
	for c in "${run_configs[@]}"; do
		[ "$c" != none ] || continue
		awk -F'|' -v c="$c" -v w="$w" -v l="${label[$w]}" -v t="${title[$c]}" '
			$1 == c && $2 == w { lost = lost sep $5; xh = xh sep $6; dr = dr sep $7; sep = ", " }
			END { if (sep != "") printf "| %s | %s | %s | %s | %s |\n", l, t, lost, xh, dr }' "$log"
	done
done
