#!/usr/bin/env bash
# Instructions per echoed message of the wire WebSocket echo server
# (bench/ws_wire.c) under callgrind: the working metric for the ws
# layer's speed on a noisy machine (counts do not depend on the load).
# The server runs under callgrind on SERVER_CPU; one warm-up run of
# bench/ws_load.c, then the counters are zeroed, a measured run of
# DURATION seconds, and the dump at exit. Prints the messages, the instructions
# and their ratio; the dump stays in OUT for callgrind_annotate.
#
# Usage: bench/ws_callgrind.sh [BUILD_DIR]   (default build-rel: a
#        Release build, with -g in CMAKE_C_FLAGS for annotations)
# Knobs: INFLIGHT=16, CONNS=100, SIZE=32, DURATION=4, SERVER_CPU=0,
#        CLIENT_CPU=1, OUT=/tmp/ws-callgrind.out, SERVER=wire (or ceiling:
#        bench/ws_ceiling.c, for comparison)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
build=${1:-$root/build-rel}
case $build in /*) ;; *) build=$PWD/$build ;; esac
INFLIGHT=${INFLIGHT:-16}
CONNS=${CONNS:-100}
SIZE=${SIZE:-32}
DURATION=${DURATION:-4}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
OUT=${OUT:-/tmp/ws-callgrind.out}
SERVER=${SERVER:-wire}

callgrind_tmp
wire_bench_cc ws_wire
cc -O2 -g "$root/bench/ws_ceiling.c" -lcrypto -o "$tmp/ws_ceiling"
cc -O2 "$root/bench/ws_load.c" -o "$tmp/ws_load"

callgrind_start "$tmp/ws_$SERVER" 0
load() {
  taskset -c "$CLIENT_CPU" "$tmp/ws_load" -p "$port" -c "$CONNS" \
    -m "$INFLIGHT" -s "$SIZE" -d "$1"
}
load 1 >/dev/null
callgrind_control -z "$gpid" >/dev/null
msgs=$(load "$DURATION" | awk '$1 == "messages" {print $2}')
callgrind_total
echo "messages $msgs"
echo "instructions $ir"
awk -v i="$ir" -v m="$msgs" 'BEGIN {printf "ir_per_msg %.0f\n", i / m}'
echo "dump $OUT"
