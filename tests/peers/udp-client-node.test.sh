# examples/udp_client against a node dgram server: "hello world" arrives
# from 127.0.0.1 (the client sends to "localhost" on a udp4 socket) and the
# client exits 0 once its send callback closed the socket.
. "$(dirname "$0")/lib.sh"
start node node "$WIRE_SRC/tests/peers/udp-server.js" udp4 127.0.0.1
timeout 10 "$EX/udp_client" "$PORT" || fail "udp_client exited $?"
wait_for "$TMP/node.out" 'got: hello world'
expect_eq "node saw" "got: hello world from 127.0.0.1" \
  "$(grep 'got:' "$TMP/node.out" | sed -E 's/:[0-9]+$//')"
