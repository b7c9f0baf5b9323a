#!/usr/bin/env bash
# TLS and HTTPS server benchmark: wire (bench/tls_wire.c, the HTTPS
# server) vs nginx (1 worker, ssl, bench/tls_nginx.conf.in) vs node's
# https, on loopback, with the same certificate for all three, made by
# `wire cert`: ECDSA P-256 (wire cert's default) and RSA-2048 (--rsa 2048).
# Every server answers GET / with 200 and "Hello, World\n" as text/plain.
# Scenarios, with wrk (1 thread) on CLIENT_CPU and the server pinned to
# SERVER_CPU:
#   hs  full handshakes: 64 connections, each request with "Connection:
#       close", so every request is a new TCP connection and a full TLS
#       handshake: wrk resumes sessions when a server lets it, so nginx has
#       ssl_session_cache and ssl_session_tickets off and tls_wire runs with
#       --no-resume (tickets and cache off, see tls_wire.c); tls_wire counts
#       resumed sessions and the script prints the count (must be 0);
#   ka  HTTPS keep-alive: 100 connections, requests/s.
# For each run: wrk's rate, the server's CPU time (utime+stime of it and
# its children, /proc/PID/stat) and the rate per server CPU-second, the
# figure that matters on a shared machine. Servers take turns for ROUNDS
# rounds; it prints every run, the medians, and wire/nginx, wire/node,
# of the medians and per round (bench/paired.awk).
# Run by hand; never part of the tests.
#
# Usage: bench/tls.sh [BUILD_DIR]   (default: build-bench; only libwire.a
#        and the wire tool are used: tls_wire is compiled here with cc)
# Knobs: DURATION=5, WARMUP=1, ROUNDS=3, SERVERS="wire nginx node",
#        KEYS="ecdsa rsa2048", SCENARIOS="hs ka", SERVER_CPU=0, CLIENT_CPU=1,
#        HS_CONNS=64, KA_CONNS=100, NODE=node, NGINX=nginx, WRK=wrk.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
build=${1:-$root/build-bench}
case $build in /*) ;; *) build=$PWD/$build ;; esac
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
ROUNDS=${ROUNDS:-3}
SERVERS=${SERVERS:-"wire nginx node"}
KEYS=${KEYS:-"ecdsa rsa2048"}
SCENARIOS=${SCENARIOS:-"hs ka"}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
HS_CONNS=${HS_CONNS:-64}
KA_CONNS=${KA_CONNS:-100}
NODE=${NODE:-node}
NGINX=${NGINX:-nginx}
WRK=${WRK:-wrk}
hz=$(getconf CLK_TCK)
WIRE=${WIRE:-$build/wire}
[ -x "$WIRE" ] || WIRE=$root/build/wire

[ -f "$build/libwire.a" ] || { echo "no $build/libwire.a: build first" >&2; exit 1; }
ulimit -n 30000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

tmp=$(mktemp -d)
chmod 755 "$tmp"
tpid=
cleanup() {
  if [ -n "$tpid" ]; then kill "$tpid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck disable=SC2046 # the flags are meant to split into words
cc -O2 -I"$root/include" "$root/bench/tls_wire.c" "$build/libwire.a" \
  $(pkg-config --libs libuv libssl libcrypto zlib) -lpthread -o "$tmp/tls_wire"

for k in $KEYS; do
  mkdir -p "$tmp/$k"
  case $k in
    ecdsa) bits=() ;;
    rsa*) bits=(--rsa "${k#rsa}") ;;
  esac
  "$WIRE" cert ca "${bits[@]}" --out "$tmp/$k/ca" >/dev/null
  "$WIRE" cert server "${bits[@]}" --ca "$tmp/$k/ca" --san 127.0.0.1 \
    --san localhost --out "$tmp/$k/server" >/dev/null
  chmod 644 "$tmp/$k/server.key" # nginx's worker may run as another user
done


# start_server NAME KEY: on SERVER_CPU; sets tpid, spid, port.
start_server() {
  local name=$1 k=$2 d=$tmp/run
  local cert=$tmp/$k/server.crt key=$tmp/$k/server.key
  rm -rf "$d"
  mkdir -p "$d"
  chmod 755 "$d"
  : >"$d/out"
  port=
  case $name in
    wire)
      timeout 600 taskset -c "$SERVER_CPU" "$tmp/tls_wire" 0 "$cert" "$key" \
        --no-resume >>"$d/out" 2>&1 & ;;
    node)
      timeout 600 taskset -c "$SERVER_CPU" "$NODE" "$root/bench/tls_node.js" \
        0 "$cert" "$key" >>"$d/out" 2>&1 & ;;
    nginx)
      port=$(free_port)
      sed -e "s|@DIR@|$d|g" -e "s|@PORT@|$port|g" -e "s|@CERT@|$cert|g" \
        -e "s|@KEY@|$key|g" "$root/bench/tls_nginx.conf.in" >"$d/nginx.conf"
      timeout 600 taskset -c "$SERVER_CPU" "$NGINX" -c "$d/nginx.conf" \
        -p "$d" -g 'daemon off;' >>"$d/out" 2>&1 & ;;
  esac
  tpid=$!
  local body=
  for _ in $(seq 100); do
    if [ -z "$port" ]; then
      port=$(sed -n 's/^listening on https:\/\/.*:\([0-9]*\)\/$/\1/p' "$d/out")
    fi
    if [ -n "$port" ]; then
      body=$(curl -s --max-time 1 --cacert "$tmp/$k/ca.crt" \
        "https://127.0.0.1:$port/" || true)
      [ "$body" = "Hello, World" ] && break
    fi
    sleep 0.1
  done
  [ "$body" = "Hello, World" ] || { echo "$name did not start:" >&2; cat "$d/out" >&2; exit 1; }
  spid=$(pgrep -P "$tpid")
}

stop_server() {
  kill "$tpid" 2>/dev/null || true
  wait "$tpid" 2>/dev/null || true
  tpid=
}


# run ROUND NAME KEY SCENARIO: appends
#   round server key scenario rate requests server-cpu-s errors load
run() {
  local round=$1 name=$2 k=$3 sc=$4 f=$tmp/wrk.out url="https://127.0.0.1:$port/"
  local args
  case $sc in
    hs) args=(-c "$HS_CONNS" -H 'Connection: close') ;;
    ka) args=(-c "$KA_CONNS") ;;
  esac
  taskset -c "$CLIENT_CPU" "$WRK" -t 1 "${args[@]}" -d "${WARMUP}s" "$url" >/dev/null
  local before after
  before=$(cpu_ticks "$spid")
  taskset -c "$CLIENT_CPU" "$WRK" -t 1 "${args[@]}" -d "${DURATION}s" "$url" >"$f"
  after=$(cpu_ticks "$spid")
  awk -v r="$round" -v n="$name" -v k="$k" -v s="$sc" -v t=$((after - before)) \
      -v hz="$hz" -v load="$(cut -d' ' -f1 /proc/loadavg)" '
    / requests in / {reqs = $1}
    /^Requests\/sec:/ {rate = $2}
    /Socket errors:/ {gsub(/[^0-9 ]/, " "); err += $1 + $2 + $3 + $4}
    /Non-2xx/ {err += $NF}
    END {print r, n, k, s, rate, reqs, t / hz, err + 0, load}' "$f" >>"$tmp/raw"
}

echo "# tls: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
     "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg); server on CPU" \
     "$SERVER_CPU, wrk (1 thread) on CPU $CLIENT_CPU; $ROUNDS rounds," \
     "servers interleaved; ${DURATION}s per run after ${WARMUP}s warm-up;" \
     "hs: $HS_CONNS connections with Connection: close; ka: $KA_CONNS connections"
echo "# $($NGINX -v 2>&1), node $($NODE --version 2>/dev/null || echo absent)," \
     "$(openssl version | cut -d' ' -f1-2)"

: >"$tmp/raw"
for round in $(seq "$ROUNDS"); do
  for k in $KEYS; do
    for name in $SERVERS; do
      start_server "$name" "$k"
      for sc in $SCENARIOS; do
        run "$round" "$name" "$k" "$sc"
      done
      if [ "$name" = wire ]; then
        stats=$(curl -s --cacert "$tmp/$k/ca.crt" "https://127.0.0.1:$port/stats")
        echo "# wire $k round $round: $stats"
      fi
      stop_server
    done
  done
done

echo
echo "## runs: round server key scenario rate/s requests server-cpu-s errors load"
cat "$tmp/raw"
echo
echo "## medians (rate/s, per server CPU-second) and ratios"
python3 - "$tmp/raw" <<'PY'
import statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    r, n, k, s, rate, reqs, cpu, err, load = line.split()
    per = float(reqs) / float(cpu) if float(cpu) > 0 else 0.0
    runs[(n, k, s)].append((float(rate), per))
med = {key: (statistics.median(a for a, _ in v), statistics.median(b for _, b in v))
       for key, v in runs.items()}
servers = sorted({n for n, _, _ in med}, key=["wire", "nginx", "node"].index)
for k in sorted({k for _, k, _ in med}):
    for s in sorted({s for _, _, s in med}, reverse=True):
        line = f"{k:8} {s:3}"
        for n in servers:
            if (n, k, s) in med:
                rate, per = med[(n, k, s)]
                line += f"  {n} {rate:9.0f}/s {per:9.0f}/cpu-s"
        w = med.get(("wire", k, s))
        for o in ("nginx", "node"):
            if w and (o, k, s) in med and med[(o, k, s)][1] > 0:
                line += f"  wire/{o} {w[1] / med[(o, k, s)][1]:.2f}x"
        print(line)
PY
for key in $KEYS; do
  for sc in $SCENARIOS; do
    for peer in nginx node; do
      awk -v p="$peer" -v s="$sc" -v k="$key" -v fr=1 -v fn=2 -v fk=3 -v fs=4 \
        -v fc=6 -v label="$key $sc req/cpu-s" -f "$root/bench/paired.awk" \
        "$tmp/raw"
    done
  done
done
