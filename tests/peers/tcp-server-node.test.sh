# examples/tcp_server against a node `net` client: the greeting's exact
# bytes (with U+FF1A), one "你好" per chunk the client sends (it waits for
# each reply before the next chunk, so chunks cannot merge), and one
# "连接断开" line on the server when the client ends.
. "$(dirname "$0")/lib.sh"
start srv "$EX/tcp_server" 0

timeout 20 node - "$PORT" >"$TMP/cli.out" 2>"$TMP/cli.err" <<'JS' ||
const net = require('net');
const port = Number(process.argv[2]);
const greeting = Buffer.from('hello world\uff1a\n');
const reply = Buffer.from('\u4f60\u597d');
const chunks = ['one', 'two', 'three'];
let got = Buffer.alloc(0);
let sent = 0;
const c = net.connect(port, '127.0.0.1');
c.on('data', (d) => {
  got = Buffer.concat([got, d]);
  // After the greeting and one reply per chunk sent so far: next chunk.
  if (got.length === greeting.length + sent * reply.length) {
    if (sent < chunks.length) c.write(chunks[sent++]);
    else c.end();
  }
});
c.on('end', () => console.log('end'));
c.on('close', (hadError) => {
  console.log('received ' + got.toString('hex'));
  console.log('close ' + hadError);
});
c.on('error', (e) => console.error(e.message));
JS
  { cat "$TMP/cli.err" >&2; fail "node client"; }

hex() { printf "$1" | od -An -tx1 | tr -d ' \n'; }
expected="$(hex 'hello world\xef\xbc\x9a\n')$(hex '\xe4\xbd\xa0\xe5\xa5\xbd')"
expected="$expected$(hex '\xe4\xbd\xa0\xe5\xa5\xbd')$(hex '\xe4\xbd\xa0\xe5\xa5\xbd')"
expect_eq "greeting then one reply per chunk" "received $expected" \
  "$(grep '^received' "$TMP/cli.out")"
expect_eq "server ended after the client" "end" "$(grep -x end "$TMP/cli.out")"
expect_eq "clean close" "close false" "$(grep '^close' "$TMP/cli.out")"
wait_for "$TMP/srv.out" '连接断开'
expect_eq "one disconnect line" 1 "$(grep -c '连接断开' "$TMP/srv.out")"
