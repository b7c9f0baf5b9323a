# wire serve --echo: any method answered 200 with the request's body,
# streamed. A 10 MiB upload with Content-Length, chunked, and with
# Expect: 100-continue (curl), a 10 MiB PUT from node's http client read
# slowly (backpressure both ways), Content-Type copied, an empty body,
# keep-alive across echoes, the peak RSS far under the body's size, and
# --host :: printing [::].
. "$(dirname "$0")/lib.sh"
start srv "$WIRE" serve --echo --port 0
grep -qE '^listening on http://127\.0\.0\.1:[0-9]+/$' "$TMP/srv.out" ||
  fail "bad listening line: $(cat "$TMP/srv.out")"
url="http://127.0.0.1:$PORT"
head -c $((10 * 1024 * 1024)) /dev/urandom >"$TMP/up"

timeout 60 curl -sS --data-binary @"$TMP/up" -H 'Expect:' \
  -H 'Content-Type: application/x-test' -D "$TMP/h" -o "$TMP/down" "$url/a"
cmp "$TMP/up" "$TMP/down" || fail "10 MiB echo differs"
tr -d '\r' <"$TMP/h" >"$TMP/h2"
grep -q '^HTTP/1.1 200 OK$' "$TMP/h2" || fail "status: $(cat "$TMP/h2")"
grep -q '^Content-Type: application/x-test$' "$TMP/h2" || fail "type: $(cat "$TMP/h2")"
grep -q '^Content-Length: 10485760$' "$TMP/h2" || fail "length: $(cat "$TMP/h2")"
echo "ok: 10 MiB POST echoed, type and length copied"

timeout 60 curl -sS -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/up" \
  -D "$TMP/h" -o "$TMP/down" "$url/chunked"
cmp "$TMP/up" "$TMP/down" || fail "chunked echo differs"
grep -qi '^Transfer-Encoding: chunked' "$TMP/h" || fail "not chunked back"
echo "ok: 10 MiB chunked echoed chunked"

timeout 60 curl -sS -T "$TMP/up" -o "$TMP/down" "$url/put"
cmp "$TMP/up" "$TMP/down" || fail "PUT with 100-continue differs"
echo "ok: 10 MiB PUT with Expect: 100-continue"

for m in GET DELETE OPTIONS PATCH; do
  out=$(curl -sS -X "$m" -o /dev/null -w '%{http_code} %{size_download}' "$url/x")
  expect_eq "$m with no body" "200 0" "$out"
done
expect_eq "PATCH body" "patched" \
  "$(curl -sS -X PATCH --data-binary patched "$url/x")"
n=$(curl -sS -v -d one "$url/1" -d two "$url/2" 2>&1 |
  grep -c 'Re-using existing connection')
expect_eq "keep-alive across echoes" 1 "$n"

# node: a 10 MiB PUT whose response is read slowly (paused), so the echo
# has to pause the request while the response drains.
timeout 60 node -e '
const http = require("http");
const fs = require("fs");
const crypto = require("crypto");
const data = fs.readFileSync(process.argv[2]);
const want = crypto.createHash("sha256").update(data).digest("hex");
const req = http.request({ port: +process.argv[1], host: "127.0.0.1",
  method: "PUT", path: "/slow", headers: { "content-type": "x/y" } }, (res) => {
  const h = crypto.createHash("sha256");
  let n = 0;
  res.on("data", (c) => {
    h.update(c);
    n += c.length;
    res.pause();
    setTimeout(() => res.resume(), 3);
  });
  res.on("end", () => {
    const got = h.digest("hex");
    if (res.statusCode !== 200 || res.headers["content-type"] !== "x/y" ||
        n !== data.length || got !== want) {
      console.error(res.statusCode, res.headers["content-type"], n);
      process.exit(1);
    }
  });
});
req.on("error", (e) => { console.error(e.message); process.exit(1); });
// Write in 64 KiB pieces, honouring backpressure.
let off = 0;
(function more() {
  while (off < data.length) {
    const piece = data.subarray(off, off + 65536);
    off += piece.length;
    if (!req.write(piece)) return req.once("drain", more);
  }
  req.end();
})();
' "$PORT" "$TMP/up" || fail "node slow reader"
echo "ok: node 10 MiB PUT, slow reader"
kill -0 "${PIDS[0]}" || fail "wire serve --echo died"
# Without backpressure the slow reader's 10 MiB would pile up in memory.
hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/"${PIDS[0]}"/status)
if grep -q '^WIRE_SANITIZE:BOOL=ON' "$WIRE_BUILD/CMakeCache.txt" 2>/dev/null; then
  echo "skip: ASan build, VmHWM ${hwm} kB not bounded"
else
  [ "$hwm" -lt 6144 ] || fail "peak RSS ${hwm} kB: bodies were buffered"
  echo "ok: peak RSS ${hwm} kB"
fi

# IPv6: --host :: prints [::] (skipped without IPv6 on loopback).
if [ -e /proc/net/if_inet6 ] && ip -6 addr show lo 2>/dev/null | grep -q '::1'; then
  start srv6 "$WIRE" serve --echo --host :: --port 0
  grep -qE '^listening on http://\[::\]:[0-9]+/$' "$TMP/srv6.out" ||
    fail "bad v6 line: $(cat "$TMP/srv6.out")"
  expect_eq "echo over IPv6" "v6" \
    "$(curl -sS --data-binary v6 "http://[::1]:$PORT/")"
else
  echo "skip: no IPv6 loopback"
fi
