# `wire demo` (all ports 0): its HTTP server serves the live dashboard at
# / (a page with inline SVG charts that reads /updates), the seed's Hello
# World stays at /hello, and /updates pushes JSON updates to a node ws
# client: HTTP connections, WebSocket clients, requests/s and the counts
# of the demo's own agent, which its periodic self-requests make move.
. "$(dirname "$0")/lib.sh"
export NODE_PATH="$WIRE_SRC/tests/peers/node_modules"
"$WIRE" demo --tcp-port 0 --udp-port 0 --http-port 0 \
  >"$TMP/demo.out" 2>"$TMP/demo.err" &
PIDS+=($!)
wait_for "$TMP/demo.out" 'listening on http://'
line=$(grep -m1 'listening on http://' "$TMP/demo.out")
[[ $line =~ ^listening\ on\ http://127\.0\.0\.1:([0-9]+)/$ ]] ||
  fail "bad line '$line'"
PORT=${BASH_REMATCH[1]}
wait_for "$TMP/demo.out" "dashboard: http://127.0.0.1:$PORT/"
echo "ok: $line"

curl -sS -D "$TMP/h" "http://127.0.0.1:$PORT/" >"$TMP/page.html"
tr -d '\r' <"$TMP/h" | grep -q '^Content-Type: text/html; charset=utf-8$' ||
  fail "page type: $(cat "$TMP/h")"
for s in "new WebSocket('ws://' + location.host + '/updates')" '<svg' \
  polyline 'requests/s' agent; do
  grep -qF "$s" "$TMP/page.html" || fail "page lacks '$s'"
done
# No external resources: nothing but its own host.
if grep -qE 'src=|https?://' "$TMP/page.html"; then
  fail "page loads something from elsewhere"
fi
echo "ok: dashboard page"
expect_eq "Hello World at /hello" "Hello World" \
  "$(curl -sS "http://127.0.0.1:$PORT/hello")"

# A node ws client reads updates until the agent's counts have moved.
timeout 30 node -e '
const WebSocket = require("ws");
const ws = new WebSocket("ws://127.0.0.1:" + process.argv[1] + "/updates");
let n = 0, first = null, busy = 0;
ws.on("message", (data, isBinary) => {
  if (isBinary) { console.log("binary update"); process.exit(1); }
  const u = JSON.parse(data);
  for (const k of ["t", "connections", "ws", "rps", "requests"])
    if (typeof u[k] !== "number") { console.log("no " + k); process.exit(1); }
  for (const k of ["sockets", "free", "queued", "created", "reused"])
    if (typeof u.agent[k] !== "number") { console.log("no agent." + k); process.exit(1); }
  if (u.ws < 1) { console.log("ws count " + u.ws); process.exit(1); }
  if (first === null) first = u;
  if (u.agent.sockets > 0) busy++;
  n++;
  if (n >= 20 && busy > 0 && u.requests > first.requests && u.agent.created > 0) {
    console.log("updates " + n + ", requests " + first.requests + " -> " + u.requests +
                ", agent created " + u.agent.created);
    ws.close(1000);
  }
});
ws.on("close", () => process.exit(n >= 20 ? 0 : 1));
ws.on("error", (e) => { console.log(e.message); process.exit(1); });
' "$PORT" || fail "updates"
echo "ok: /updates sends JSON updates and the agent counts move"

# Two clients at once both get updates; the demo goes on after they left.
timeout 30 node -e '
const WebSocket = require("ws");
let done = 0;
for (let i = 0; i < 2; i++) {
  const ws = new WebSocket("ws://127.0.0.1:" + process.argv[1] + "/updates");
  let n = 0;
  ws.on("message", (d) => { if (JSON.parse(d).ws >= 2 && ++n === 3) ws.terminate(); });
  ws.on("close", () => { if (++done === 2) process.exit(0); });
}' "$PORT" || fail "two clients"
echo "ok: two clients"
kill -0 "${PIDS[0]}" 2>/dev/null || fail "wire demo exited"
grep -q 'listening on tcp://' "$TMP/demo.out" || fail "no tcp line"
grep -q 'listening on udp://' "$TMP/demo.out" || fail "no udp line"
echo "ok: wire demo still running"
