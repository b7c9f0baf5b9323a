# `wire demo` with every port 0 and a fresh --state-dir: it makes a CA and
# server/client certificates there on first run (keys mode 0600), prints
# tls:// and https:// listening lines, its HTTPS server answers curl and
# wire get with the generated CA, its TLS server (requestCert) welcomes,
# echoes and prints "server connected authorized" for the generated client
# certificate and "unauthorized" without one; a second run reuses the
# same CA.
. "$(dirname "$0")/lib.sh"
S=$TMP/state
run_demo() {
  "$WIRE" demo --tcp-port 0 --udp-port 0 --http-port 0 --tls-port 0 \
    --https-port 0 --state-dir "$S" >"$TMP/$1.out" 2>"$TMP/$1.err" &
  PIDS+=($!)
  wait_for "$TMP/$1.out" 'listening on https://'
  wait_for "$TMP/$1.out" 'listening on tls://'
  TLS_PORT=$(grep -m1 'listening on tls://' "$TMP/$1.out" |
    sed -E 's/.*:([0-9]+)$/\1/')
  HTTPS_PORT=$(grep -m1 'listening on https://' "$TMP/$1.out" |
    sed -E 's/.*:([0-9]+)\/$/\1/')
  [ "$TLS_PORT" != 8000 ] && [ "$HTTPS_PORT" != 8443 ] ||
    fail "port 0 still bound the default ports"
}

run_demo first
grep -q "made a CA and server/client certificates in $S" "$TMP/first.out" ||
  fail "no certificates made"
for f in ca server client; do
  expect_eq "$f.key mode" 600 "$(stat -c %a "$S/$f.key")"
done
openssl verify -CAfile "$S/ca.crt" "$S/server.crt" "$S/client.crt" \
  >/dev/null || fail "openssl does not verify the demo's certificates"

expect_eq "https with curl" "hello world" \
  "$(curl -sS --max-time 10 --cacert "$S/ca.crt" \
    "https://localhost:$HTTPS_PORT/")"
expect_eq "https with wire get" "hello world" \
  "$("$WIRE" get --cacert "$S/ca.crt" "https://127.0.0.1:$HTTPS_PORT/")"

out=$( (printf 'hello\n'; sleep 0.5) |
  timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" \
    -CAfile "$S/ca.crt" -verify_return_error -cert "$S/client.crt" \
    -key "$S/client.key" -quiet -no_ign_eof 2>"$TMP/sc.err") ||
  { cat "$TMP/sc.err" >&2; fail "s_client"; }
expect_eq "tls welcome and echo" "$(printf 'welcome!\nhello')" "$out"
wait_for "$TMP/first.out" 'server connected authorized'
(sleep 0.5) | timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" \
  -CAfile "$S/ca.crt" -quiet -no_ign_eof >/dev/null 2>&1 || true
wait_for "$TMP/first.out" 'server connected unauthorized'
echo "ok: tls authorized and unauthorized"

sum=$(sha256sum "$S/ca.crt")
kill "${PIDS[0]}"
run_demo second
grep -q 'made a CA' "$TMP/second.out" && fail "second run made a new CA"
expect_eq "same CA" "$sum" "$(sha256sum "$S/ca.crt")"
expect_eq "https after restart" "hello world" \
  "$(curl -sS --max-time 10 --cacert "$S/ca.crt" \
    "https://localhost:$HTTPS_PORT/")"
