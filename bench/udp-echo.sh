#!/usr/bin/env bash
# UDP echo benchmark: wire vs a plain C recvmmsg/sendmmsg echo (the
# ceiling) vs Node's dgram, in one run, on loopback. Each server runs
# pinned to one CPU and the load client (udp_load: one socket, WINDOW
# datagrams of SIZE bytes in flight) to another. For each server it
# measures replies/s, the server's CPU time (utime+stime from
# /proc/PID/stat, sampled at the start and end of the measured window) and
# datagrams per server CPU-second, then prints the ratios wire/mmsg and
# wire/node. Run by hand; never part of the tests.
#
# Usage: bench/udp-echo.sh [BUILD_DIR]     (default: build-bench)
# Build: cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release \
#          -DWIRE_BUILD_BENCH=ON -DWIRE_BUILD_TESTS=OFF
#        cmake --build build-bench -j2
# (Without the bench targets, the programs are compiled here with cc
# against BUILD_DIR/libwire.a.)
# Knobs (environment): DURATION=5 WARMUP=1 SIZE=32 WINDOW=256
# SERVER_CPU=0 CLIENT_CPU=1 SERVERS="mmsg wire node" ROUNDS=1 NODE=node
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
build=${1:-$root/build-bench}
case $build in /*) ;; *) build=$PWD/$build ;; esac
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
SIZE=${SIZE:-32}
WINDOW=${WINDOW:-256}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
SERVERS=${SERVERS:-"mmsg wire node"}
ROUNDS=${ROUNDS:-1}
NODE=${NODE:-node}
hz=$(getconf CLK_TCK)

tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

bin=$build/bench
if [ ! -x "$bin/udp_echo" ] || [ ! -x "$bin/udp_load" ] ||
   [ ! -x "$bin/udp_echo_mmsg" ]; then
  [ -f "$build/libwire.a" ] || { echo "no $build/libwire.a" >&2; exit 1; }
  bin=$tmp
  cc -O2 -I"$root/include" "$root/bench/udp_echo.c" "$build/libwire.a" \
    $(pkg-config --libs libuv) -o "$bin/udp_echo"
  cc -O2 "$root/bench/udp_echo_mmsg.c" -o "$bin/udp_echo_mmsg"
  cc -O2 "$root/bench/udp_load.c" -o "$bin/udp_load"
fi


# run NAME CMD...: one measured run; prints "NAME rate per_cpu_s cpu_s".
run() {
  local name=$1
  shift
  taskset -c "$SERVER_CPU" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pid=$!
  local i
  for i in $(seq 1 200); do
    grep -q 'listening on' "$tmp/$name.out" 2>/dev/null && break
    sleep 0.05
  done
  local port
  port=$(sed -nE 's/.*:([0-9]+)$/\1/p' "$tmp/$name.out" | head -1)
  [ -n "$port" ] || { cat "$tmp/$name.err" >&2; exit 1; }
  taskset -c "$CLIENT_CPU" "$bin/udp_load" 127.0.0.1 "$port" "$DURATION" \
    "$WARMUP" "$SIZE" "$WINDOW" >"$tmp/$name.load" &
  local load=$!
  sleep "$WARMUP"
  local c0 c1
  c0=$(cpu_ticks "$pid")
  sleep "$DURATION"
  c1=$(cpu_ticks "$pid")
  wait "$load"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
  local replies rate
  replies=$(awk '{print $2}' "$tmp/$name.load")
  rate=$(awk '{print $4}' "$tmp/$name.load")
  awk -v n="$name" -v r="$replies" -v rate="$rate" -v c="$((c1 - c0))" \
    -v hz="$hz" -v f="$(awk '{print $6}' "$tmp/$name.load")" 'BEGIN {
      cpu = c / hz; per = cpu > 0 ? r / cpu : 0;
      printf "%-5s %10.0f dgrams/s %10.0f per server CPU-s  (cpu %.2f s, refills %s)\n", n, rate, per, cpu, f
    }'
}

echo "udp echo: ${SIZE}-byte datagrams, window $WINDOW, ${DURATION}s," \
  "server on CPU $SERVER_CPU, load on CPU $CLIENT_CPU"
: >"$tmp/results"
for round in $(seq 1 "$ROUNDS"); do
  for s in $SERVERS; do
    case $s in
      mmsg) run mmsg "$bin/udp_echo_mmsg" 0 ;;
      wire) run wire "$bin/udp_echo" 0 ;;
      node) run node "$NODE" "$root/bench/udp_echo.js" 0 ;;
    esac
  done | tee -a "$tmp/results"
done
median_of() {
  awk -v n="$1" '$1 == n { print $4 }' "$tmp/results" | sort -n |
    awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'
}
m_mmsg=$(median_of mmsg)
m_wire=$(median_of wire)
m_node=$(median_of node)
awk -v m="$m_mmsg" -v w="$m_wire" -v n="$m_node" 'BEGIN {
  if (m > 0 && w > 0) printf "wire/mmsg %.2fx (per server CPU-s)\n", w / m
  if (n > 0 && w > 0) printf "wire/node %.2fx (per server CPU-s)\n", w / n
}'
