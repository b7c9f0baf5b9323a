# `wire demo --udp-port 0`: a udp "listening on" line with the real port,
# and the seed's line per datagram from a node dgram client.
. "$(dirname "$0")/lib.sh"
"$WIRE" demo --tcp-port 0 --udp-port 0 >"$TMP/demo.out" 2>"$TMP/demo.err" &
PIDS+=($!)
wait_for "$TMP/demo.out" 'listening on udp://'
line=$(grep -m1 'listening on udp://' "$TMP/demo.out")
PORT=$(printf '%s' "$line" | sed -E 's/.*:([0-9]+)$/\1/')
[ "$PORT" -gt 0 ] 2>/dev/null && [ "$PORT" != 41234 ] || fail "bad line '$line'"
echo "ok: $line"
timeout 10 node -e '
const c = require("dgram").createSocket("udp4");
c.send("hello demo", +process.argv[1], "localhost", (err) => {
  if (err) throw err;
  c.close();
});' "$PORT"
wait_for "$TMP/demo.out" 'server got: hello demo'
grep -Eq '^server got: hello demo from 127.0.0.1:[0-9]+$' "$TMP/demo.out" ||
  fail "bad line: $(grep 'server got' "$TMP/demo.out")"
echo "ok: the seed's line"
