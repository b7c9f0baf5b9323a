#!/usr/bin/env bash
# WebSocket echo benchmark: wire (bench/ws_wire.c, public API) vs the npm
# ws package on node (bench/ws_node.js) vs libwebsockets (bench/ws_lws.c,
# Debian's libwebsockets-dev) vs a minimal epoll WebSocket echo with no
# library (bench/ws_ceiling.c: the ceiling), on loopback, none of them
# with permessage-deflate. One load client, bench/ws_load.c (C, epoll,
# masked frames): CONNS connections (100) each keep 1 (scenario if1) or
# 16 (if16) messages of 32 bytes in flight. The server runs pinned to
# SERVER_CPU and the client to CLIENT_CPU. For each run: messages/s, the
# server's CPU time (utime+stime from /proc/PID/stat, before/after the
# measured run) and messages per server CPU-second, the figure that
# matters on a shared machine. Servers take turns for ROUNDS rounds; it
# prints every run, the medians and the ratios wire/ceiling, wire/lws,
# wire/node, of the medians and per round (bench/paired.awk). Then memory per idle WebSocket connection: IDLE_CONNS
# (10,000) connections do the handshake and stay open; the growth of the
# server's VmRSS divided by IDLE_CONNS. Run by hand; never part of the
# tests.
#
# Usage: bench/ws.sh [BUILD_DIR]   (default: build-bench; only its
#        libwire.a is used: the programs are compiled here with cc)
# Build: cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release \
#          -DWIRE_BUILD_BENCH=ON -DWIRE_BUILD_TESTS=OFF
#        cmake --build build-bench -j2
# Knobs (environment): DURATION=5 (s per measured run), WARMUP=1,
# SERVERS="ceiling wire lws node", SCENARIOS="if1 if16", CONNS=100,
# SIZE=32, ROUNDS=3, SERVER_CPU=0, CLIENT_CPU=1, NODE=node,
# IDLE_CONNS=10000 (0: skip), IDLE_SERVERS="wire ceiling lws node",
# SETTLE=1 (s before each VmRSS reading).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
build=${1:-$root/build-bench}
case $build in /*) ;; *) build=$PWD/$build ;; esac
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
SERVERS=${SERVERS:-"ceiling wire lws node"}
SCENARIOS=${SCENARIOS:-"if1 if16"}
CONNS=${CONNS:-100}
SIZE=${SIZE:-32}
ROUNDS=${ROUNDS:-3}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
NODE=${NODE:-node}
IDLE_CONNS=${IDLE_CONNS:-10000}
IDLE_SERVERS=${IDLE_SERVERS:-"wire ceiling lws node"}
SETTLE=${SETTLE:-1}
hz=$(getconf CLK_TCK)

[ -f "$build/libwire.a" ] || { echo "no $build/libwire.a: build first" >&2; exit 1; }
ulimit -n 30000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

tmp=$(mktemp -d)
tpid=
cpid=
cleanup() {
  if [ -n "$cpid" ]; then kill "$cpid" 2>/dev/null || true; fi
  if [ -n "$tpid" ]; then kill "$tpid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck disable=SC2046 # the flags are meant to split into words
cc -O2 -I"$root/include" "$root/bench/ws_wire.c" "$build/libwire.a" \
  $(pkg-config --libs libuv openssl zlib) -o "$tmp/ws_wire"
cc -O2 "$root/bench/ws_ceiling.c" -lcrypto -o "$tmp/ws_ceiling"
# shellcheck disable=SC2046
cc -O2 "$root/bench/ws_lws.c" $(pkg-config --cflags --libs libwebsockets) \
  -o "$tmp/ws_lws"
cc -O2 "$root/bench/ws_load.c" -o "$tmp/ws_load"


# Starts server $1 on SERVER_CPU (bounded to 10 minutes); sets tpid (the
# timeout wrapper), spid (the server) and port; checks that it echoes.
start_server() {
  local name=$1 cmd
  : >"$tmp/srv.out"
  port=
  case $name in
    ceiling) cmd="$tmp/ws_ceiling 0" ;;
    wire) cmd="$tmp/ws_wire 0" ;;
    lws) port=$(free_port); cmd="$tmp/ws_lws $port" ;;
    node) cmd="$NODE $root/bench/ws_node.js 0" ;;
  esac
  # shellcheck disable=SC2086 # the command is meant to split into words
  timeout 900 taskset -c "$SERVER_CPU" $cmd >>"$tmp/srv.out" 2>&1 &
  tpid=$!
  port=$(listen_port "$tmp/srv.out" 100 0.1)
  [ -n "$port" ] || { echo "$name did not start:" >&2; cat "$tmp/srv.out" >&2; exit 1; }
  spid=$(pgrep -P "$tpid")
  "$tmp/ws_load" -p "$port" -c 1 -d 0.2 >/dev/null ||
    { echo "$name does not echo" >&2; exit 1; }
}

stop_server() {
  kill "$tpid" 2>/dev/null || true
  wait "$tpid" 2>/dev/null || true
  tpid=
}

rss_kib() { awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status"; }

inflight() { echo "${1#if}"; }

# run ROUND NAME SCENARIO: a warm-up, then the measured run; appends
#   round server scenario msgs/s messages server-cpu-s seconds client-cpu-s load
# to $tmp/raw.
run() {
  local round=$1 name=$2 sc=$3 m f=$tmp/load.out
  m=$(inflight "$sc")
  taskset -c "$CLIENT_CPU" "$tmp/ws_load" -p "$port" -c "$CONNS" -m "$m" \
    -s "$SIZE" -d "$WARMUP" >/dev/null
  local before after
  before=$(cpu_ticks "$spid")
  taskset -c "$CLIENT_CPU" "$tmp/ws_load" -p "$port" -c "$CONNS" -m "$m" \
    -s "$SIZE" -d "$DURATION" >"$f"
  after=$(cpu_ticks "$spid")
  awk -v r="$round" -v n="$name" -v s="$sc" -v t=$((after - before)) \
      -v hz="$hz" -v load="$(cut -d' ' -f1 /proc/loadavg)" '
    $1 == "messages" {msgs = $2}
    $1 == "msgs_per_s" {rate = $2}
    $1 == "seconds" {secs = $2}
    $1 == "client_cpu_s" {ccpu = $2}
    END {print r, n, s, rate, msgs, t / hz, secs, ccpu, load}' "$f" >>"$tmp/raw"
}

echo "# ws: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
     "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg); server on CPU" \
     "$SERVER_CPU, ws_load on CPU $CLIENT_CPU; $ROUNDS rounds, servers" \
     "interleaved; ${DURATION}s per run after a ${WARMUP}s warm-up;" \
     "$CONNS connections, $SIZE-byte messages"
echo "# node $($NODE --version 2>/dev/null || echo absent), ws" \
     "$($NODE -p "require('$root/tests/peers/node_modules/ws/package.json').version" 2>/dev/null || echo absent)," \
     "libwebsockets $(pkg-config --modversion libwebsockets)"

: >"$tmp/raw"
for round in $(seq "$ROUNDS"); do
  for name in $SERVERS; do
    start_server "$name"
    for sc in $SCENARIOS; do
      run "$round" "$name" "$sc"
    done
    stop_server
  done
done

echo
echo "## every run (msgs/cpu-s = messages / server CPU seconds)"
printf '%-5s %-8s %-5s %10s %6s %8s %8s %12s %5s\n' round server scen \
  msgs/s srv-% srv-cpu cli-cpu msgs/cpu-s load
awk '{
  per = $6 > 0 ? $5 / $6 : 0
  printf "%-5s %-8s %-5s %10.0f %6.0f %8.2f %8.2f %12.0f %5s\n", $1, $2, $3,
         $4, 100 * $6 / $7, $6, $8, per, $9
}' "$tmp/raw"

for sc in $SCENARIOS; do
  echo
  echo "## $sc ($CONNS connections x $(inflight "$sc") in flight): median of $ROUNDS rounds"
  printf '%-8s %10s %6s %12s\n' server msgs/s srv-% msgs/cpu-s
  : >"$tmp/med.$sc"
  for name in $SERVERS; do
    sel() { awk -v n="$name" -v s="$sc" '$2 == n && $3 == s' "$tmp/raw"; }
    rate=$(sel | awk '{print $4}' | median)
    util=$(sel | awk '{print 100 * $6 / $7}' | median)
    per=$(sel | awk '{print ($6 > 0 ? $5 / $6 : 0)}' | median)
    printf '%-8s %10.0f %6.0f %12.0f\n' "$name" "$rate" "$util" "$per"
    echo "$name $rate $per" >>"$tmp/med.$sc"
  done
  for peer in ceiling lws node; do
    awk -v p="$peer" '
      {rate[$1] = $2; per[$1] = $3}
      END {
        if (!("wire" in rate) || !(p in rate) || rate[p] == 0 || per[p] == 0)
          exit
        printf "wire/%-7s msgs/s %.2fx   msgs/cpu-s %.2fx\n", p,
               rate["wire"] / rate[p], per["wire"] / per[p]
      }' "$tmp/med.$sc"
  done
  for peer in ceiling lws node; do
    awk -v p="$peer" -v s="$sc" -v fr=1 -v fn=2 -v fs=3 -v fc=5 \
      -v label=msgs/cpu-s -f "$root/bench/paired.awk" "$tmp/raw"
  done
done

if [ "$IDLE_CONNS" -gt 0 ]; then
  echo
  echo "## idle WebSocket connections: $IDLE_CONNS, VmRSS growth / connection"
  printf '%-8s %12s %12s %12s\n' server rss-before rss-after bytes/conn
  for name in $IDLE_SERVERS; do
    start_server "$name"
    sleep "$SETTLE"
    before=$(rss_kib "$spid")
    : >"$tmp/idle.out"
    taskset -c "$CLIENT_CPU" "$tmp/ws_load" -p "$port" -c "$IDLE_CONNS" -I \
      -d 300 >"$tmp/idle.out" 2>&1 &
    cpid=$!
    for _ in $(seq 1200); do
      grep -q '^connected' "$tmp/idle.out" && break
      kill -0 "$cpid" 2>/dev/null ||
        { echo "idle client failed:" >&2; cat "$tmp/idle.out" >&2; exit 1; }
      sleep 0.1
    done
    grep -q '^connected' "$tmp/idle.out" || { echo "idle: timed out" >&2; exit 1; }
    sleep "$SETTLE"
    after=$(rss_kib "$spid")
    awk -v n="$name" -v b="$before" -v a="$after" -v c="$IDLE_CONNS" \
      'BEGIN {printf "%-8s %8d KiB %8d KiB %12.0f\n", n, b, a, (a - b) * 1024 / c}'
    # The server goes first, so the TIME_WAIT entries are on its side.
    stop_server
    kill "$cpid" 2>/dev/null || true
    wait "$cpid" 2>/dev/null || true
    cpid=
  done
fi
echo
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
