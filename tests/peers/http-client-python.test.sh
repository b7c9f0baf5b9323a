# The HTTP client (tests/tools/http_client_probe) against python3's
# http.server (tests/peers/http-client-python.py): keep-alive reuse (10
# requests, one connection), 10 at once through the global agent (at most
# 5 connections), close-delimited HTTP/1.0 bodies (each on its own
# connection, never reused), a chunked response, and chunked and
# Content-Length uploads seen whole.
. "$(dirname "$0")/lib.sh"
PROBE="$WIRE_BUILD/tools/http_client_probe"
start py python3 "$(dirname "$0")/http-client-python.py"

conns() { # distinct connections that served PATH
  grep "^req conn=[0-9]* $1 " "$TMP/py.out" | cut -d' ' -f2 | sort -u | wc -l
}

"$PROBE" -n 10 -c 1 -p /seq "$PORT" > "$TMP/seq.out" || fail "seq: $(cat "$TMP/seq.out")"
expect_eq "10 in a row: answered" 10 "$(grep -c 'status=200 body=got 0' "$TMP/seq.out")"
expect_eq "10 in a row: one connection" 1 "$(conns /seq)"

"$PROBE" -n 10 -c 10 -p /many "$PORT" > "$TMP/many.out" || fail "many: $(cat "$TMP/many.out")"
expect_eq "10 at once: answered" 10 "$(grep -c 'status=200' "$TMP/many.out")"
n=$(conns /many)
[ "$n" -le 5 ] || fail "10 at once used $n connections"
echo "ok: 10 at once on $n connections"

"$PROBE" -n 3 -c 1 -p /close "$PORT" > "$TMP/close.out" || fail "close: $(cat "$TMP/close.out")"
expect_eq "close-delimited: whole bodies" 3 \
  "$(grep -c 'status=200 body=close-delimited body$' "$TMP/close.out")"
expect_eq "close-delimited: a connection each" 3 "$(conns /close)"
expect_eq "close-delimited: nothing pooled" "final sockets=0 free=0" \
  "$(grep '^final' "$TMP/close.out" | cut -d' ' -f1-3)"

"$PROBE" -p /chunked "$PORT" > "$TMP/chunked.out" || fail "chunked: $(cat "$TMP/chunked.out")"
expect_eq "chunked response" "req 0 status=200 body=hello chunked world" \
  "$(grep '^req' "$TMP/chunked.out")"

BIG=$(head -c 100000 /dev/zero | tr '\0' 'y')
"$PROBE" -X POST -k "$BIG" -p /upc "$PORT" > "$TMP/upc.out" || fail "chunked upload"
expect_eq "chunked upload seen whole" "chunked 100000" \
  "$(grep '^req conn=[0-9]* /upc ' "$TMP/py.out" | cut -d' ' -f4-)"
"$PROBE" -X PUT -d "$BIG" -p /upl "$PORT" > "$TMP/upl.out" || fail "length upload"
expect_eq "Content-Length upload seen whole" "- 100000" \
  "$(grep '^req conn=[0-9]* /upl ' "$TMP/py.out" | cut -d' ' -f4-)"
