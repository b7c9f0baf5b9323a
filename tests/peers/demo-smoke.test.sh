# `wire demo --tcp-port 0` smoke: it prints a tcp "listening on" line with
# the real port, its TCP server sends the seed's exact greeting and a reply
# per chunk, and it keeps serving a second client.
. "$(dirname "$0")/lib.sh"
"$WIRE" demo --tcp-port 0 >"$TMP/demo.out" 2>"$TMP/demo.err" &
PIDS+=($!)
# The demo will print one line per server; take the tcp:// one.
for i in $(seq 1 200); do
  grep -q 'listening on tcp://' "$TMP/demo.out" 2>/dev/null && break
  sleep 0.05
done
line=$(grep -m1 'listening on tcp://' "$TMP/demo.out") ||
  { cat "$TMP/demo.err" >&2; fail "wire demo printed no tcp listening line"; }
PORT=$(printf '%s' "$line" | sed -E 's/.*:([0-9]+)$/\1/')
[ "$PORT" -gt 0 ] 2>/dev/null || fail "no port in '$line'"
[ "$PORT" != 8124 ] || fail "--tcp-port 0 still bound 8124"
echo "ok: demo listening on port $PORT"

expected=$(printf 'hello world\xef\xbc\x9a\n\xe4\xbd\xa0\xe5\xa5\xbd')
for n in 1 2; do
  out=$(printf 'hi' | timeout 10 socat -t 2 - TCP:127.0.0.1:"$PORT")
  expect_eq "client $n: greeting then reply" "$expected" "$out"
done
kill -0 "${PIDS[0]}" 2>/dev/null || fail "wire demo exited"
echo "ok: wire demo still running"
