#!/usr/bin/env bash
# Memory per idle TCP connection: opens N connections (default 10,000) to
# each echo server (wire, the minimal epoll one, Node's net) and reports
# the growth of the server's VmRSS (/proc/PID/status) divided by N. Two
# cases per server: connections that were never used, and connections that
# each echoed one 16-byte message first (as an idle keep-alive connection
# has). Run by hand; never part of the tests.
#
# Usage: bench/idle-mem.sh [BUILD_DIR]     (default: build-bench)
# Knobs (environment): CONNS=10000, SERVERS="epoll wire node", NODE=node,
# SETTLE=1 (seconds to wait before each VmRSS reading).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-bench}
case $build in /*) ;; *) build=$PWD/$build ;; esac
bin=$build/bench
CONNS=${CONNS:-10000}
SERVERS=${SERVERS:-"epoll wire node"}
NODE=${NODE:-node}
SETTLE=${SETTLE:-1}

for b in wire_echo epoll_echo idle_client; do
  [ -x "$bin/$b" ] || { echo "missing $bin/$b: build with -DWIRE_BUILD_BENCH=ON" >&2; exit 1; }
done

# Both the server and the client hold CONNS descriptors. Ask for 30000;
# without CAP_SYS_RESOURCE the hard limit is as far as we may go.
ulimit -n 30000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((CONNS + 100)) ]; then
  echo "ulimit -n is $(ulimit -n): too low for $CONNS connections" >&2
  exit 1
fi

tmp=$(mktemp -d)
tpid=
cpid=
cleanup() {
  if [ -n "$cpid" ]; then kill "$cpid" 2>/dev/null || true; fi
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

rss_kib() { awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status"; }
nfds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# measure NAME MODE: prints "NAME MODE before_kib after_kib"
measure() {
  local name=$1 mode=$2 flag=
  [ "$mode" = used ] && flag=-x
  # Truncated here, not by the child's redirection, so that a stale port
  # from the previous case can never be read.
  : >"$tmp/srv.out"
  : >"$tmp/cli.out"
  # shellcheck disable=SC2046 # the command is meant to split into words
  timeout 300 taskset -c 0 $(server_cmd "$name") >>"$tmp/srv.out" 2>&1 &
  tpid=$!
  local port='' spid
  for _ in $(seq 100); do
    port=$(sed -n 's/^listening on tcp:\/\/.*:\([0-9]*\)$/\1/p' "$tmp/srv.out")
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "$name did not start:" >&2; cat "$tmp/srv.out" >&2; exit 1; }
  spid=$(pgrep -P "$tpid")
  sleep "$SETTLE"
  local base_fds before after
  base_fds=$(nfds "$spid")
  before=$(rss_kib "$spid")
  timeout 300 taskset -c 1 "$bin/idle_client" -p "$port" -n "$CONNS" $flag \
    -t 120 >>"$tmp/cli.out" 2>&1 &
  cpid=$!
  for _ in $(seq 600); do
    grep -q '^connected' "$tmp/cli.out" && [ "$(nfds "$spid")" -ge $((base_fds + CONNS)) ] && break
    kill -0 "$cpid" 2>/dev/null || { echo "idle_client failed:" >&2; cat "$tmp/cli.out" >&2; exit 1; }
    sleep 0.1
  done
  if [ "$(nfds "$spid")" -lt $((base_fds + CONNS)) ]; then
    echo "$name accepted only $(( $(nfds "$spid") - base_fds )) connections" >&2
    exit 1
  fi
  sleep "$SETTLE"
  after=$(rss_kib "$spid")
  echo "$name $mode $before $after"
  # The server goes first, so the TIME_WAIT entries are on its (throwaway)
  # port and the client's ports are free for the next round.
  kill "$tpid"; wait "$tpid" 2>/dev/null || true; tpid=
  kill "$cpid"; wait "$cpid" 2>/dev/null || true; cpid=
}

echo "# idle-mem: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
     "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "# $CONNS connections per case; load before: $(cut -d' ' -f1-3 /proc/loadavg);" \
     "node $($NODE --version 2>/dev/null || echo absent)"
for name in $SERVERS; do
  for mode in fresh used; do
    measure "$name" "$mode" >>"$tmp/res"
  done
done
echo
printf '%-6s %-6s %12s %12s %16s\n' server case rss-before rss-after bytes/conn
awk -v n="$CONNS" '
  { per = ($4 - $3) * 1024 / n
    printf "%-6s %-6s %9d KiB %9d KiB %16.0f\n", $1, $2, $3, $4, per
    v[$1 " " $2] = per }
  END {
    for (m = 0; m < 2; m++) {
      mode = m == 0 ? "fresh" : "used"
      w = v["wire " mode]
      if (("node " mode) in v && v["node " mode] > 0)
        printf "wire/node (%s): %.2fx\n", mode, w / v["node " mode]
    }
  }' "$tmp/res"
echo "# (fresh: connected, no byte exchanged; used: one 16-byte echo first)"
