# wss://: wire's WebSocket client over TLS against the npm ws package on
# node's https server, with certificates from `wire cert`: an echo with the
# CA given; refused (exit 1, a TLS reason) without it; accepted with
# --insecure.
. "$(dirname "$0")/lib.sh"
"$WIRE" cert ca --out "$TMP/ca" >/dev/null
"$WIRE" cert server --ca "$TMP/ca" --san 127.0.0.1 --san localhost \
  --out "$TMP/srv" >/dev/null
cat > "$TMP/srv.js" <<JS
const https = require('https');
const fs = require('fs');
const { WebSocketServer } = require('$WIRE_SRC/tests/peers/node_modules/ws');
const server = https.createServer({
  key: fs.readFileSync('$TMP/srv.key'), cert: fs.readFileSync('$TMP/srv.crt'),
});
const wss = new WebSocketServer({ server });
wss.on('connection', (ws) => ws.on('message', (m, bin) => ws.send(m, { binary: bin })));
server.listen(0, '127.0.0.1', () =>
  console.log('listening on wss://127.0.0.1:' + server.address().port + '/'));
JS
start srv node "$TMP/srv.js"

out=$(printf 'hello over tls\n' |
  timeout 20 "$WIRE" ws "wss://127.0.0.1:$PORT/" --cacert "$TMP/ca.crt" -w 1 \
    2>"$TMP/ok.err")
expect_eq "wss echo with the CA" "hello over tls" "$out"

rc=0
printf 'x\n' | timeout 20 "$WIRE" ws "wss://127.0.0.1:$PORT/" -w 1 \
  >/dev/null 2>"$TMP/bad.err" || rc=$?
expect_eq "wss without the CA: exit" 1 "$rc"
grep -qi 'tls\|certificate' "$TMP/bad.err" ||
  fail "no TLS reason: $(cat "$TMP/bad.err")"

out=$(printf 'insecure\n' |
  timeout 20 "$WIRE" ws "wss://127.0.0.1:$PORT/" --insecure -w 1 2>/dev/null)
expect_eq "wss with --insecure" "insecure" "$out"
