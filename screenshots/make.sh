#!/usr/bin/env bash
# Regenerates the README screenshots from the real program: runs
# `xferhunt demo` (a replay of a bundled capture, no root needed) in a
# detached tmux at 120x40, drives it with keys, captures each view with its
# colors (capture-pane -e), and turns the captures into SVG (ansi2svg, in
# this directory) and PNG (rsvg-convert, then pngshrink to a palette).
#
# Needs: tmux, rsvg-convert (Debian: tmux librsvg2-bin), Go.
# Usage: screenshots/make.sh            (from anywhere in the repo)
#        XFERHUNT_CMD="path/to/bin demo" screenshots/make.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cols=120 rows=40
session="shots"
work=$(mktemp -d)
# A private tmux server (its own socket in $work): the script never touches
# the caller's tmux, and cleanup can kill the whole server.
sock="$work/tmux.sock"
t() { tmux -f /dev/null -S "$sock" "$@"; }
pane_pid=""

for tool in tmux rsvg-convert go; do
  command -v "$tool" >/dev/null || { echo "make.sh: $tool not found (apt-get install tmux librsvg2-bin)" >&2; exit 1; }
done

cleanup() {
  t kill-server 2>/dev/null || true
  # The pane's process gets SIGHUP from the dying server; make sure.
  if [[ -n "$pane_pid" ]] && kill -0 "$pane_pid" 2>/dev/null; then
    kill "$pane_pid" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$pane_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pane_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$repo" && go build -o "$work/ansi2svg" ./screenshots/ansi2svg && go build -o "$work/pngshrink" ./screenshots/pngshrink)
if [[ -z "${XFERHUNT_CMD:-}" ]]; then
  (cd "$repo" && go build -o "$work/xferhunt" .)
  XFERHUNT_CMD="$work/xferhunt demo"
fi

# A fixed, known terminal so the images do not depend on the caller's.
# exec: the pane's process is xferhunt itself, so pane_pid is its pid.
t new-session -d -s "$session" -x "$cols" -y "$rows" \
  "cd '$work' && exec env TERM=xterm-256color COLORTERM=truecolor LANG=C.UTF-8 XDG_STATE_HOME=$work/state $XFERHUNT_CMD"
t set-option -t "$session" status off >/dev/null
pane_pid=$(t display-message -p -t "$session" '#{pane_pid}')

capture() { t capture-pane -t "$session" -p -e -N; } # -N: keep trailing (styled) blanks

# wait_for TEXT: poll the screen (not the clock) until TEXT shows, 30 s max.
wait_for() {
  for _ in $(seq 300); do
    if capture | grep -qF -- "$1"; then return 0; fi
    if ! t has-session -t "$session" 2>/dev/null; then
      echo "make.sh: the program exited before showing '$1'" >&2; exit 1
    fi
    sleep 0.1
  done
  echo "make.sh: timed out waiting for '$1'; screen was:" >&2
  capture >&2
  exit 1
}

shoot() { # NAME TITLE
  sleep 0.3 # let the last frame settle (the renderer batches at 60 fps)
  capture >"$work/$1.ansi"
  "$work/ansi2svg" -cols "$cols" -rows "$rows" -title "$2" <"$work/$1.ansi" >"$here/$1.svg"
  rsvg-convert "$here/$1.svg" -o "$here/$1.png"
  "$work/pngshrink" "$here/$1.png" # palette PNG: a third of the size
  echo "wrote screenshots/$1.png"
}

keys() { t send-keys -t "$session" "$@"; }

# The demo replays its capture in real time: wait for all five alerts.
wait_for "5/5 shown"
shoot list "xferhunt alert list"
keys Enter;  wait_for "Overview";   shoot overview "alert overview: reason, new terms, matched clauses, MITRE"
keys Tab;    wait_for "Ancestry";   shoot process "process tab: ancestry tree"
keys Tab;    wait_for "euid";       shoot user "user tab: uid, euid, auid, login session"
keys Tab;    wait_for "sha256";     shoot file "file tab: path, size, hash, still present"
keys Tab;    wait_for "attributed"; shoot connection "connection tab: source, session, daemon pid"
keys Tab;    wait_for "Alert JSON"; shoot raw "raw tab: alert JSON and audit records"
keys Tab;    sleep 0.3;             shoot guide "investigation guide"
keys Escape; sleep 0.3; keys '?'; wait_for "Global"; shoot help "help generated from the keymap"
keys '?'; keys '/'; keys -l 'process.name : sshd'; wait_for "process.name : sshd"; shoot filter "KQL filter prompt"
keys Escape; sleep 0.3
keys t;      wait_for "this alert"; shoot story "story view: the login session of the alert"
keys Tab;    wait_for "address 127"; shoot story-address "story view: every login from the address"
keys Escape; sleep 0.3
keys s s s;  wait_for "user▲"; shoot sorted "list sorted by user, the column marked"
keys s s s s; wait_for "time▼"
keys Enter BTab BTab; wait_for "Alert JSON"
keys '/'; keys -l 'sftp'; keys Enter; sleep 0.3; shoot raw-search "search in the Raw tab, hits highlighted"
keys Escape; sleep 0.3

# The smallest supported everyday terminal.
cols=80 rows=24
t resize-window -t "$session" -x "$cols" -y "$rows"
sleep 0.5
shoot small "80x24 terminal"
keys Enter; wait_for "Overview"; shoot small-detail "80x24 terminal, alert open"
keys Escape; sleep 0.3; keys q
