# Shared helpers for peer tests. Each test sources this, starts what it
# needs on port 0, reads the real port from the "listening on" line, and
# fails loudly: every check is a real comparison.
set -euo pipefail
: "${WIRE_BUILD:?set by ctest}"
: "${WIRE_SRC:?set by ctest}"
EX="$WIRE_BUILD/examples"
WIRE="$WIRE_BUILD/wire"
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# start NAME CMD...: runs CMD in the background with stdout/stderr in
# $TMP/NAME.out and .err, and waits (up to 10 s) for its "listening on"
# line; sets PORT to the port in it.
start() {
  local name=$1
  shift
  "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PIDS+=($!)
  local i
  for i in $(seq 1 200); do
    if grep -q 'listening on' "$TMP/$name.out" 2>/dev/null; then
      PORT=$(grep -m1 'listening on' "$TMP/$name.out" | sed -E 's/.*:([0-9]+)\/?$/\1/')
      return 0
    fi
    sleep 0.05
  done
  cat "$TMP/$name.err" >&2 || true
  fail "$name did not print 'listening on'"
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
