# examples/https_server (the seed's HTTPS server) and examples/https_client
# against curl, with certificates made by `wire cert`: --cacert, mutual
# TLS with --cert/--key, a client without a certificate refused when the
# server asks for one, keep-alive over TLS (several URLs on one
# connection), ALPN http/1.1 seen by curl, an unknown CA refused by curl,
# and the server still serving after each bad client.
. "$(dirname "$0")/lib.sh"
K=$TMP/keys
mkdir -p "$K"
"$WIRE" cert ca --out "$K/ca" >/dev/null
"$WIRE" cert server --ca "$K/ca" --san localhost --san 127.0.0.1 \
  --out "$K/server" >/dev/null
"$WIRE" cert client --ca "$K/ca" --cn alice --out "$K/client" >/dev/null
"$WIRE" cert ca --out "$K/other" >/dev/null

# The seed's server: key and cert only.
start plain "$EX/https_server" 0 --keys "$K"
grep -q '^listening on https://' "$TMP/plain.out" || fail "listening line"
C=(curl -sS --max-time 10 --cacert "$K/ca.crt")
expect_eq "curl --cacert" "hello world" "$("${C[@]}" "https://localhost:$PORT/")"
expect_eq "curl by IP (IP SAN)" "hello world" \
  "$("${C[@]}" "https://127.0.0.1:$PORT/x")"

# ALPN and keep-alive: curl negotiates http/1.1 and reuses the connection.
"${C[@]}" -v "https://localhost:$PORT/a" "https://localhost:$PORT/b" \
  >"$TMP/ka.out" 2>"$TMP/ka.err"
expect_eq "two bodies" "hello worldhello world" "$(tr -d '\n' <"$TMP/ka.out")"
grep -q 'ALPN.*http/1.1' "$TMP/ka.err" ||
  { cat "$TMP/ka.err" >&2; fail "no ALPN http/1.1"; }
grep -q 'Re-using existing connection' "$TMP/ka.err" ||
  { cat "$TMP/ka.err" >&2; fail "connection not reused"; }
echo "ok: ALPN http/1.1 and keep-alive"

# A CA curl does not know: curl refuses the certificate.
if curl -sS --max-time 10 --cacert "$K/other.crt" \
  "https://localhost:$PORT/" >/dev/null 2>"$TMP/unknown.err"; then
  fail "curl accepted a certificate from an unknown CA"
fi
grep -qi 'certificate' "$TMP/unknown.err" || fail "unknown CA: no reason"
expect_eq "still serving" "hello world" \
  "$("${C[@]}" "https://localhost:$PORT/")"

# Mutual TLS: the server asks for a client certificate signed by the CA.
start mtls "$EX/https_server" 0 --keys "$K" --request-cert
expect_eq "curl mTLS" "hello world" \
  "$("${C[@]}" --cert "$K/client.crt" --key "$K/client.key" \
    "https://localhost:$PORT/")"
if "${C[@]}" "https://localhost:$PORT/" >/dev/null 2>"$TMP/nocert.err"; then
  fail "a client without a certificate was served"
fi
wait_for "$TMP/mtls.err" 'peer did not return a certificate'
echo "ok: client without a certificate refused"
expect_eq "mTLS after a bad client" "hello world" \
  "$("${C[@]}" --cert "$K/client.crt" --key "$K/client.key" \
    "https://localhost:$PORT/")"

# The seed's client: its own agent with client key, cert and CA.
expect_eq "https_client (mTLS)" "hello world" \
  "$("$EX/https_client" localhost "$PORT" --keys "$K")"
