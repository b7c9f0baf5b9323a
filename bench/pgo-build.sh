#!/usr/bin/env bash
# A profile-guided Release build of libwire (GCC): build it instrumented
# (WIRE_PGO=generate), run the training load below against the bench
# servers built on it, then build it again in the same directory with
# that profile (WIRE_PGO=use). GCC then lays out and allocates registers
# for the paths the training ran. The result is a normal build directory
# with libwire.a for the bench scripts: bench/http.sh BUILD_DIR.
#
# The training: bench/http_wire.c under wrk (curl's request pipelined 8
# deep, a browser's request on keep-alive connections, and a new
# connection per request), and bench/ws_wire.c under bench/ws_load.c (1
# and 16 messages in flight). Bounded: about 12 s of load. None of it is
# bench/http.sh's request (wrk's, with Host only) or depth: the figures
# there are not of a build trained on themselves.
#
# Usage: bench/pgo-build.sh [BUILD_DIR]   (default build-pgo)
# Knobs: JOBS=2, SECONDS_SCALE=1 (multiplies each load's seconds),
#        SERVER_CPU=0, CLIENT_CPU=1, WRK=wrk.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
build=${1:-$root/build-pgo}
case $build in /*) ;; *) build=$PWD/$build ;; esac
JOBS=${JOBS:-2}
SECONDS_SCALE=${SECONDS_SCALE:-1}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
WRK=${WRK:-wrk}
profile=$build/pgo

configure() {
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DWIRE_BUILD_TESTS=OFF -DWIRE_BUILD_EXAMPLES=OFF -DWIRE_WERROR=ON \
    -DWIRE_PGO="$1" -DWIRE_PGO_DIR="$profile" >/dev/null
  cmake --build "$build" -j"$JOBS" --clean-first >/dev/null
}

echo "# pgo-build: instrumented build in $build"
configure generate
rm -rf "$profile"

tmp=$(mktemp -d)
spid=
cleanup() {
  if [ -n "$spid" ]; then kill "$spid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# The servers: the bench programs on the instrumented library, with
# bench/pgo_dump.c so that SIGTERM writes the profile.
for name in http_wire ws_wire; do
  # shellcheck disable=SC2046 # the flags are meant to split into words
  cc -O2 -I"$root/include" "$root/bench/$name.c" "$root/bench/pgo_dump.c" \
    "$build/libwire.a" -fprofile-generate="$tmp/unused" \
    $(pkg-config --libs libuv openssl zlib) -o "$tmp/$name"
done
cc -O2 "$root/bench/ws_load.c" -o "$tmp/ws_load"

secs() { awk -v s="$1" -v k="$SECONDS_SCALE" 'BEGIN {printf "%d", s * k + 0.5}'; }

# start NAME: runs a server, sets spid and port.
start() {
  taskset -c "$SERVER_CPU" "$tmp/$1" 0 >"$tmp/srv.out" 2>&1 &
  spid=$!
  port=$(listen_port "$tmp/srv.out")
  [ -n "$port" ] || { echo "no server: $(cat "$tmp/srv.out")" >&2; exit 1; }
}

# stop: SIGTERM, which writes the profile, then waits for the exit.
stop() {
  kill -TERM "$spid"
  wait "$spid" || { echo "server exit $?" >&2; exit 1; }
  spid=
}

wrk_run() {
  taskset -c "$CLIENT_CPU" "$WRK" -t1 "$@" >"$tmp/wrk.out"
  grep -q 'requests in' "$tmp/wrk.out" ||
    { echo "wrk failed: $(cat "$tmp/wrk.out")" >&2; exit 1; }
}

echo "# pgo-build: training"
start http_wire
url=http://127.0.0.1:$port/
wrk_run -c100 -d"$(secs 2)" -s "$root/bench/http_pipeline.lua" "$url" \
  -H 'User-Agent: curl/7.88.1' -H 'Accept: */*' -- 8
wrk_run -c50 -d"$(secs 3)" "$url" \
  -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36' \
  -H 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' \
  -H 'Accept-Language: en-US,en;q=0.9' \
  -H 'Accept-Encoding: gzip, deflate, br' \
  -H 'Cache-Control: max-age=0' \
  -H 'Cookie: session=0123456789abcdef; theme=dark' \
  -H 'Upgrade-Insecure-Requests: 1' \
  -H 'Sec-Fetch-Mode: navigate'
wrk_run -c10 -d"$(secs 1)" -H 'Connection: close' "$url"
stop

start ws_wire
for m in 16 1; do
  taskset -c "$CLIENT_CPU" "$tmp/ws_load" -p "$port" -c 100 -m "$m" \
    -d "$(secs 2)" >"$tmp/ws.out"
  grep -q '^messages [1-9]' "$tmp/ws.out" ||
    { echo "ws_load failed: $(cat "$tmp/ws.out")" >&2; exit 1; }
done
stop

n=$(find "$profile" -name '*.gcda' | wc -l)
[ "$n" -gt 0 ] || { echo "no profile in $profile" >&2; exit 1; }
echo "# pgo-build: $n profiles; optimized build in $build"
configure use

# The optimized library at work: one request through curl.
# shellcheck disable=SC2046 # the flags are meant to split into words
cc -O2 -I"$root/include" "$root/bench/http_wire.c" "$build/libwire.a" \
  $(pkg-config --libs libuv openssl zlib) -o "$tmp/http_wire_pgo"
start http_wire_pgo
body=$(curl -s --max-time 5 "http://127.0.0.1:$port/")
kill "$spid"
wait "$spid" 2>/dev/null || true
spid=
[ "$body" = "Hello, World" ] ||
  { echo "pgo-build: the optimized server answered '$body'" >&2; exit 1; }
echo "# pgo-build: done: $build/libwire.a"
