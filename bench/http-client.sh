#!/usr/bin/env bash
# HTTP client benchmark: wire's client with its agent
# (bench/http_client_wire.c) vs node's http client with a keep-alive agent
# (bench/http_client_node.js) vs wrk (one thread: the ceiling for a
# client), all against the same nginx (bench/nginx.conf.in: 1 worker,
# access log off, "return 200" with the 13-byte body "Hello, World\n").
# nginx runs pinned to SERVER_CPU and every client to CLIENT_CPU. Each
# client keeps C connections busy: a request goes out as soon as the
# previous response on that connection ended. For C in CONNS, each client
# runs WARMUP s then DURATION s measured; the figure that matters is
# requests per client CPU-second (utime+stime from /proc/PID/stat: the
# wire and node clients read their own at the start and end of the
# measured window; wrk, which cannot, runs a separate warm-up and its
# measured run is timed by bash's `time`, the same counters from wait4).
# The clients take turns for ROUNDS rounds (the machine is shared); it
# prints every run, the medians and the ratios wire/wrk and wire/node.
# Run by hand; never part of the tests.
#
# Usage: bench/http-client.sh [BUILD_DIR]   (default: build-bench; only
#        its libwire.a is used: the wire client is compiled here with cc)
# Knobs (environment): DURATION=5, WARMUP=1, CONNS="50 10", ROUNDS=3,
# CLIENTS="wire node wrk", SERVER_CPU=0, CLIENT_CPU=1, NODE=node,
# NGINX=nginx, WRK=wrk.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
build=${1:-$root/build-bench}
case $build in /*) ;; *) build=$PWD/$build ;; esac
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONNS=${CONNS:-"50 10"}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-"wire node wrk"}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
NODE=${NODE:-node}
NGINX=${NGINX:-nginx}
WRK=${WRK:-wrk}
hz=$(getconf CLK_TCK)

[ -f "$build/libwire.a" ] || { echo "no $build/libwire.a: build first" >&2; exit 1; }

tmp=$(mktemp -d)
tpid=
cleanup() {
  if [ -n "$tpid" ]; then kill "$tpid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck disable=SC2046 # the flags are meant to split into words
cc -O2 -I"$root/include" "$root/bench/http_client_wire.c" "$build/libwire.a" \
  $(pkg-config --libs libuv openssl) -o "$tmp/http_client_wire"

port=$(free_port)
mkdir -p "$tmp/nginx"
sed -e "s|@DIR@|$tmp/nginx|g" -e "s|@PORT@|$port|g" -e "s|@KEEPALIVE@|75|g" \
  "$root/bench/nginx.conf.in" >"$tmp/nginx/nginx.conf"
timeout 3600 taskset -c "$SERVER_CPU" "$NGINX" -c "$tmp/nginx/nginx.conf" \
  -p "$tmp/nginx" -g 'daemon off;' >"$tmp/nginx/out" 2>&1 &
tpid=$!
url="http://127.0.0.1:$port/"
body=
for _ in $(seq 100); do
  body=$(curl -s --max-time 1 "$url" || true)
  [ "$body" = "Hello, World" ] && break
  sleep 0.1
done
[ "$body" = "Hello, World" ] || { echo "nginx did not start:" >&2; cat "$tmp/nginx/out" >&2; exit 1; }
npid=$(pgrep -P "$tpid")

# run ROUND CLIENT C: appends
#   round client conns req/s requests seconds client-cpu-s errors srv-% load
# to $tmp/raw.
run() {
  local round=$1 name=$2 c=$3 f=$tmp/out line s0 s1
  s0=$(cpu_ticks "$npid")
  case $name in
    wire)
      taskset -c "$CLIENT_CPU" "$tmp/http_client_wire" "$port" "$c" \
        "$DURATION" "$WARMUP" >"$f"
      line=$(cat "$f") ;;
    node)
      taskset -c "$CLIENT_CPU" "$NODE" "$root/bench/http_client_node.js" \
        "$port" "$c" "$DURATION" "$WARMUP" >"$f"
      line=$(cat "$f") ;;
    wrk)
      taskset -c "$CLIENT_CPU" "$WRK" -t 1 -c "$c" -d "${WARMUP}s" "$url" >/dev/null
      s0=$(cpu_ticks "$npid")
      local TIMEFORMAT='%3U %3S'
      { time taskset -c "$CLIENT_CPU" "$WRK" -t 1 -c "$c" -d "${DURATION}s" \
          "$url" >"$f"; } 2>"$tmp/time"
      line=$(awk -v t="$(cat "$tmp/time")" '
        / requests in / {n = $1; s = $4; sub(/s,?$/, "", s)}
        /Socket errors:/ {gsub(/[^0-9 ]/, " "); e += $1 + $2 + $3 + $4}
        /Non-2xx/ {e += $NF}
        END {split(t, u, " "); print "requests", n, "seconds", s, "cpu",
             u[1] + u[2], "errors", e + 0}' "$f") ;;
  esac
  s1=$(cpu_ticks "$npid")
  # The wire and node runs include the warm-up in the server's ticks:
  # srv-% is over the whole run for them.
  local wall=$DURATION
  [ "$name" = wrk ] || wall=$(awk -v a="$DURATION" -v b="$WARMUP" 'BEGIN {print a + b}')
  echo "$line" | awk -v r="$round" -v n="$name" -v c="$c" \
      -v srv=$((s1 - s0)) -v hz="$hz" -v wall="$wall" \
      -v load="$(cut -d' ' -f1 /proc/loadavg)" '
    {print r, n, c, ($4 > 0 ? $2 / $4 : 0), $2, $4, $6, $8,
           100 * srv / hz / wall, load}' >>"$tmp/raw"
}

echo "# http-client: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
     "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg); nginx on CPU" \
     "$SERVER_CPU, clients on CPU $CLIENT_CPU; $ROUNDS rounds, clients" \
     "interleaved; ${DURATION}s measured after ${WARMUP}s of warm-up"
echo "# $($NGINX -v 2>&1), node $($NODE --version 2>/dev/null || echo absent)," \
     "$($WRK -v 2>&1 | head -1 | cut -d' ' -f1-2)"

: >"$tmp/raw"
for round in $(seq "$ROUNDS"); do
  for c in $CONNS; do
    for name in $CLIENTS; do
      run "$round" "$name" "$c"
    done
  done
done

echo
echo "## every run (req/cpu-s = requests / client CPU seconds)"
printf '%-5s %-6s %5s %9s %9s %8s %8s %6s %11s %5s\n' round client conns \
  req/s requests cli-cpu cli-% errors req/cpu-s srv-%
awk '{
  per = $7 > 0 ? $5 / $7 : 0
  printf "%-5s %-6s %5s %9.0f %9d %8.2f %8.0f %6d %11.0f %5.0f  load %s\n",
         $1, $2, $3, $4, $5, $7, ($6 > 0 ? 100 * $7 / $6 : 0), $8, per, $9, $10
}' "$tmp/raw"

for c in $CONNS; do
  echo
  echo "## $c connections: median of $ROUNDS rounds"
  printf '%-6s %9s %6s %11s\n' client req/s cli-% req/cpu-s
  : >"$tmp/med.$c"
  for name in $CLIENTS; do
    sel() { awk -v n="$name" -v c="$c" '$2 == n && $3 == c' "$tmp/raw"; }
    rate=$(sel | awk '{print $4}' | median)
    util=$(sel | awk '{print ($6 > 0 ? 100 * $7 / $6 : 0)}' | median)
    per=$(sel | awk '{print ($7 > 0 ? $5 / $7 : 0)}' | median)
    printf '%-6s %9.0f %6.0f %11.0f\n' "$name" "$rate" "$util" "$per"
    echo "$name $rate $per" >>"$tmp/med.$c"
  done
  for peer in wrk node; do
    awk -v p="$peer" '
      {rate[$1] = $2; per[$1] = $3}
      END {
        if (!("wire" in rate) || !(p in rate) || rate[p] == 0 || per[p] == 0)
          exit
        printf "wire/%-4s req/s %.2fx   req/cpu-s %.2fx\n", p,
               rate["wire"] / rate[p], per["wire"] / per[p]
      }' "$tmp/med.$c"
  done
done
echo
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
