# examples/tls_client (the seed's TLS client, with a client certificate)
# against openssl s_server: mutual TLS both ways of the data, SNI and ALPN
# seen by the server, and the client refusing an unknown CA and a host name
# that does not match, each with OpenSSL's reason.
. "$(dirname "$0")/lib.sh"
K=$TMP/keys
mkdir -p "$K" "$TMP/other"
"$WIRE" cert ca --out "$K/ca" >/dev/null
"$WIRE" cert server --ca "$K/ca" --san localhost --san 127.0.0.1 \
  --out "$K/server" >/dev/null
"$WIRE" cert client --ca "$K/ca" --cn alice --out "$K/client" >/dev/null
# A client that trusts another CA.
"$WIRE" cert ca --out "$TMP/other/ca" >/dev/null
cp "$K/client.key" "$K/client.crt" "$TMP/other/"

# s_server NAME SECONDS ARGS...: one connection, stdin open for SECONDS
# (it sends "from-server" first); sets PORT from its ACCEPT line.
s_server() {
  local name=$1 secs=$2
  shift 2
  (printf 'from-server\n'; sleep "$secs") |
    openssl s_server -accept 0 -naccept 1 -cert "$K/server.crt" \
      -key "$K/server.key" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PIDS+=($!)
  local i
  for i in $(seq 1 200); do
    if grep -q '^ACCEPT' "$TMP/$name.out" 2>/dev/null; then
      PORT=$(grep -m1 '^ACCEPT' "$TMP/$name.out" | sed -E 's/.*:([0-9]+)$/\1/')
      return 0
    fi
    sleep 0.05
  done
  fail "s_server did not start"
}

# Mutual TLS (-Verify: a client certificate is required) and SNI.
s_server sni 3 -CAfile "$K/ca.crt" -Verify 1 -servername localhost \
  -cert2 "$K/server.crt" -key2 "$K/server.key"
(printf 'hello-from-wire\n'; sleep 1) |
  timeout 10 "$EX/tls_client" localhost "$PORT" --keys "$K" \
    >"$TMP/c1.out" 2>"$TMP/c1.err" || { cat "$TMP/c1.err" >&2; fail "client"; }
expect_eq "client authorized the server" "client connected authorized" \
  "$(head -1 "$TMP/c1.out")"
grep -qx 'from-server' "$TMP/c1.out" || fail "server's bytes not received"
wait_for "$TMP/sni.out" 'hello-from-wire'
grep -q 'Hostname in TLS extension: "localhost"' "$TMP/sni.out" ||
  fail "s_server saw no SNI"
grep -q 'CN = alice' "$TMP/sni.err" || fail "s_server saw no client cert"
echo "ok: SNI and the client certificate seen by s_server"

# ALPN.
s_server alpn 3 -alpn h2,http/1.1
(printf 'x\n'; sleep 1) |
  timeout 10 "$EX/tls_client" localhost "$PORT" --keys "$K" --alpn http/1.1 \
    >"$TMP/c2.out" 2>"$TMP/c2.err" || { cat "$TMP/c2.err" >&2; fail "alpn"; }
grep -qx 'alpn http/1.1' "$TMP/c2.out" || fail "client saw no ALPN"
wait_for "$TMP/alpn.out" 'ALPN protocols selected: http/1.1'
echo "ok: ALPN"

# An unknown CA: the client refuses, says why, and tells the server.
s_server unknown 3
rc=0
echo x | timeout 10 "$EX/tls_client" localhost "$PORT" --keys "$TMP/other" \
  >"$TMP/c3.out" 2>"$TMP/c3.err" || rc=$?
expect_eq "exit status" 1 "$rc"
grep -q 'certificate verify failed: unable to get local issuer certificate' \
  "$TMP/c3.err" || { cat "$TMP/c3.err" >&2; fail "reason"; }
wait_for "$TMP/unknown.err" 'alert unknown ca'
echo "ok: unknown CA refused"

# A host name the certificate is not for.
s_server mismatch 3
rc=0
echo x | timeout 10 "$EX/tls_client" 127.0.0.1 "$PORT" --keys "$K" \
  --servername wrong.example >"$TMP/c4.out" 2>"$TMP/c4.err" || rc=$?
expect_eq "exit status" 1 "$rc"
grep -q 'certificate verify failed: hostname mismatch' "$TMP/c4.err" ||
  { cat "$TMP/c4.err" >&2; fail "reason"; }
echo "ok: hostname mismatch refused"
