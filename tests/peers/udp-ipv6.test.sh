# IPv6 both ways over ::1: examples/udp_server on a udp6 socket receives
# from a node udp6 client, and examples/udp_client sends to a node udp6
# server.
. "$(dirname "$0")/lib.sh"
start srv "$EX/udp_server" 0 ::1
case "$(grep 'listening on' "$TMP/srv.out")" in
  "listening on udp://[::1]:$PORT") echo "ok: wire listens on [::1]" ;;
  *) fail "unexpected: $(cat "$TMP/srv.out")" ;;
esac
timeout 10 node -e '
const c = require("dgram").createSocket("udp6");
c.send("six from node", +process.argv[1], "::1", (err) => {
  if (err) throw err;
  c.close();
});' "$PORT"
wait_for "$TMP/srv.out" 'server got: six from node'
grep -Eq '^server got: six from node from ::1:[0-9]+$' "$TMP/srv.out" ||
  fail "bad line: $(grep 'server got' "$TMP/srv.out")"
echo "ok: node -> wire over ::1"

start node node "$WIRE_SRC/tests/peers/udp-server.js" udp6 ::1
timeout 10 "$EX/udp_client" "$PORT" ::1 || fail "udp_client exited $?"
wait_for "$TMP/node.out" 'got: hello world'
grep -Eq '^got: hello world from ::1:[0-9]+$' "$TMP/node.out" ||
  fail "bad line: $(grep 'got:' "$TMP/node.out")"
echo "ok: wire -> node over ::1"
