# `wire demo --http-port 0`: an http "listening on" line with the real
# port, and the seed's HTTP server answering "Hello World\n" as
# text/plain to curl and to node's http client (at /hello and any path
# but /, where the dashboard is: tests/peers/ws-cli-demo.test.sh).
. "$(dirname "$0")/lib.sh"
"$WIRE" demo --tcp-port 0 --udp-port 0 --http-port 0 \
  >"$TMP/demo.out" 2>"$TMP/demo.err" &
PIDS+=($!)
wait_for "$TMP/demo.out" 'listening on http://'
line=$(grep -m1 'listening on http://' "$TMP/demo.out")
[[ $line =~ ^listening\ on\ http://127\.0\.0\.1:([0-9]+)/$ ]] ||
  fail "bad line '$line'"
PORT=${BASH_REMATCH[1]}
[ "$PORT" != 1337 ] || fail "--http-port 0 still bound 1337"
echo "ok: $line"

expect_eq "body" "Hello World" "$(curl -sS "http://127.0.0.1:$PORT/hello")"
hdr=$(curl -sS -D - -o /dev/null "http://127.0.0.1:$PORT/any/path" | tr -d '\r')
echo "$hdr" | grep -q '^HTTP/1.1 200 OK$' || fail "status: $hdr"
echo "$hdr" | grep -q '^Content-Type: text/plain$' || fail "type: $hdr"
echo "$hdr" | grep -q '^Content-Length: 12$' || fail "length: $hdr"
echo "ok: headers"
timeout 20 node -e '
require("http").get("http://127.0.0.1:" + process.argv[1] + "/hello", (res) => {
  let b = "";
  res.on("data", (c) => (b += c));
  res.on("end", () => process.exit(res.statusCode === 200 &&
    res.headers["content-type"] === "text/plain" && b === "Hello World\n" ? 0 : 1));
}).on("error", () => process.exit(1));' "$PORT" || fail "node client"
echo "ok: node client"
# The other servers are up too.
grep -q 'listening on tcp://' "$TMP/demo.out" || fail "no tcp line"
grep -q 'listening on udp://' "$TMP/demo.out" || fail "no udp line"
kill -0 "${PIDS[0]}" 2>/dev/null || fail "wire demo exited"
echo "ok: wire demo still running"
