#!/usr/bin/env bash
# Instructions per request of the wire HTTP server (bench/http_wire.c)
# under callgrind: the working metric for the HTTP server's speed on a
# noisy machine (counts do not depend on the load). The server runs under
# callgrind on SERVER_CPU; one warm-up run of wrk, then the counters are
# zeroed, a measured run of DURATION seconds, and the dump at exit.
# Prints the requests, the instructions and their ratio; the dump stays
# in OUT for callgrind_annotate.
#
# Usage: bench/http_callgrind.sh [BUILD_DIR]   (default build-rel: a
#        Release build, with -g in CMAKE_C_FLAGS for annotations)
# Knobs: DEPTH=16 (requests per write; 1 is plain keep-alive), CONNS=100,
#        DURATION=4, SERVER_CPU=0, CLIENT_CPU=1, OUT=/tmp/http-callgrind.out,
#        SERVER=wire (or ceiling: bench/http_ceiling.c, for comparison)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
build=${1:-$root/build-rel}
case $build in /*) ;; *) build=$PWD/$build ;; esac
DEPTH=${DEPTH:-16}
CONNS=${CONNS:-100}
DURATION=${DURATION:-4}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
OUT=${OUT:-/tmp/http-callgrind.out}
SERVER=${SERVER:-wire}

callgrind_tmp
wire_bench_cc http_wire
cc -O2 -g "$root/bench/http_ceiling.c" -o "$tmp/http_ceiling"

callgrind_start "$tmp/http_$SERVER" 0
load() {
  local args=()
  [ "$DEPTH" -gt 1 ] && args=(-s "$root/bench/http_pipeline.lua")
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"$1" "${args[@]}" \
    "http://127.0.0.1:$port/" ${args[@]:+-- "$DEPTH"}
}
load 1 >/dev/null
callgrind_control -z "$gpid" >/dev/null 2>&1
reqs=$(load "$DURATION" | awk '/requests in/ {print $1}')
callgrind_total
echo "requests $reqs"
echo "instructions $ir"
awk -v i="$ir" -v m="$reqs" 'BEGIN {printf "ir_per_request %.0f\n", i / m}'
echo "dump $OUT"
