# 64 MiB each way through wire serve over HTTPS with curl, without the
# server holding them: a file streamed down (write/drain over TLS), and an
# upload echoed back by --echo (read with pause/resume, written with
# drain), every byte checked; the server's peak RSS (VmHWM) stays bounded
# (not under ASan, whose quarantine keeps freed chunks). Then session
# resumption seen by openssl s_client -reconnect (TLS 1.2) against the
# same server.
. "$(dirname "$0")/lib.sh"
K=$TMP/keys
mkdir -p "$K" "$TMP/www"
"$WIRE" cert ca --out "$K/ca" >/dev/null
"$WIRE" cert server --ca "$K/ca" --san localhost --san 127.0.0.1 \
  --out "$K/server" >/dev/null
N=$((64 * 1024 * 1024))
LIMIT_KB=$((32 * 1024))
head -c $N /dev/urandom >"$TMP/www/big"
TLS=(--tls-cert "$K/server.crt" --tls-key "$K/server.key")
C=(curl -sS --max-time 120 --cacert "$K/ca.crt")

hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
check_hwm() { # check_hwm PID WHAT
  if grep -q '^WIRE_SANITIZE:BOOL=ON' "$WIRE_BUILD/CMakeCache.txt"; then
    echo "skip: ASan build, peak RSS not bounded ($2)"
    return
  fi
  local kb
  kb=$(hwm "$1")
  [ "$kb" -gt 0 ] || fail "no VmHWM for $2"
  [ "$kb" -lt "$LIMIT_KB" ] || fail "$2: server peak RSS $kb kB >= $LIMIT_KB kB"
  echo "ok: $2: server peak RSS $kb kB < $LIMIT_KB kB"
}

start files "$WIRE" serve "$TMP/www" --port 0 "${TLS[@]}"
fpid=${PIDS[0]}
fport=$PORT
"${C[@]}" -o "$TMP/down" "https://localhost:$fport/big"
cmp "$TMP/down" "$TMP/www/big" || fail "64 MiB download differs"
echo "ok: 64 MiB download over HTTPS exact"
rm -f "$TMP/down"
check_hwm "$fpid" "download"

start echo "$WIRE" serve --echo --port 0 "${TLS[@]}"
epid=${PIDS[1]}
"${C[@]}" --data-binary @"$TMP/www/big" -o "$TMP/back" \
  "https://localhost:$PORT/"
cmp "$TMP/back" "$TMP/www/big" || fail "64 MiB echo differs"
echo "ok: 64 MiB up and echoed back over HTTPS exact"
rm -f "$TMP/back"
check_hwm "$epid" "upload and echo"

# openssl s_client -reconnect: the five reconnections resume the session.
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 20 openssl s_client \
  -connect "127.0.0.1:$fport" -CAfile "$K/ca.crt" -tls1_2 -reconnect \
  >"$TMP/reconnect.out" 2>&1 || true
reused=$(grep -c '^Reused, ' "$TMP/reconnect.out" || true)
[ "$reused" -ge 5 ] ||
  { cat "$TMP/reconnect.out" >&2; fail "s_client -reconnect: $reused reused"; }
echo "ok: s_client -reconnect resumed $reused times"
