#!/usr/bin/env bash
# TCP echo benchmark: wire vs a minimal epoll server (the machine's ceiling)
# vs Node's net, in one run, on loopback. Each server runs pinned to one CPU
# and the load client (tcp_load) to another. For each server and each case
# (small messages, then large ones) it measures messages/s, MB/s, the
# server's CPU time (utime+stime from /proc/PID/stat, before/after the
# measured run) and messages per server CPU-second. The servers take turns
# for ROUNDS rounds (the machine is shared: interleaving spreads any
# disturbance); it prints every run, then the medians and the ratios
# wire/epoll and wire/node. Run by hand; never part of the tests.
#
# Usage: bench/tcp-echo.sh [BUILD_DIR]     (default: build-bench)
# Build: cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release \
#          -DWIRE_BUILD_BENCH=ON -DWIRE_BUILD_TESTS=OFF
#        cmake --build build-bench -j2
# Knobs (environment): DURATION=5 (s per measured run), WARMUP=1 (s, not
# counted), CONNS=50 INFLIGHT=1 SIZE=64 (small case), LARGE_CONNS=50
# LARGE_INFLIGHT=1 LARGE_SIZE=16384 (large case), SERVER_CPU=0,
# CLIENT_CPU=1, SERVERS="epoll wire node", ROUNDS=3, NODE=node, NICE=0 (a
# negative value, e.g. -5, keeps niced builds of others from disturbing
# the runs as much; it needs CAP_SYS_NICE).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
build=${1:-$root/build-bench}
case $build in /*) ;; *) build=$PWD/$build ;; esac
bin=$build/bench
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONNS=${CONNS:-50}
INFLIGHT=${INFLIGHT:-1}
SIZE=${SIZE:-64}
LARGE_CONNS=${LARGE_CONNS:-50}
LARGE_INFLIGHT=${LARGE_INFLIGHT:-1}
LARGE_SIZE=${LARGE_SIZE:-16384}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
SERVERS=${SERVERS:-"epoll wire node"}
ROUNDS=${ROUNDS:-3}
NODE=${NODE:-node}
NICE=${NICE:-0}
hz=$(getconf CLK_TCK)

for b in wire_echo epoll_echo tcp_load; do
  [ -x "$bin/$b" ] || { echo "missing $bin/$b: build with -DWIRE_BUILD_BENCH=ON" >&2; exit 1; }
done

tmp=$(mktemp -d)
spid=
tpid=
port=
cleanup() {
  if [ -n "$tpid" ]; then kill "$tpid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

server_cmd() {
  case $1 in
    wire) echo "$bin/wire_echo 0" ;;
    epoll) echo "$bin/epoll_echo 0" ;;
    node) echo "$NODE $root/bench/node_echo.js 0" ;;
  esac
}

# Starts server $1 on SERVER_CPU (bounded to 10 minutes); sets spid, port.
start_server() {
  # Truncated here, not by the child's redirection, so that a stale port
  # from the previous round can never be read.
  : >"$tmp/$1.out"
  # shellcheck disable=SC2046 # the command is meant to split into words
  timeout 600 nice -n "$NICE" taskset -c "$SERVER_CPU" $(server_cmd "$1") >>"$tmp/$1.out" 2>&1 &
  tpid=$!
  port=$(listen_port "$tmp/$1.out" 100 0.1)
  [ -n "$port" ] || { echo "$1 did not start:" >&2; cat "$tmp/$1.out" >&2; exit 1; }
  spid=$(pgrep -P "$tpid")
}

stop_server() {
  kill "$tpid" 2>/dev/null || true
  wait "$tpid" 2>/dev/null || true
  tpid=
}


# run ROUND NAME CASE CONNS INFLIGHT SIZE: one warm-up, then the measured
# run; appends one line to $tmp/raw:
#   round server case msgs/s MB/s server-cpu-s seconds messages client-cpu-s
run() {
  local round=$1 name=$2 case=$3 c=$4 m=$5 s=$6 f=$tmp/out
  timeout 60 nice -n "$NICE" taskset -c "$CLIENT_CPU" "$bin/tcp_load" -p "$port" -c "$c" \
    -m "$m" -s "$s" -d "$WARMUP" >/dev/null
  local before after
  before=$(cpu_ticks "$spid")
  timeout 60 nice -n "$NICE" taskset -c "$CLIENT_CPU" "$bin/tcp_load" -p "$port" -c "$c" \
    -m "$m" -s "$s" -d "$DURATION" >"$f"
  after=$(cpu_ticks "$spid")
  awk -v r="$round" -v n="$name" -v c="$case" -v t=$((after - before)) \
      -v hz="$hz" '
    {v[$1] = $2}
    END {
      print r, n, c, v["msgs_per_s"], v["mb_per_s"], t / hz, v["seconds"],
            v["messages"], v["client_cpu_s"]
    }' "$f" >>"$tmp/raw"
}

echo "# tcp-echo: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
     "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg); server on CPU" \
     "$SERVER_CPU, client on CPU $CLIENT_CPU, nice $NICE; $ROUNDS rounds, servers" \
     "interleaved; ${DURATION}s per run after a ${WARMUP}s warm-up;" \
     "node $($NODE --version 2>/dev/null || echo absent)"

: >"$tmp/raw"
for round in $(seq "$ROUNDS"); do
  for name in $SERVERS; do
    start_server "$name"
    run "$round" "$name" small "$CONNS" "$INFLIGHT" "$SIZE"
    run "$round" "$name" large "$LARGE_CONNS" "$LARGE_INFLIGHT" "$LARGE_SIZE"
    stop_server
  done
done

echo
echo "## every run (msgs/cpu-s = messages / server CPU seconds)"
printf '%-5s %-6s %-5s %10s %9s %8s %6s %12s %8s\n' round server case \
  msgs/s MB/s srv-cpu srv-% msgs/cpu-s cli-cpu
awk '{
  per = $6 > 0 ? $8 / $6 : 0
  printf "%-5s %-6s %-5s %10.0f %9.2f %8.2f %6.0f %12.0f %8.2f\n", $1, $2,
         $3, $4, $5, $6, 100 * $6 / $7, per, $9
}' "$tmp/raw"

# Medians over the rounds, per server and case, then the ratios.
for case in small large; do
  if [ $case = small ]; then
    desc="$CONNS connections x $INFLIGHT in flight x $SIZE B"
  else
    desc="$LARGE_CONNS connections x $LARGE_INFLIGHT in flight x $LARGE_SIZE B"
  fi
  echo
  echo "## $desc: median of $ROUNDS rounds"
  printf '%-6s %10s %9s %6s %12s\n' server msgs/s MB/s srv-% msgs/cpu-s
  : >"$tmp/med.$case"
  for name in $SERVERS; do
    sel() { awk -v n="$name" -v c="$case" '$2 == n && $3 == c' "$tmp/raw"; }
    rate=$(sel | awk '{print $4}' | median)
    mb=$(sel | awk '{print $5}' | median)
    util=$(sel | awk '{print 100 * $6 / $7}' | median)
    per=$(sel | awk '{print ($6 > 0 ? $8 / $6 : 0)}' | median)
    printf '%-6s %10.0f %9.2f %6.0f %12.0f\n' "$name" "$rate" "$mb" "$util" "$per"
    echo "$name $rate $per" >>"$tmp/med.$case"
  done
  for peer in epoll node; do
    awk -v p="$peer" '
      {rate[$1] = $2; per[$1] = $3}
      END {
        if (!("wire" in rate) || !(p in rate) || rate[p] == 0 || per[p] == 0)
          exit
        printf "wire/%-5s msgs/s %.2fx   msgs/cpu-s %.2fx\n", p,
               rate["wire"] / rate[p], per["wire"] / per[p]
      }' "$tmp/med.$case"
  done
done
echo
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
