# shellcheck shell=bash
# Helpers the bench scripts share; sourced, never run.

# A TCP port free on 127.0.0.1 right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The host's steal so far, in ticks summed over all CPUs (/proc/stat).
steal_ticks() {
  awk '/^cpu / {print $9; exit}' /proc/stat
}

# CPU ticks (utime + stime) of process $1 and its children (nginx's
# worker, h2o's): 0 for one that is gone.
cpu_ticks() {
  local p t=0
  for p in $1 $(pgrep -P "$1" || true); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}

# The median of the numbers on stdin, one per line.
median() { sort -g | awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# For the callgrind scripts: a temporary directory in tmp, removed at exit
# after the run callgrind_start began (if any) is stopped.
# shellcheck disable=SC2034 # tmp, vpid: the caller's
callgrind_tmp() {
  tmp=$(mktemp -d)
  vpid=
  trap 'if [ -n "$vpid" ]; then kill "$vpid" 2>/dev/null || true; fi
        wait 2>/dev/null || true
        rm -rf "$tmp"' EXIT
}

# Builds bench/NAME.c against $build/libwire.a, with -g, into $tmp/NAME.
# shellcheck disable=SC2154 # root, build, tmp: the caller's
wire_bench_cc() {
  # shellcheck disable=SC2046 # the flags are meant to split into words
  cc -O2 -g -I"$root/include" "$root/bench/$1.c" "$build/libwire.a" \
    $(pkg-config --libs libuv openssl zlib) -o "$tmp/$1"
}

# The port of the "listening on SCHEME://HOST:PORT" line (a "/" may
# follow) a server writes to file $1, waiting for it: up to $2 tries
# (default 100), $3 seconds apart (default 0.05). Empty if none came.
listen_port() {
  local p="" i
  for ((i = 0; i < ${2:-100}; i++)); do
    p=$(sed -n 's/^listening on [a-z]*:\/\/.*:\([0-9]*\)\/\{0,1\}$/\1/p' "$1")
    [ -n "$p" ] && break
    sleep "${3:-0.05}"
  done
  echo "$p"
}

# Starts "$@" (a server that prints "listening on http://HOST:PORT/") under
# callgrind, pinned to $SERVER_CPU, its dump going to $OUT and its output
# to $tmp/srv.out. Sets port, vpid (the timeout wrapper: kill it to end the
# run and get the dump) and gpid (valgrind itself, for callgrind_control).
# shellcheck disable=SC2034,SC2154 # port, gpid: the caller's; tmp: set by it
callgrind_start() {
  rm -f "$OUT"
  timeout 600 taskset -c "$SERVER_CPU" valgrind --tool=callgrind \
    --callgrind-out-file="$OUT" "$@" >"$tmp/srv.out" 2>&1 &
  vpid=$!
  port=$(listen_port "$tmp/srv.out" 300 0.1)
  [ -n "$port" ] || { echo "server did not start" >&2; cat "$tmp/srv.out" >&2; exit 1; }
  gpid=$(pgrep -P "$vpid" || true)
  [ -n "$gpid" ] || { echo "valgrind not found under $vpid" >&2; exit 1; }
}

# Ends the run callgrind_start began (in this shell: it waits for the dump)
# and sets ir to the dump's instruction total.
# shellcheck disable=SC2034 # ir: the caller's
callgrind_total() {
  kill "$vpid" 2>/dev/null || true
  wait "$vpid" 2>/dev/null || true
  vpid=
  ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$OUT" | head -1)
  [ -n "$ir" ] || ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$OUT" | head -1)
}
