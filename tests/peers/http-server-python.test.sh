# python3 http.client against the wire HTTP server: reuse of one
# connection, HEAD, echoed and counted bodies (chunked upload), HTTP/1.0.
. "$(dirname "$0")/lib.sh"
start srv "$WIRE_BUILD/tools/http_peer_server"
out=$(timeout 60 python3 "$WIRE_SRC/tests/peers/http-server-client.py" "$PORT")
expect_eq "python http.client" ok "$out"
