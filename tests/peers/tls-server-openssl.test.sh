# examples/tls_server (the seed's TLS server, requestCert with the CA)
# against openssl s_client, with certificates made by `wire cert`:
# mutual TLS and the echo, a client without a certificate refused, TLS 1.1
# refused, plain HTTP to the TLS port, session resumption seen by the peer
# (-reconnect on TLS 1.2, -sess_out/-sess_in on TLS 1.3), and the server
# still serving after each bad client.
. "$(dirname "$0")/lib.sh"
K=$TMP/keys
mkdir -p "$K"
"$WIRE" cert ca --out "$K/ca" >/dev/null
"$WIRE" cert server --ca "$K/ca" --san localhost --san 127.0.0.1 \
  --out "$K/server" >/dev/null
"$WIRE" cert client --ca "$K/ca" --cn alice --out "$K/client" >/dev/null
expect_eq "key mode" 600 "$(stat -c %a "$K/server.key")"
expect_eq "certificate mode" 644 "$(stat -c %a "$K/server.crt")"
openssl verify -CAfile "$K/ca.crt" "$K/server.crt" "$K/client.crt" \
  >/dev/null || fail "openssl does not verify wire's certificates"

start srv "$EX/tls_server" 0 --keys "$K"
SC=(openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$K/ca.crt"
  -verify_return_error -verify_hostname localhost)
MINE=(-cert "$K/client.crt" -key "$K/client.key")

echo_check() {
  local out
  out=$( (printf 'hello\n'; sleep 0.5) |
    timeout 10 "${SC[@]}" "${MINE[@]}" -quiet -no_ign_eof 2>"$TMP/sc.err") ||
    { cat "$TMP/sc.err" >&2; fail "s_client ($1)"; }
  expect_eq "welcome and echo ($1)" "$(printf 'welcome!\nhello')" "$out"
}

echo_check "mutual TLS"
wait_for "$TMP/srv.out" 'server connected authorized'

# No client certificate: the server refuses it (TLS 1.3: after the
# client's Finished, with the certificate_required alert).
(sleep 0.5) | timeout 10 "${SC[@]}" >"$TMP/nocert.out" 2>&1 || true
grep -q 'alert certificate required' "$TMP/nocert.out" ||
  { cat "$TMP/nocert.out" >&2; fail "no certificate_required alert"; }
wait_for "$TMP/srv.err" 'peer did not return a certificate'
echo "ok: client without a certificate refused"

# TLS 1.1 (and 1.0) are refused with a protocol_version alert.
timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -tls1_1 \
  -cipher 'DEFAULT@SECLEVEL=0' </dev/null >"$TMP/tls11.out" 2>&1 || true
grep -q 'alert protocol version' "$TMP/tls11.out" ||
  { cat "$TMP/tls11.out" >&2; fail "TLS 1.1 not refused"; }
wait_for "$TMP/srv.err" 'unsupported protocol'
echo "ok: TLS 1.1 refused"

# Plain HTTP bytes at the TLS port: a clear error, the connection closed.
rc=0
curl -s -m 5 "http://127.0.0.1:$PORT/" >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "curl got an HTTP answer from the TLS port"
wait_for "$TMP/srv.err" 'http request'
echo "ok: plain HTTP refused"

# Resumption, TLS 1.2: s_client -reconnect reconnects five times with the
# first session.
(sleep 1) | timeout 20 "${SC[@]}" "${MINE[@]}" -tls1_2 -reconnect \
  >"$TMP/re.out" 2>&1 || true
expect_eq "TLS 1.2 resumed five times" 5 \
  "$(grep -c '^Reused, TLSv1.2' "$TMP/re.out" || true)"

# Resumption, TLS 1.3: the ticket saved by one s_client, used by the next.
(sleep 0.5) | timeout 10 "${SC[@]}" "${MINE[@]}" \
  -sess_out "$TMP/sess.pem" >"$TMP/s1.out" 2>&1 || true
grep -q '^New, TLSv1.3' "$TMP/s1.out" || fail "first TLS 1.3 session"
[ -s "$TMP/sess.pem" ] || fail "no TLS 1.3 ticket received"
(sleep 0.5) | timeout 10 "${SC[@]}" "${MINE[@]}" \
  -sess_in "$TMP/sess.pem" >"$TMP/s2.out" 2>&1 || true
grep -q '^Reused, TLSv1.3' "$TMP/s2.out" ||
  { grep -E '^(New|Reused)' "$TMP/s2.out" >&2; fail "TLS 1.3 not resumed"; }
echo "ok: TLS 1.3 resumed"

echo_check "after the bad clients"
kill -0 "${PIDS[0]}" || fail "the server died"
