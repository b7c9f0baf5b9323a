#!/usr/bin/env bash
# HTTP server benchmark: wire vs nginx (1 worker) vs h2o (1 thread) vs
# node's http vs a minimal epoll server that answers a canned response
# without parsing (bench/http_ceiling.c: the ceiling), on loopback. Every
# server answers GET / with 200 and the same 13-byte body,
# "Hello, World\n", as text/plain. The server runs pinned to SERVER_CPU
# and wrk (one thread) to CLIENT_CPU. Scenarios: keep-alive with 100 and
# with 1,000 connections, and 100 connections pipelining 16 requests per
# write (bench/http_pipeline.lua). For each run: wrk's req/s, the server's
# CPU time (utime+stime of the server and its children from
# /proc/PID/stat, before/after the measured run) and requests per server
# CPU-second, the figure that matters: one wrk thread saturates near the
# servers' own speed, so raw req/s mostly measures wrk. Servers take turns
# for ROUNDS rounds (the machine is shared); it prints every run, the
# medians and the ratios wire/ceiling, wire/nginx, wire/h2o, wire/node,
# of the medians and per round (bench/paired.awk).
# Run by hand; never part of the tests.
#
# Usage: bench/http.sh [BUILD_DIR]     (default: build-bench; only its
#        libwire.a is used: the programs are compiled here with cc)
# Build: cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release \
#          -DWIRE_BUILD_BENCH=ON -DWIRE_BUILD_TESTS=OFF
#        cmake --build build-bench -j2
# Knobs (environment): DURATION=5 (s per measured run), WARMUP=1 (s, not
# counted), SERVERS="ceiling wire nginx h2o node", SCENARIOS="c100 c1000
# pipe16", PIPE_CONNS=100, PIPE_DEPTH=16, ROUNDS=3, SERVER_CPU=0,
# CLIENT_CPU=1, NODE=node, NGINX=nginx, H2O=h2o, WRK=wrk, MAX_STEAL
# (percent; unset: none): the per-round ratios leave out a round in which
# either run saw more host steal than that (every run shows its steal, the
# share of all CPUs the host took during it, from /proc/stat).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
build=${1:-$root/build-bench}
case $build in /*) ;; *) build=$PWD/$build ;; esac
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
SERVERS=${SERVERS:-"ceiling wire nginx h2o node"}
SCENARIOS=${SCENARIOS:-"c100 c1000 pipe16"}
PIPE_CONNS=${PIPE_CONNS:-100}
PIPE_DEPTH=${PIPE_DEPTH:-16}
ROUNDS=${ROUNDS:-3}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
NODE=${NODE:-node}
NGINX=${NGINX:-nginx}
H2O=${H2O:-h2o}
WRK=${WRK:-wrk}
MAX_STEAL=${MAX_STEAL:-}
hz=$(getconf CLK_TCK)

[ -f "$build/libwire.a" ] || { echo "no $build/libwire.a: build first" >&2; exit 1; }
# 1,000 connections on each side, plus the servers' own descriptors.
ulimit -n 30000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

tmp=$(mktemp -d)
chmod 755 "$tmp" # h2o started as root reads its files as @USER@
tpid=
cleanup() {
  if [ -n "$tpid" ]; then kill "$tpid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck disable=SC2046 # the flags are meant to split into words
cc -O2 -I"$root/include" "$root/bench/http_wire.c" "$build/libwire.a" \
  $(pkg-config --libs libuv) -o "$tmp/http_wire"
cc -O2 "$root/bench/http_ceiling.c" -o "$tmp/http_ceiling"


# conf TEMPLATE OUT DIR PORT KEEPALIVE_S: fills in a config template.
conf() {
  sed -e "s|@DIR@|$3|g" -e "s|@PORT@|$4|g" -e "s|@KEEPALIVE@|$5|g" \
      -e "s|@USER@|$(id -un)|g" "$1" >"$2"
}

# Starts server $1 on SERVER_CPU (bounded to 10 minutes); sets tpid (the
# timeout wrapper), spid (the server) and port; checks the body.
start_server() {
  local name=$1 d=$tmp/$1 cmd
  rm -rf "$d"
  mkdir -p "$d/www"
  chmod 755 "$d" "$d/www"
  : >"$d/out"
  port=
  case $name in
    ceiling) cmd="$tmp/http_ceiling 0" ;;
    wire) cmd="$tmp/http_wire 0" ;;
    node) cmd="$NODE $root/bench/http_node.js 0" ;;
    nginx)
      port=$(free_port)
      conf "$root/bench/nginx.conf.in" "$d/nginx.conf" "$d" "$port" 75 ;;
    h2o)
      port=$(free_port)
      printf 'Hello, World\n' >"$d/www/index.txt"
      chmod 644 "$d/www/index.txt"
      conf "$root/bench/h2o.conf.in" "$d/h2o.conf" "$d" "$port" 75
      cmd="$H2O -c $d/h2o.conf" ;;
  esac
  if [ "$name" = nginx ]; then
    timeout 600 taskset -c "$SERVER_CPU" "$NGINX" -c "$d/nginx.conf" -p "$d" \
      -g 'daemon off;' >>"$d/out" 2>&1 &
  else
    # shellcheck disable=SC2086 # the command is meant to split into words
    timeout 600 taskset -c "$SERVER_CPU" $cmd >>"$d/out" 2>&1 &
  fi
  tpid=$!
  local body=
  for _ in $(seq 100); do
    if [ -z "$port" ]; then
      port=$(sed -n 's/^listening on http:\/\/.*:\([0-9]*\)\/$/\1/p' "$d/out")
    fi
    if [ -n "$port" ]; then
      body=$(curl -s --max-time 1 "http://127.0.0.1:$port/" || true)
      [ "$body" = "Hello, World" ] && break
    fi
    sleep 0.1
  done
  [ "$body" = "Hello, World" ] || { echo "$name did not start:" >&2; cat "$d/out" >&2; exit 1; }
  spid=$(pgrep -P "$tpid")
  if [ ! -f "$tmp/head.$name" ]; then
    curl -s -D "$tmp/head.$name" -o /dev/null "http://127.0.0.1:$port/"
  fi
}

stop_server() {
  kill "$tpid" 2>/dev/null || true
  wait "$tpid" 2>/dev/null || true
  tpid=
}


wrk_args() {
  case $1 in
    c100) echo "-c 100" ;;
    c1000) echo "-c 1000" ;;
    pipe*) echo "-c $PIPE_CONNS -s $root/bench/http_pipeline.lua" ;;
  esac
}

# run ROUND NAME SCENARIO: a warm-up, then the measured run; appends
#   round server scenario req/s requests server-cpu-s seconds errors
# to $tmp/raw.
run() {
  local round=$1 name=$2 sc=$3 f=$tmp/wrk.out url="http://127.0.0.1:$port/"
  local args tail=()
  args=$(wrk_args "$sc")
  case $sc in pipe*) tail=(-- "$PIPE_DEPTH") ;; esac
  # shellcheck disable=SC2086
  taskset -c "$CLIENT_CPU" "$WRK" -t 1 $args -d "${WARMUP}s" "$url" \
    "${tail[@]}" >/dev/null
  local before after st0 st1
  before=$(cpu_ticks "$spid")
  st0=$(steal_ticks)
  # shellcheck disable=SC2086
  taskset -c "$CLIENT_CPU" "$WRK" -t 1 $args -d "${DURATION}s" "$url" \
    "${tail[@]}" >"$f"
  after=$(cpu_ticks "$spid")
  st1=$(steal_ticks)
  awk -v r="$round" -v n="$name" -v s="$sc" -v t=$((after - before)) \
      -v hz="$hz" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
      -v st=$((st1 - st0)) -v ncpu="$(nproc)" '
    / requests in / {reqs = $1; secs = $4; sub(/s,?$/, "", secs)}
    /^Requests\/sec:/ {rate = $2}
    /Socket errors:/ {gsub(/[^0-9 ]/, " "); err += $1 + $2 + $3 + $4}
    /Non-2xx/ {err += $NF}
    END {
      steal = secs > 0 ? 100 * st / hz / secs / ncpu : 0
      printf "%s %s %s %s %s %s %s %d %s %.1f\n", r, n, s, rate, reqs,
             t / hz, secs, err + 0, load, steal
    }' "$f" >>"$tmp/raw"
}

echo "# http: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
     "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg); server on CPU" \
     "$SERVER_CPU, wrk (1 thread) on CPU $CLIENT_CPU; $ROUNDS rounds," \
     "servers interleaved; ${DURATION}s per run after a ${WARMUP}s warm-up;" \
     "pipelining: $PIPE_CONNS connections x $PIPE_DEPTH"
echo "# $($NGINX -v 2>&1), $($H2O --version 2>&1 | head -1)," \
     "node $($NODE --version 2>/dev/null || echo absent), $($WRK -v 2>&1 | head -1 | cut -d' ' -f1-2)"

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
echo "## response size (head + 13-byte body)"
for name in $SERVERS; do
  printf '%-8s %4d bytes: %s\n' "$name" $(($(wc -c <"$tmp/head.$name") + 13)) \
    "$(tr -d '\r' <"$tmp/head.$name" | sed 1d | cut -d: -f1 | tr '\n' ' ')"
done

echo
echo "## every run (req/cpu-s = requests / server CPU seconds)"
printf '%-5s %-8s %-7s %9s %6s %8s %6s %11s %5s %6s\n' round server scen \
  req/s srv-% srv-cpu errors req/cpu-s load steal%
awk '{
  per = $6 > 0 ? $5 / $6 : 0
  printf "%-5s %-8s %-7s %9.0f %6.0f %8.2f %6d %11.0f %5s %6.1f\n", $1, $2,
         $3, $4, 100 * $6 / $7, $6, $8, per, $9, $10
}' "$tmp/raw"

for sc in $SCENARIOS; do
  echo
  echo "## $sc: median of $ROUNDS rounds"
  printf '%-8s %9s %6s %11s\n' server req/s srv-% req/cpu-s
  : >"$tmp/med.$sc"
  for name in $SERVERS; do
    sel() { awk -v n="$name" -v s="$sc" '$2 == n && $3 == s' "$tmp/raw"; }
    rate=$(sel | awk '{print $4}' | median)
    util=$(sel | awk '{print 100 * $6 / $7}' | median)
    per=$(sel | awk '{print ($6 > 0 ? $5 / $6 : 0)}' | median)
    printf '%-8s %9.0f %6.0f %11.0f\n' "$name" "$rate" "$util" "$per"
    echo "$name $rate $per" >>"$tmp/med.$sc"
  done
  for peer in ceiling nginx h2o node; do
    awk -v p="$peer" '
      {rate[$1] = $2; per[$1] = $3}
      END {
        if (!("wire" in rate) || !(p in rate) || rate[p] == 0 || per[p] == 0)
          exit
        printf "wire/%-7s req/s %.2fx   req/cpu-s %.2fx\n", p,
               rate["wire"] / rate[p], per["wire"] / per[p]
      }' "$tmp/med.$sc"
  done
  for peer in ceiling nginx h2o node; do
    awk -v p="$peer" -v s="$sc" -v fr=1 -v fn=2 -v fs=3 -v fc=5 \
      -v fst=10 -v max_steal="$MAX_STEAL" \
      -v label=req/cpu-s -f "$root/bench/paired.awk" "$tmp/raw"
  done
done
echo
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
