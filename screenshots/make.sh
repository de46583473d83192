#!/usr/bin/env bash
# Regenerates the README screenshots from the real program: runs
# `xferhunt demo` (a replay of a bundled capture, no root needed) in a
# detached tmux at 120x40, drives it with keys, captures each view with its
# colors (capture-pane -e), and turns the captures into SVG (ansi2svg, in
# this directory) and PNG (rsvg-convert).
#
# Needs: tmux, rsvg-convert (Debian: tmux librsvg2-bin), Go.
# Usage: screenshots/make.sh            (from anywhere in the repo)
#        XFERHUNT_CMD="path/to/bin demo" screenshots/make.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cols=120 rows=40
session="xferhunt-shots-$$"
work=$(mktemp -d)

for tool in tmux rsvg-convert go; do
  command -v "$tool" >/dev/null || { echo "make.sh: $tool not found (apt-get install tmux librsvg2-bin)" >&2; exit 1; }
done

cleanup() {
  tmux kill-session -t "$session" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$repo" && go build -o "$work/ansi2svg" ./screenshots/ansi2svg)
if [[ -z "${XFERHUNT_CMD:-}" ]]; then
  (cd "$repo" && go build -o "$work/xferhunt" .)
  XFERHUNT_CMD="$work/xferhunt demo"
fi

# A fixed, known terminal so the images do not depend on the caller's.
tmux -f /dev/null new-session -d -s "$session" -x "$cols" -y "$rows" \
  "cd '$work' && env TERM=xterm-256color COLORTERM=truecolor LANG=C.UTF-8 XDG_STATE_HOME=$work/state $XFERHUNT_CMD"
tmux set-option -t "$session" status off >/dev/null

capture() { tmux capture-pane -t "$session" -p -e; }

# wait_for TEXT: poll the screen (not the clock) until TEXT shows, 30 s max.
wait_for() {
  for _ in $(seq 300); do
    if capture | grep -qF -- "$1"; then return 0; fi
    if ! tmux has-session -t "$session" 2>/dev/null; then
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
  echo "wrote screenshots/$1.png"
}

keys() { tmux send-keys -t "$session" "$@"; }

wait_for "shown"
wait_for "severity"
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
keys Escape; sleep 0.3; keys q
