# The HTTP client (tests/tools/http_client_probe) against node servers:
# socketPath, localAddress 127.0.0.2 (the server's remoteAddress), the
# exact Authorization bytes, chunked and Content-Length uploads seen whole,
# Expect: 100-continue (continue event then the body; a 417 answer: no
# body sent), 103 Early Hints, upgrade and CONNECT with the bytes after the
# head, the Keep-Alive timeout hint (the client closes the idle socket
# before the server would), and the retry rule against a raw node `net`
# server that drops a kept-alive socket when the next request arrives.
. "$(dirname "$0")/lib.sh"
PROBE="$WIRE_BUILD/tools/http_client_probe"

cat > "$TMP/srv.js" <<'JS'
const http = require('http');
const sockPath = process.argv[2];
function handler(req, res) {
  const chunks = [];
  req.on('data', d => chunks.push(d));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    if (req.url === '/hints') {
      res.writeEarlyHints({ link: '</a.css>; rel=preload' });
    }
    res.end(JSON.stringify({
      m: req.method, te: req.headers['transfer-encoding'] || '-',
      cl: req.headers['content-length'] || '-',
      auth: req.headers['authorization'] || '-',
      remote: req.socket.remoteAddress || 'unix', len: body.length,
      body: body.slice(0, 40),
    }));
  });
}
const srv = http.createServer(handler);
srv.on('checkContinue', (req, res) => {
  console.log('checkContinue ' + req.url);
  if (req.url === '/417') {
    req.on('data', () => console.log('BODY AFTER 417'));
    res.writeHead(417);
    res.end();
    return;
  }
  res.writeContinue();
  handler(req, res);
});
function tunnel(sock, head, line) {
  sock.write(line + '\r\n\r\nhi there');
  sock.on('data', d => sock.write(d));
  sock.on('error', () => {});
}
srv.on('upgrade', (req, sock, head) =>
  tunnel(sock, head, 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x-test'));
srv.on('connect', (req, sock, head) =>
  tunnel(sock, head, 'HTTP/1.1 200 Connection Established'));
srv.listen(0, '127.0.0.1', () => {
  const u = http.createServer(handler);
  u.listen(sockPath, () =>
    console.log('listening on http://127.0.0.1:' + srv.address().port + '/'));
});
JS
start srv node "$TMP/srv.js" "$TMP/node.sock"
P=$PORT

field() { # field KEY FILE: a JSON field of the first response body
  node -e 'const l=require("fs").readFileSync(process.argv[1],"utf8").split("\n").find(x=>x.startsWith("req 0 status="));
const j=JSON.parse(l.replace(/^req 0 status=\d+ body=/,""));console.log(j[process.argv[2]])' "$2" "$1"
}

"$PROBE" -u "$TMP/node.sock" -n 2 -p /unix "$P" > "$TMP/unix.out" || fail "unix: $(cat "$TMP/unix.out")"
expect_eq "socketPath: answered" 2 "$(grep -c 'status=200' "$TMP/unix.out")"
expect_eq "socketPath: pooled" "final sockets=0 free=1 requests=0 created=1 reused=1" \
  "$(grep '^final' "$TMP/unix.out")"

"$PROBE" -l 127.0.0.2 "$P" > "$TMP/local.out" || fail "localAddress: $(cat "$TMP/local.out")"
expect_eq "localAddress seen by the server" "127.0.0.2" "$(field remote "$TMP/local.out")"

"$PROBE" -a 'Aladdin:open sesame' "$P" > "$TMP/auth.out" || fail "auth"
expect_eq "auth header bytes" "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==" "$(field auth "$TMP/auth.out")"

BIG=$(head -c 30000 /dev/zero | tr '\0' 'x')
"$PROBE" -X POST -k "$BIG" "$P" > "$TMP/chunked.out" || fail "chunked upload"
expect_eq "chunked upload: framing" "chunked -" "$(field te "$TMP/chunked.out") $(field cl "$TMP/chunked.out")"
expect_eq "chunked upload: seen whole" 30000 "$(field len "$TMP/chunked.out")"
"$PROBE" -X PUT -d "$BIG" "$P" > "$TMP/cl.out" || fail "content-length upload"
expect_eq "Content-Length upload: framing" "- 30000" "$(field te "$TMP/cl.out") $(field cl "$TMP/cl.out")"
expect_eq "Content-Length upload: seen whole" 30000 "$(field len "$TMP/cl.out")"

"$PROBE" -X POST -H 'Expect: 100-continue' -d 'the body' -p /go "$P" > "$TMP/expect.out" ||
  fail "100-continue: $(cat "$TMP/expect.out")"
expect_eq "100-continue: continue event before the response" "continue 0|req 0" \
  "$(grep -E '^(continue|req)' "$TMP/expect.out" | cut -d' ' -f1-2 | paste -sd'|')"
expect_eq "100-continue: body sent after it" "the body" "$(field body "$TMP/expect.out")"
"$PROBE" -X POST -H 'Expect: 100-continue' -d 'never sent' -p /417 "$P" > "$TMP/417.out" ||
  fail "417: $(cat "$TMP/417.out")"
expect_eq "417: the final answer" "req 0 status=417 body=" "$(grep '^req' "$TMP/417.out")"
expect_eq "417: the connection is not kept" "final sockets=0 free=0" \
  "$(grep '^final' "$TMP/417.out" | cut -d' ' -f1-3)"
sleep 0.2
if grep -q 'BODY AFTER 417' "$TMP/srv.out"; then fail "the body was sent after a 417"; fi

"$PROBE" -p /hints "$P" > "$TMP/hints.out" || fail "hints: $(cat "$TMP/hints.out")"
expect_eq "103 Early Hints: information event" "info 0 103 link=</a.css>; rel=preload" \
  "$(grep '^info' "$TMP/hints.out")"
grep -q '^req 0 status=200' "$TMP/hints.out" || fail "no final response after 103"

"$PROBE" -U -H 'Connection: Upgrade' -H 'Upgrade: x-test' -p /ws "$P" > "$TMP/up.out" ||
  fail "upgrade: $(cat "$TMP/up.out")"
expect_eq "upgrade: head bytes and the tunnel" "tunnel 0 status=101 head=hi there echo=ping" \
  "$(grep '^tunnel' "$TMP/up.out")"
"$PROBE" -U -X CONNECT -p example.com:443 "$P" > "$TMP/connect.out" ||
  fail "connect: $(cat "$TMP/connect.out")"
expect_eq "CONNECT: head bytes and the tunnel" "tunnel 0 status=200 head=hi there echo=ping" \
  "$(grep '^tunnel' "$TMP/connect.out")"

# ---- the Keep-Alive timeout hint ---------------------------------------------
cat > "$TMP/ka.js" <<'JS'
const http = require('http');
let conns = 0, ended = 0;
const srv = http.createServer((req, res) => res.end('ok'));
srv.keepAliveTimeout = 2000; // sends Keep-Alive: timeout=2
srv.on('connection', s => {
  const id = conns++;
  // 'end' comes only when the client closes first: the server's own
  // keep-alive timeout destroys the socket without waiting for one.
  s.on('end', () => console.log('client closed first ' + id));
});
srv.listen(0, '127.0.0.1', () =>
  console.log('listening on http://127.0.0.1:' + srv.address().port + '/'));
JS
start ka node "$TMP/ka.js"
"$PROBE" -n 2 -c 1 -s 2500 "$PORT" > "$TMP/ka-probe.out" ||
  fail "keep-alive hint: $(cat "$TMP/ka-probe.out")"
expect_eq "hint: both answered, no error" 2 "$(grep -c 'status=200 body=ok' "$TMP/ka-probe.out")"
expect_eq "hint: the second on a new connection" "created=2 reused=0" \
  "$(grep '^final' "$TMP/ka-probe.out" | grep -o 'created=.*')"
wait_for "$TMP/ka.out" '^client closed first 0'
echo "ok: the client closed the idle socket before the server's timeout"

# ---- the retry rule -----------------------------------------------------------
cat > "$TMP/raw.js" <<'JS'
// HTTP by hand: connection 0 answers its first request with keep-alive
// and destroys the socket when the second arrives, without answering.
// Later connections answer (mode "retry") or are destroyed at their first
// request too (mode "twice").
const net = require('net');
const mode = process.argv[2];
let conns = 0;
const srv = net.createServer(s => {
  const id = conns++;
  let buf = Buffer.alloc(0), n = 0;
  s.on('error', () => {});
  s.on('data', d => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const e = buf.indexOf('\r\n\r\n');
      if (e < 0) return;
      const head = buf.slice(0, e).toString();
      const m = /content-length: *(\d+)/i.exec(head);
      const len = e + 4 + (m ? +m[1] : 0);
      if (buf.length < len) return;
      buf = buf.slice(len);
      n++;
      console.log(`req conn=${id} n=${n} ${head.split(' ')[0]}`);
      if ((id === 0 && n === 2) || (id > 0 && mode === 'twice')) {
        s.destroy();
        return;
      }
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
    }
  });
});
srv.listen(0, '127.0.0.1', () =>
  console.log('listening on http://127.0.0.1:' + srv.address().port + '/'));
JS
start retry node "$TMP/raw.js" retry
"$PROBE" -n 2 -c 1 "$PORT" > "$TMP/r-get.out" || fail "GET not retried: $(cat "$TMP/r-get.out")"
expect_eq "retry: GET succeeds" 2 "$(grep -c 'status=200 body=ok' "$TMP/r-get.out")"
expect_eq "retry: GET went again on a new connection" "req conn=1 n=1 GET" \
  "$(grep '^req' "$TMP/retry.out" | tail -1)"
start retry2 node "$TMP/raw.js" retry
RC=0
"$PROBE" -X POST -d body -n 2 -c 1 "$PORT" > "$TMP/r-post.out" || RC=$?
expect_eq "retry: POST fails" "1 req 1 error=ECONNRESET" "$RC $(grep 'error=' "$TMP/r-post.out")"
expect_eq "retry: POST was not sent again" 2 "$(grep -c '^req' "$TMP/retry2.out")"
start twice node "$TMP/raw.js" twice
RC=0
"$PROBE" -n 2 -c 1 "$PORT" > "$TMP/r-twice.out" || RC=$?
expect_eq "retry: a retry that fails is an error" "1 req 1 error=ECONNRESET" \
  "$RC $(grep 'error=' "$TMP/r-twice.out")"
expect_eq "retry: never twice" "3 2" \
  "$(grep -c '^req' "$TMP/twice.out") $(grep '^req' "$TMP/twice.out" | cut -d' ' -f2 | sort -u | wc -l)"
