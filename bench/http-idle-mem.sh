#!/usr/bin/env bash
# Memory per idle keep-alive HTTP connection: CONNS connections (default
# 10,000) each make one request, get the response and then stay open, idle
# (bench/http_idle_client.c); the server's VmRSS (/proc/PID/status, summed
# over the server and its children: nginx's worker) is read before and
# after, and the growth divided by CONNS. Servers: wire (bench/http_wire.c),
# nginx (1 worker), h2o (1 thread), node's http, each with its keep-alive
# timeout raised to HOLD seconds so no connection is dropped during the
# measurement (the number of open descriptors is checked). The baseline is
# taken after one request, so lazily built first-request state (node's
# JIT, wire's pools) is not counted per connection. Run by hand; never part
# of the tests.
#
# Usage: bench/http-idle-mem.sh [BUILD_DIR]     (default: build-bench;
#        only its libwire.a is used)
# Knobs (environment): CONNS=10000, SERVERS="wire nginx h2o node",
# HOLD=600 (s), SETTLE=1 (s before each reading), NODE=node, NGINX=nginx,
# H2O=h2o.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
build=${1:-$root/build-bench}
case $build in /*) ;; *) build=$PWD/$build ;; esac
CONNS=${CONNS:-10000}
SERVERS=${SERVERS:-"wire nginx h2o node"}
HOLD=${HOLD:-600}
SETTLE=${SETTLE:-1}
NODE=${NODE:-node}
NGINX=${NGINX:-nginx}
H2O=${H2O:-h2o}

[ -f "$build/libwire.a" ] || { echo "no $build/libwire.a: build first" >&2; exit 1; }
ulimit -n 30000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((CONNS + 100)) ]; then
  echo "ulimit -n is $(ulimit -n): too low for $CONNS connections" >&2
  exit 1
fi

tmp=$(mktemp -d)
chmod 755 "$tmp" # h2o started as root reads its files as @USER@
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
cc -O2 -I"$root/include" "$root/bench/http_wire.c" "$build/libwire.a" \
  $(pkg-config --libs libuv) -o "$tmp/http_wire"
cc -O2 "$root/bench/http_idle_client.c" -o "$tmp/http_idle_client"


conf() {
  sed -e "s|@DIR@|$3|g" -e "s|@PORT@|$4|g" -e "s|@KEEPALIVE@|$5|g" \
      -e "s|@USER@|$(id -un)|g" "$1" >"$2"
}

# Starts server $1 on CPU 0; sets tpid, spid and port.
start_server() {
  local name=$1 d=$tmp/$1
  rm -rf "$d"
  mkdir -p "$d/www"
  chmod 755 "$d" "$d/www"
  : >"$d/out"
  port=
  case $name in
    wire)
      timeout $((HOLD + 60)) taskset -c 0 "$tmp/http_wire" 0 $((HOLD * 1000)) \
        >>"$d/out" 2>&1 & ;;
    node)
      timeout $((HOLD + 60)) taskset -c 0 "$NODE" "$root/bench/http_node.js" 0 \
        $((HOLD * 1000)) >>"$d/out" 2>&1 & ;;
    nginx)
      port=$(free_port)
      conf "$root/bench/nginx.conf.in" "$d/nginx.conf" "$d" "$port" "$HOLD"
      timeout $((HOLD + 60)) taskset -c 0 "$NGINX" -c "$d/nginx.conf" -p "$d" \
        -g 'daemon off;' >>"$d/out" 2>&1 & ;;
    h2o)
      port=$(free_port)
      printf 'Hello, World\n' >"$d/www/index.txt"
      chmod 644 "$d/www/index.txt"
      conf "$root/bench/h2o.conf.in" "$d/h2o.conf" "$d" "$port" "$HOLD"
      timeout $((HOLD + 60)) taskset -c 0 "$H2O" -c "$d/h2o.conf" \
        >>"$d/out" 2>&1 & ;;
  esac
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
}

stop_server() {
  kill "$tpid" 2>/dev/null || true
  wait "$tpid" 2>/dev/null || true
  tpid=
}

# shellcheck disable=SC2046 # one pid per word
tree() { echo "$1" $(pgrep -P "$1" || true); }
rss_kib() {
  local p t=0
  for p in $(tree "$1"); do
    t=$((t + $(awk '$1 == "VmRSS:" {print $2}' "/proc/$p/status")))
  done
  echo "$t"
}
nfds() {
  local p t=0
  for p in $(tree "$1"); do
    t=$((t + $(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 | wc -l)))
  done
  echo "$t"
}

echo "# http-idle-mem: $(date -u '+%Y-%m-%d %H:%M UTC'), $CONNS idle" \
     "keep-alive connections (one request each), keep-alive timeout ${HOLD}s;" \
     "load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %10s %10s %8s %12s\n' server before-KiB after-KiB fds+ KiB/conn
: >"$tmp/res"
for name in $SERVERS; do
  start_server "$name"
  sleep "$SETTLE"
  fds0=$(nfds "$spid")
  before=$(rss_kib "$spid")
  : >"$tmp/cli.out"
  taskset -c 1 "$tmp/http_idle_client" -p "$port" -n "$CONNS" -t "$HOLD" \
    >"$tmp/cli.out" 2>&1 &
  cpid=$!
  for _ in $(seq 1200); do
    grep -q '^ready' "$tmp/cli.out" && break
    kill -0 "$cpid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q '^ready' "$tmp/cli.out" || { echo "$name: client failed:" >&2; cat "$tmp/cli.out" >&2; exit 1; }
  sleep "$SETTLE"
  after=$(rss_kib "$spid")
  fds1=$(nfds "$spid")
  kill "$cpid" 2>/dev/null || true
  wait "$cpid" 2>/dev/null || true
  cpid=
  stop_server
  awk -v n="$name" -v b="$before" -v a="$after" -v f=$((fds1 - fds0)) \
      -v c="$CONNS" 'BEGIN {
    printf "%-6s %10d %10d %8d %12.2f\n", n, b, a, f, (a - b) / c
  }' | tee -a "$tmp/res"
done
if grep -q '^wire ' "$tmp/res"; then
  for peer in nginx h2o node; do
    awk -v p="$peer" '{v[$1] = $5} END {
      if ((p in v) && v[p] > 0) printf "wire/%-5s %.2fx\n", p, v["wire"] / v[p]
    }' "$tmp/res"
  done
fi
