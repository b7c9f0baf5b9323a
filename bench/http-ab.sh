#!/usr/bin/env bash
# Two HTTP servers at once on one core: wire built from two trees (A/B
# of a change), or wire and the ceiling. Both servers run pinned to
# SERVER_CPU at the same time, each loaded by its own wrk (one thread,
# pipelined 16 deep by default) on CLIENT_CPU, so whatever the host does
# to that core during a round (steal, a neighbour's cache traffic) it
# does to both: the ratio of their requests per server CPU-second moves
# far less from round to round than runs taken one after the other
# (bench/http.sh). Sharing the core costs each some cache, so the ratio
# to the ceiling here is not bench/http.sh's figure; compare like with
# like. Prints each round and the median ratio A/B.
# Run by hand; never part of the tests.
#
# Usage: bench/http-ab.sh BUILD_A [BUILD_B | ceiling]
#        (directories holding libwire.a, e.g. a Release build of each
#        tree; default B: the ceiling, bench/http_ceiling.c)
# Knobs: ROUNDS=6, DURATION=5 (s per measured run, after a 1 s warm-up),
#        DEPTH=16 (1: plain keep-alive), CONNS=100, SERVER_CPU=0,
#        CLIENT_CPU=1, WRK=wrk.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
[ $# -ge 1 ] || { sed -n '2,21p' "$0" >&2; exit 2; }
ROUNDS=${ROUNDS:-6}
DURATION=${DURATION:-5}
DEPTH=${DEPTH:-16}
CONNS=${CONNS:-100}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
WRK=${WRK:-wrk}
hz=$(getconf CLK_TCK)

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# server NAME BUILD: the program for one side.
server() {
  if [ "$2" = ceiling ]; then
    cc -O2 "$root/bench/http_ceiling.c" -o "$tmp/$1"
  else
    [ -f "$2/libwire.a" ] || { echo "no $2/libwire.a" >&2; exit 1; }
    # shellcheck disable=SC2046 # the flags are meant to split into words
    cc -O2 -I"$root/include" "$root/bench/http_wire.c" "$2/libwire.a" \
      $(pkg-config --libs libuv) -o "$tmp/$1"
  fi
}
abs() { case $1 in /* | ceiling) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
server a "$(abs "$1")"
server b "$(abs "${2:-ceiling}")"

# load PORT SECONDS OUT: one wrk against 127.0.0.1:PORT.
load() {
  local args=(-t1 -c"$CONNS" -d"$2") tail=()
  if [ "$DEPTH" -gt 1 ]; then
    args+=(-s "$root/bench/http_pipeline.lua")
    tail=(-- "$DEPTH")
  fi
  taskset -c "$CLIENT_CPU" "$WRK" "${args[@]}" "http://127.0.0.1:$1/" \
    "${tail[@]}" >"$3"
}

port_of() {
  local p
  p=$(listen_port "$1")
  [ -n "$p" ] || { echo "no server: $(cat "$1")" >&2; exit 1; }
  echo "$p"
}

echo "# http-ab: $(date -u '+%Y-%m-%d %H:%M UTC'); A=$1 B=${2:-ceiling};" \
     "both servers on CPU $SERVER_CPU, one wrk each on CPU $CLIENT_CPU;" \
     "$CONNS connections, depth $DEPTH, ${DURATION}s per round"
printf '%-5s %12s %12s %7s %7s\n' round A-req/cpu-s B-req/cpu-s A/B steal%
: >"$tmp/ratios"
for r in $(seq "$ROUNDS"); do
  taskset -c "$SERVER_CPU" "$tmp/a" 0 >"$tmp/a.out" 2>&1 &
  pa=$!
  taskset -c "$SERVER_CPU" "$tmp/b" 0 >"$tmp/b.out" 2>&1 &
  pb=$!
  pids=("$pa" "$pb")
  porta=$(port_of "$tmp/a.out")
  portb=$(port_of "$tmp/b.out")
  load "$porta" 1 /dev/null & load "$portb" 1 /dev/null; wait %3 2>/dev/null || true
  ta=$(cpu_ticks "$pa"); tb=$(cpu_ticks "$pb"); st=$(steal_ticks)
  load "$porta" "$DURATION" "$tmp/wa" & wl=$!
  load "$portb" "$DURATION" "$tmp/wb"
  wait "$wl"
  ta=$(($(cpu_ticks "$pa") - ta)); tb=$(($(cpu_ticks "$pb") - tb))
  st=$(($(steal_ticks) - st))
  kill "$pa" "$pb" 2>/dev/null || true
  wait "$pa" "$pb" 2>/dev/null || true
  pids=()
  ra=$(awk '/requests in/ {print $1}' "$tmp/wa")
  rb=$(awk '/requests in/ {print $1}' "$tmp/wb")
  awk -v r="$r" -v ra="$ra" -v rb="$rb" -v ta="$ta" -v tb="$tb" -v hz="$hz" \
      -v st="$st" -v d="$DURATION" -v n="$(nproc)" -v out="$tmp/ratios" '
    BEGIN {
      a = ta > 0 ? ra / (ta / hz) : 0
      b = tb > 0 ? rb / (tb / hz) : 0
      q = b > 0 ? a / b : 0
      printf "%-5s %12.0f %12.0f %7.3f %7.1f\n", r, a, b, q, 100 * st / hz / d / n
      printf "%.4f\n", q >>out
    }'
done
printf 'median A/B %.3f\n' "$(median <"$tmp/ratios")"
