# A short wrk load (1 thread, 50 connections, 2 s) against the wire HTTP
# server: requests were answered and no socket error or non-2xx happened.
# Never a rate.
. "$(dirname "$0")/lib.sh"
command -v wrk >/dev/null || fail "wrk is not installed"
start srv "$WIRE_BUILD/tools/http_peer_server"
out=$(timeout 30 wrk -t1 -c50 -d2s "http://127.0.0.1:$PORT/")
echo "$out"
if echo "$out" | grep -q 'Socket errors'; then
  fail "wrk reported socket errors"
fi
if echo "$out" | grep -q 'Non-2xx'; then
  fail "wrk got non-2xx responses"
fi
n=$(echo "$out" | sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p')
[ -n "$n" ] && [ "$n" -gt 0 ] || fail "no requests answered"
echo "ok: $n requests, no socket errors"
# Still serving after the load.
expect_eq "still serving" "Hello World" "$(curl -sS "http://127.0.0.1:$PORT/")"
