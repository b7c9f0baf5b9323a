# The node http client (keep-alive agent) against the wire HTTP server:
# 401 requests over at most 4 sockets, chunked bodies read back exact,
# echoed POST bodies, request trailers answered as response trailers.
. "$(dirname "$0")/lib.sh"
start srv "$WIRE_BUILD/tools/http_peer_server"
out=$(cd "$WIRE_SRC/tests/peers" && timeout 90 node http-server-client.js "$PORT")
echo "$out"
case "$out" in
  "ok 401 "[1-4]) echo "ok: node client" ;;
  *) fail "node client: $out" ;;
esac
