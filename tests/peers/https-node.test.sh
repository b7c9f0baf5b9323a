# HTTPS between wire and node, both ways, with certificates from `wire
# cert` and mutual TLS:
# - node's https.Agent (keepAlive, maxSockets 5) against wire serve --tls:
#   20 requests on at most 5 sockets; a fresh-connection agent resumes
#   wire's TLS sessions (socket.isSessionReused() on node's side);
# - wire get against a node https server with requestCert that counts
#   handshakes: 20 requests with -c 5 make at most 5; sequential
#   connections resume the session wire's agent kept (isSessionReused()
#   on node's side); no client certificate is refused;
# - 64 MiB each way through wire get (download to a file, streamed
#   upload), every byte checked, wire get's peak RSS bounded.
. "$(dirname "$0")/lib.sh"
cd "$WIRE_SRC/tests/peers" # node resolves nothing from npm here, only core
K=$TMP/keys
mkdir -p "$K"
"$WIRE" cert ca --out "$K/ca" >/dev/null
"$WIRE" cert server --ca "$K/ca" --san localhost --san 127.0.0.1 \
  --out "$K/server" >/dev/null
"$WIRE" cert client --ca "$K/ca" --cn alice --out "$K/client" >/dev/null
N=$((64 * 1024 * 1024))
ASAN=0
grep -q '^WIRE_SANITIZE:BOOL=ON' "$WIRE_BUILD/CMakeCache.txt" 2>/dev/null &&
  ASAN=1

# ---- node's client against wire's server -------------------------------
start wsrv "$WIRE" serve --echo --port 0 --tls-cert "$K/server.crt" \
  --tls-key "$K/server.key" --tls-ca "$K/ca.crt" --request-cert
cat >"$TMP/client.js" <<'JS'
const https = require("https");
const fs = require("fs");
const [port, keys] = [+process.argv[2], process.argv[3]];
const tls = {
  ca: [fs.readFileSync(keys + "/ca.crt")],
  key: fs.readFileSync(keys + "/client.key"),
  cert: fs.readFileSync(keys + "/client.crt"),
};
function get(agent, body) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: "localhost", port, method: "POST",
      path: "/", agent, ...tls }, (res) => {
      let data = "";
      const sock = res.socket;
      const reused = sock.isSessionReused();
      res.setEncoding("utf8");
      res.on("data", (d) => (data += d));
      res.on("end", () => resolve({ data, sock, reused }));
    });
    req.on("error", reject);
    req.end(body);
  });
}
(async () => {
  const ka = new https.Agent({ keepAlive: true, maxSockets: 5, ...tls });
  const res = await Promise.all(
    Array.from({ length: 20 }, (_, i) => get(ka, "req " + i)));
  res.forEach((r, i) => {
    if (r.data !== "req " + i) throw new Error("echo " + i + ": " + r.data);
  });
  const socks = new Set(res.map((r) => r.sock));
  console.log("keepalive sockets " + socks.size);
  ka.destroy();
  // A fresh connection per request: the agent offers the session it kept.
  const fresh = new https.Agent({ keepAlive: false, ...tls });
  const seq = [];
  for (let i = 0; i < 3; i++) seq.push((await get(fresh, "x")).reused);
  console.log("reused " + seq.join(" "));
})().catch((e) => { console.error(e); process.exit(1); });
JS
timeout 60 node "$TMP/client.js" "$PORT" "$K" >"$TMP/client.out" ||
  fail "node https client"
socks=$(sed -n 's/^keepalive sockets //p' "$TMP/client.out")
[ "$socks" -ge 1 ] && [ "$socks" -le 5 ] ||
  fail "node's agent used $socks sockets for 20 requests (max 5)"
echo "ok: node https.Agent keep-alive: 20 requests on $socks sockets"
expect_eq "node resumes wire's sessions" "reused false true true" \
  "$(grep '^reused' "$TMP/client.out")"

# ---- wire's client against node's server ------------------------------
head -c $N /dev/urandom >"$TMP/big"
cat >"$TMP/server.js" <<'JS'
const https = require("https");
const fs = require("fs");
const crypto = require("crypto");
const [keys, big] = [process.argv[2], process.argv[3]];
let handshakes = 0, reused = 0;
const srv = https.createServer({
  key: fs.readFileSync(keys + "/server.key"),
  cert: fs.readFileSync(keys + "/server.crt"),
  ca: [fs.readFileSync(keys + "/ca.crt")],
  requestCert: true,
}, (req, res) => {
  if (req.url === "/stats") return res.end(handshakes + " " + reused);
  if (req.url === "/big") return fs.createReadStream(big).pipe(res);
  if (req.url === "/count") {
    const h = crypto.createHash("sha256");
    let n = 0;
    req.on("data", (d) => { n += d.length; h.update(d); });
    return req.on("end", () => res.end(n + " " + h.digest("hex")));
  }
  res.end("hello " + req.socket.getPeerCertificate().subject.CN + "\n");
});
srv.on("secureConnection", (s) => {
  handshakes++;
  if (s.isSessionReused()) reused++;
});
srv.listen(0, "127.0.0.1", () => {
  console.log("listening on https://127.0.0.1:" + srv.address().port + "/");
});
JS
start nsrv node "$TMP/server.js" "$K" "$TMP/big"
G=("$WIRE" get --cacert "$K/ca.crt" --cert "$K/client.crt" --key "$K/client.key")
url="https://localhost:$PORT"
stats() { "${G[@]}" -H 'Connection: close' "$url/stats"; }

expect_eq "wire get, mutual TLS" "hello alice" "$("${G[@]}" "$url/")"
if "$WIRE" get --cacert "$K/ca.crt" "$url/" >/dev/null 2>"$TMP/nocert.err"; then
  fail "node served wire get without a client certificate"
fi
echo "ok: no client certificate refused"

read -r h0 r0 <<<"$(stats)"
"${G[@]}" -n 20 -c 5 "$url/" >"$TMP/load.out" || fail "wire get -n 20 -c 5"
grep -q 'completed 20, errors 0' "$TMP/load.out" ||
  fail "load: $(cat "$TMP/load.out")"
read -r h1 r1 <<<"$(stats)"
made=$((h1 - h0 - 1)) # the first stats request made one too
[ "$made" -ge 1 ] && [ "$made" -le 5 ] ||
  fail "20 requests with -c 5 made $made TLS connections"
echo "ok: pooling over TLS: 20 requests, $made handshakes on node"

"${G[@]}" -n 5 -c 1 -H 'Connection: close' "$url/" >"$TMP/seq.out" ||
  fail "wire get -n 5 -c 1"
read -r h2 r2 <<<"$(stats)"
expect_eq "5 sequential connections" 5 $((h2 - h1 - 1))
expect_eq "4 resumed, seen by node" 4 $((r2 - r1))

rss() { # rss NAME CMD...: runs CMD, sets RSS_KB (peak) when measurable
  if [ $ASAN = 0 ] && [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%M' -o "$TMP/$1.rss" "${@:2}"
    RSS_KB=$(cat "$TMP/$1.rss")
  else
    "${@:2}"
    RSS_KB=0
  fi
}
LIMIT_KB=$((24 * 1024))
rss down timeout 120 "${G[@]}" -o "$TMP/down" "$url/big" ||
  fail "64 MiB download"
cmp "$TMP/down" "$TMP/big" || fail "64 MiB download differs"
[ "$RSS_KB" -lt "$LIMIT_KB" ] || fail "wire get peak RSS $RSS_KB kB (download)"
echo "ok: 64 MiB over HTTPS to wire get, peak RSS $RSS_KB kB"
rm -f "$TMP/down"

want="$N $(sha256sum "$TMP/big" | cut -d' ' -f1)"
rss up timeout 120 "${G[@]}" -d @"$TMP/big" "$url/count" >"$TMP/up.out" ||
  fail "64 MiB upload"
expect_eq "64 MiB upload counted by node" "$want" "$(cat "$TMP/up.out")"
[ "$RSS_KB" -lt "$LIMIT_KB" ] || fail "wire get peak RSS $RSS_KB kB (upload)"
echo "ok: 64 MiB over HTTPS from wire get, peak RSS $RSS_KB kB"
