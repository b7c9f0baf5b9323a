# examples/ws_updates (the seed's server on /updates) with
# examples/ws_client and the npm ws client: updates arrive every 50 ms,
# the page at / connects to /updates, and a client closes cleanly.
. "$(dirname "$0")/lib.sh"
start srv "$EX/ws_updates" 0
page=$(curl -s "http://127.0.0.1:$PORT/")
echo "$page" | grep -q "new WebSocket('ws://' + location.host + '/updates')" ||
  fail "the page does not connect to /updates"
out=$("$EX/ws_client" "ws://127.0.0.1:$PORT/updates" 5) || fail "ws_client exit: $out"
echo "$out" | grep -q '^open protocol="" extensions="permessage-deflate' ||
  fail "no open line: $out"
# ws_client closes after 5 updates; one already on its way then (they come
# every 50 ms) may still arrive during the closing handshake.
got=$(echo "$out" | grep -c '"seq":')
[ "$got" -ge 5 ] && [ "$got" -le 6 ] || fail "updates received: $got, want 5 (or 6)"
echo "ok: updates received"
expect_eq "clean close" "close 1000 done" "$(echo "$out" | tail -1)"
cd "$WIRE_SRC/tests/peers"
node -e '
const WebSocket = require("ws");
const ws = new WebSocket(process.argv[1]);
let n = 0, last = 0;
ws.on("message", (d) => {
  const m = JSON.parse(d.toString());
  if (m.seq <= last) { console.error("out of order"); process.exit(1); }
  last = m.seq;
  /* An update already on its way when we close still arrives (the
   * server sends every 50 ms): count up to the close only. */
  if (ws.readyState !== WebSocket.OPEN) return;
  if (++n === 3) ws.close();
});
ws.on("close", () => { console.log("node got " + n); process.exit(0); });
setTimeout(() => process.exit(2), 20000);
' "ws://127.0.0.1:$PORT/updates" > "$TMP/node.out"
expect_eq "node client" "node got 3" "$(cat "$TMP/node.out")"
