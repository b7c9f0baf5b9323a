# `wire serve --ws-echo PATH` against the npm ws client and
# python3-websockets: text and binary messages come back with their type,
# files are still served beside the endpoint, --ws-max-payload closes a
# too-big message with 1009, --ws-deflate negotiates permessage-deflate
# (and it is not negotiated without it), the endpoint also sits beside
# the HTTP echo (--echo), and an upgrade for another path is refused.
. "$(dirname "$0")/lib.sh"
export NODE_PATH="$WIRE_SRC/tests/peers/node_modules"
PY=/usr/bin/python3 # Debian's, where python3-websockets is installed
mkdir -p "$TMP/www"
printf 'static file\n' >"$TMP/www/a.txt"

# node CLIENT: node ws client; prints one line per check.
cat >"$TMP/client.js" <<'EOF'
const WebSocket = require('ws');
const [url, mode] = process.argv.slice(2);
const ws = new WebSocket(url, { perMessageDeflate: mode === 'deflate' });
const got = [];
ws.on('open', () => {
  console.log('ext=' + (ws.extensions || '-'));
  if (mode === 'big') return ws.send(Buffer.alloc(100001, 1));
  ws.send('hello wire');
  ws.send(Buffer.from([0, 1, 2, 253, 254, 255]));
  ws.send('x'.repeat(70000));
  ws.send('');
});
ws.on('message', (data, isBinary) => {
  got.push(isBinary ? 'bin:' + data.toString('hex') :
    data.length > 100 ? 'text:len' + data.length : 'text:' + data);
  if (got.length === 4) { console.log(got.join('\n')); ws.close(1000, 'ok'); }
});
ws.on('close', (code, reason) => console.log('close=' + code + ' ' + reason));
ws.on('error', (e) => console.log('error=' + e.message));
EOF
# python CLIENT: python3-websockets; echoes text and binary.
cat >"$TMP/client.py" <<'EOF'
import asyncio, sys, websockets
async def main(url, mode):
    comp = 'deflate' if mode == 'deflate' else None
    async with websockets.connect(url, compression=comp) as ws:
        ext = ws.response_headers.get('Sec-WebSocket-Extensions', '-')
        print('ext=' + ext)
        if mode == 'big':
            await ws.send(b'\x01' * 100001)
            try:
                await ws.recv()
            except websockets.ConnectionClosed as e:
                print('close=%d' % e.code)
            return
        await ws.send('grüße')
        print('text:' + await ws.recv())
        await ws.send(bytes([0, 1, 255]))
        print('bin:' + (await ws.recv()).hex())
        await ws.send('y' * 90000)
        print('text:len%d' % len(await ws.recv()))
    print('close=%d' % ws.close_code)
asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ''))
EOF

start serve "$WIRE" serve "$TMP/www" --port 0 --ws-echo /echo \
  --ws-max-payload 100000
BASE="127.0.0.1:$PORT"
expect_eq "file beside the endpoint" "static file" \
  "$(curl -sS "http://$BASE/a.txt")"

out=$(timeout 20 node "$TMP/client.js" "ws://$BASE/echo" plain)
expect_eq "node: text, binary, 70000 bytes, empty" "ext=-
text:hello wire
bin:000102fdfeff
text:len70000
text:
close=1000 ok" "$out"
out=$(timeout 20 node "$TMP/client.js" "ws://$BASE/echo" big)
expect_eq "node: over --ws-max-payload" "ext=-
close=1009 " "$out"
out=$(timeout 20 node "$TMP/client.js" "ws://$BASE/echo" deflate)
expect_eq "node: deflate offered, not enabled" "ext=-" "$(echo "$out" | head -1)"

out=$(timeout 20 $PY "$TMP/client.py" "ws://$BASE/echo")
expect_eq "python: text, binary, 90000 bytes" "ext=-
text:grüße
bin:0001ff
text:len90000
close=1000" "$out"
out=$(timeout 20 $PY "$TMP/client.py" "ws://$BASE/echo" big)
expect_eq "python: over --ws-max-payload" "ext=-
close=1009" "$out"

# Another path: the upgrade is refused (400), the server goes on.
code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Connection: Upgrade' \
  -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
  -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "http://$BASE/other")
expect_eq "upgrade on another path" 400 "$code"
kill -0 "${PIDS[0]}" || fail "wire serve exited"

# --ws-deflate beside --echo.
start serve2 "$WIRE" serve --echo --port 0 --ws-echo /ws --ws-deflate
BASE="127.0.0.1:$PORT"
expect_eq "http echo beside the endpoint" "ping" \
  "$(curl -sS --data-binary ping "http://$BASE/anything")"
out=$(timeout 20 node "$TMP/client.js" "ws://$BASE/ws" deflate)
expect_eq "node: --ws-deflate" "ext=permessage-deflate
text:hello wire
bin:000102fdfeff
text:len70000
text:
close=1000 ok" "$out"
out=$(timeout 20 $PY "$TMP/client.py" "ws://$BASE/ws" deflate)
echo "$out" | head -1 | grep -q '^ext=permessage-deflate' ||
  fail "python: deflate not negotiated: $out"
expect_eq "python: --ws-deflate echoes" "text:grüße
bin:0001ff
text:len90000
close=1000" "$(echo "$out" | tail -n +2)"
# A client that does not offer it gets plain frames.
out=$(timeout 20 node "$TMP/client.js" "ws://$BASE/ws" plain)
out=$(echo "$out" | head -1)
expect_eq "node: no offer, no deflate" "ext=-" "$out"

# wire's own client against wire's endpoint.
out=$(printf 'one\ntwo\n' | timeout 20 "$WIRE" ws "ws://$BASE/ws" --deflate \
  2>"$TMP/ws.err")
expect_eq "wire ws against wire serve" "one
two" "$out"
grep -q 'extensions: permessage-deflate' "$TMP/ws.err" || fail "wire ws ext"

rc=0
"$WIRE" serve --ws-echo /x --ws-max-payload nope >/dev/null 2>&1 || rc=$?
expect_eq "bad --ws-max-payload: exit" 2 "$rc"
