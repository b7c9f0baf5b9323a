# `wire ws URL` against the npm ws package as a server: stdin lines go
# out as text messages and come back echoed, a binary message is printed
# as a hex summary (or raw with --raw), a subprotocol is negotiated (-p),
# a header (-H) reaches the server, permessage-deflate is offered with
# --deflate, the server's close code and reason are printed on stderr with
# exit 0, and a refused handshake or a dead port exit 1.
. "$(dirname "$0")/lib.sh"
export NODE_PATH="$WIRE_SRC/tests/peers/node_modules"
cat >"$TMP/server.js" <<'EOF'
// Echo server: text back as text; "bin" -> 5 bytes 00 01 02 fe ff;
// "big-bin" -> 100 bytes; "hdr" -> the x-test header; "ext" -> the
// negotiated extensions; "bye" -> close 4001 "done"; on connection sends
// "welcome PROTOCOL". Prints "listening on ws://127.0.0.1:PORT".
const http = require('http');
const { WebSocketServer } = require('ws');
const server = http.createServer();
const wss = new WebSocketServer({
  server,
  perMessageDeflate: { threshold: 0 },
  handleProtocols: (p) => (p.has('chat.v2') ? 'chat.v2' : false),
});
wss.on('connection', (ws, req) => {
  ws.send('welcome ' + (ws.protocol || '-'));
  ws.on('message', (data, isBinary) => {
    const s = data.toString();
    if (isBinary) return ws.send('got binary ' + data.length);
    if (s === 'bin') return ws.send(Buffer.from([0, 1, 2, 0xfe, 0xff]));
    if (s === 'big-bin') return ws.send(Buffer.alloc(100, 0xab));
    if (s === 'hdr') return ws.send('x-test=' + req.headers['x-test']);
    if (s === 'ext') return ws.send('ext=' + (ws.extensions || '-'));
    if (s === 'bye') return ws.close(4001, 'done');
    ws.send('echo:' + s);
  });
});
server.on('request', (req, res) => { res.writeHead(403); res.end(); });
server.listen(0, '127.0.0.1', () => {
  console.log('listening on ws://127.0.0.1:' + server.address().port);
});
EOF
start node node "$TMP/server.js"
URL="ws://127.0.0.1:$PORT/"

# Lines out, messages in; the close from the server gives exit 0.
printf 'hello\nwörld\r\nbin\nhdr\nbye\n' |
  timeout 20 "$WIRE" ws "$URL" -H 'X-Test: 42' >"$TMP/c1.out" 2>"$TMP/c1.err" ||
  { cat "$TMP/c1.err" >&2; fail "wire ws exited $?"; }
expect_eq "messages printed" "welcome -
echo:hello
echo:wörld
<binary, 5 bytes> 00 01 02 fe ff
x-test=42" "$(cat "$TMP/c1.out")"
grep -q '^wire ws: closed: 4001 done$' "$TMP/c1.err" ||
  { cat "$TMP/c1.err" >&2; fail "close code not printed"; }
echo "ok: close code and reason on stderr"

# Subprotocol: the server picks chat.v2 of the two offered.
printf 'hi\n' | timeout 20 "$WIRE" ws "$URL" -p chat.v1 --protocol chat.v2 \
  -w 0.3 >"$TMP/c2.out" 2>"$TMP/c2.err" ||
  { cat "$TMP/c2.err" >&2; fail "wire ws -p exited $?"; }
expect_eq "subprotocol" "welcome chat.v2
echo:hi" "$(cat "$TMP/c2.out")"
grep -q 'protocol: chat.v2' "$TMP/c2.err" || fail "protocol not on stderr"
grep -q '^wire ws: closed: 1000$' "$TMP/c2.err" ||
  { cat "$TMP/c2.err" >&2; fail "our close 1000 not echoed back"; }
echo "ok: closed 1000 after stdin ended"

# permessage-deflate only with --deflate.
printf 'ext\n' | timeout 20 "$WIRE" ws "$URL" --deflate >"$TMP/c3.out" \
  2>"$TMP/c3.err" || { cat "$TMP/c3.err" >&2; fail "--deflate exited $?"; }
grep -q '^ext=permessage-deflate$' "$TMP/c3.out" ||
  { cat "$TMP/c3.out" >&2; fail "deflate not negotiated"; }
grep -q 'extensions: permessage-deflate' "$TMP/c3.err" || fail "ext on stderr"
printf 'ext\n' | timeout 20 "$WIRE" ws "$URL" >"$TMP/c4.out" 2>&1 ||
  fail "plain exited $?"
grep -q '^ext=-$' "$TMP/c4.out" || fail "deflate negotiated without --deflate"
echo "ok: --deflate"

# --binary sends the lines as binary messages; --raw prints bytes as is;
# a long binary message is summarised.
printf 'abc\n' | timeout 20 "$WIRE" ws "$URL" --binary >"$TMP/c5.out" 2>&1 ||
  fail "--binary exited $?"
grep -q '^got binary 3$' "$TMP/c5.out" || fail "--binary: $(cat "$TMP/c5.out")"
printf 'bin\n' | timeout 20 "$WIRE" ws "$URL" --raw 2>/dev/null |
  tail -c 5 | od -An -tx1 | tr -d ' \n' >"$TMP/c6.hex"
expect_eq "--raw bytes" "000102feff" "$(cat "$TMP/c6.hex")"
printf 'big-bin\n' | timeout 20 "$WIRE" ws "$URL" 2>/dev/null | tail -1 |
  grep -q '^<binary, 100 bytes> ab ab .* ab \.\.\.$' || fail "hex summary"
echo "ok: binary in and out"

# A stdin that is a regular file works too.
printf 'one\ntwo' >"$TMP/in.txt"
timeout 20 "$WIRE" ws "$URL" <"$TMP/in.txt" >"$TMP/c7.out" 2>&1 ||
  fail "file stdin exited $?"
grep -q '^echo:two$' "$TMP/c7.out" || fail "last line without newline"
echo "ok: file stdin"

# An empty stdin closes at once, cleanly (exit 0). Errors exit 1: not a
# ws URL, a refused handshake (403), nothing listening.
rc=0
timeout 20 "$WIRE" ws "$URL" </dev/null >/dev/null 2>"$TMP/e1.err" || rc=$?
expect_eq "empty stdin exit" 0 "$rc"
rc=0
printf 'x\n' | timeout 20 "$WIRE" ws "http://127.0.0.1:$PORT/" \
  >/dev/null 2>"$TMP/e2.err" || rc=$?
expect_eq "not a ws URL: exit" 1 "$rc"
# A plain HTTP server (node's, 403 to everything) refuses the upgrade.
cat >"$TMP/plain.js" <<'EOF'
const s = require('http').createServer((q, r) => { r.writeHead(403); r.end(); });
s.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + s.address().port));
EOF
start plain node "$TMP/plain.js"
rc=0
printf 'x\n' | timeout 20 "$WIRE" ws "ws://127.0.0.1:$PORT/" \
  >/dev/null 2>"$TMP/e3.err" || rc=$?
expect_eq "refused handshake: exit" 1 "$rc"
grep -q '403' "$TMP/e3.err" || { cat "$TMP/e3.err" >&2; fail "no 403 shown"; }
kill "${PIDS[1]}"
wait "${PIDS[1]}" 2>/dev/null || true
rc=0
printf 'x\n' | timeout 20 "$WIRE" ws "ws://127.0.0.1:$PORT/" \
  >/dev/null 2>"$TMP/e4.err" || rc=$?
expect_eq "nothing listening: exit" 1 "$rc"
echo "ok: errors exit 1"

# wss:// either works or says clearly that it is not supported.
rc=0
timeout 20 "$WIRE" ws "wss://127.0.0.1:1/" --insecure </dev/null \
  >/dev/null 2>"$TMP/e5.err" || rc=$?
expect_eq "wss to a closed port: exit" 1 "$rc"
cat "$TMP/e5.err"
rc=0
"$WIRE" ws "$URL" --bogus >/dev/null 2>&1 || rc=$?
expect_eq "bad option: exit" 2 "$rc"
