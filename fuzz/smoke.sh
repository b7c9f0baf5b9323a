#!/usr/bin/env bash
# The fuzz smoke pass: runs each libFuzzer target briefly with ASan+UBSan
# on a scratch copy of its seed corpus, with its dictionary.
#   fuzz/smoke.sh BUILD_DIR [SECONDS]
# BUILD_DIR is a build configured with CC=clang -DWIRE_BUILD_FUZZ=ON;
# SECONDS (default 25) is shared between the targets. A crash leaves its
# input in BUILD_DIR/fuzz/ (crash-*, leak-*, timeout-*) and fails the run.
set -euo pipefail
build=${1:?usage: fuzz/smoke.sh BUILD_DIR [SECONDS]}
secs=${2:-25}
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$build" && pwd)

# Every fuzz/fuzz-<target>.c is a target, with its seeds in corpus/<target>/
# and its dictionary in <first word of target>.dict (http.dict, ws.dict).
targets=()
for src in "$here"/fuzz-*.c; do
  t=$(basename "$src" .c)
  targets+=("${t#fuzz-}")
done
per=$(( secs / ${#targets[@]} ))
[ "$per" -ge 1 ] || per=1

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
for t in "${targets[@]}"; do
  bin=$build/fuzz/fuzz-$t
  if [ ! -x "$bin" ]; then
    echo "fuzz smoke: $bin is not built" >&2
    exit 1
  fi
  work=$(mktemp -d)
  cp "$here/corpus/$t/"* "$work/"
  dict=()
  [ -f "$here/${t%%-*}.dict" ] && dict=(-dict="$here/${t%%-*}.dict")
  echo "fuzz smoke: $t for ${per}s"
  if "$bin" "${dict[@]}" -max_total_time="$per" -max_len=4096 -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/fuzz/" "$work" >"$work.log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|new_units_added)' "$work.log" \
      | sed "s/^/fuzz smoke: $t: /"
  else
    echo "fuzz smoke: $t FAILED; last lines of its log:" >&2
    tail -n 40 "$work.log" >&2
    status=1
  fi
  rm -rf "$work" "$work.log"
done
exit $status
