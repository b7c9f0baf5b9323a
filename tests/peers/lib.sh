# Shared helpers for peer tests. Each test sources this, starts what it
# needs on port 0, reads the real port from the "listening on" line, and
# fails loudly: every check is a real comparison.
# No pipefail, on purpose: checks read what a pipeline printed
# (`echo "$out" | grep -q ...`, `... | head -n 1`), and a reader that stops
# early (grep -q at its first match, head) kills the writer with SIGPIPE
# whenever the writer is slower, which pipefail turned into a failure that
# came and went with the machine's load. A producer that fails still fails
# the test: what it printed is what gets checked.
set -eu
: "${WIRE_BUILD:?set by ctest}"
: "${WIRE_SRC:?set by ctest}"
EX="$WIRE_BUILD/examples"
WIRE="$WIRE_BUILD/wire"
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  local rc=$?
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  # A sanitizer report from a program started in the background (ASan
  # build) lands in its .err file: it fails the test.
  if grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error' "$TMP"/*.err \
      >/dev/null 2>&1; then
    grep -h -A20 -E 'ERROR: (Address|Leak)Sanitizer|runtime error' "$TMP"/*.err >&2
    echo "FAIL: sanitizer report from a background program" >&2
    rc=1
  fi
  # A program killed a moment ago may still be writing into TMP: retry,
  # and never let the removal itself fail a test.
  rm -rf "$TMP" 2>/dev/null || { sleep 1; rm -rf "$TMP" 2>/dev/null || true; }
  exit $rc
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# wait_listening FILE: waits (up to 10 s) for a "listening on" line in
# FILE and sets PORT to the port at its end. Returns 1 on timeout.
wait_listening() {
  local i
  for i in $(seq 1 200); do
    if grep -q 'listening on' "$1" 2>/dev/null; then
      PORT=$(grep -m1 'listening on' "$1" | sed -E 's/.*:([0-9]+)\/?$/\1/')
      return 0
    fi
    sleep 0.05
  done
  return 1
}

# start NAME CMD...: runs CMD in the background with stdout/stderr in
# $TMP/NAME.out and .err, and waits (up to 10 s) for its "listening on"
# line; sets PORT to the port in it.
start() {
  local name=$1
  shift
  "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PIDS+=($!)
  if ! wait_listening "$TMP/$name.out"; then
    cat "$TMP/$name.err" >&2 || true
    fail "$name did not print 'listening on'"
  fi
}

# wait_exit PID WHAT [SECONDS]: waits (up to SECONDS, default 20) for the
# background child PID to exit and sets RC to its exit status; fails if it
# is still running.
wait_exit() {
  local i
  for i in $(seq 1 $((${3:-20} * 20))); do
    # An exited child stays a zombie (state Z) until it is waited for.
    if ! kill -0 "$1" 2>/dev/null ||
      [[ $(ps -o stat= -p "$1" 2>/dev/null) == Z* ]]; then
      RC=0
      wait "$1" || RC=$?
      return 0
    fi
    sleep 0.05
  done
  fail "$2 did not exit"
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
  if [ "$2" != "$3" ]; then
    printf 'FAIL: %s\n  expected: %q\n  actual:   %q\n' "$1" "$2" "$3" >&2
    exit 1
  fi
  echo "ok: $1"
}

# wait_for FILE PATTERN: up to 10 s for PATTERN to appear in FILE.
wait_for() {
  local i
  for i in $(seq 1 200); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  fail "timed out waiting for '$2' in $1"
}
