# 64 MiB each way through the wire HTTP server with curl, without the
# server holding them: the upload is read with pause/resume (/count), the
# download written with write/drain (/big). Every byte is checked, and the
# server's peak RSS (VmHWM) stays under 32 MiB (not under ASan, whose
# quarantine keeps freed chunks; see pipe-backpressure.test.sh).
. "$(dirname "$0")/lib.sh"
N=$((64 * 1024 * 1024))
LIMIT_KB=$((32 * 1024))
start srv "$WIRE_BUILD/tools/http_peer_server"
url="http://127.0.0.1:$PORT"

head -c $N /dev/urandom >"$TMP/up"
sum=$(python3 -c 'import sys; print(sum(open(sys.argv[1], "rb").read()) % 2**32)' "$TMP/up")
out=$(timeout 120 curl -sS --data-binary @"$TMP/up" "$url/count")
expect_eq "64 MiB upload counted" "$N $sum" "$out"

out=$(timeout 120 curl -sS -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/up" "$url/count")
expect_eq "64 MiB chunked upload counted" "$N $sum" "$out"

# The pattern repeats every 65536 bytes.
python3 - "$N" >"$TMP/want" <<'PY'
import sys
n = int(sys.argv[1])
period = bytes(((i * 31 + (i >> 8)) & 0xff) for i in range(65536))
sys.stdout.buffer.write(period * (n // 65536))
PY
timeout 120 curl -sS -o "$TMP/down" "$url/big?$N"
cmp "$TMP/want" "$TMP/down" || fail "64 MiB download differs"
echo "ok: 64 MiB download exact"

hwm=$(curl -sS "$url/hwm")
case "$hwm" in
  *--asan) echo "skip: server built with ASan, VmHWM ${hwm% *} kB not bounded" ;;
  *)
    [ "$hwm" -gt 0 ] || fail "no VmHWM: $hwm"
    [ "$hwm" -lt "$LIMIT_KB" ] || fail "server peak RSS ${hwm} kB >= ${LIMIT_KB} kB"
    echo "ok: server peak RSS ${hwm} kB < ${LIMIT_KB} kB"
    ;;
esac
