# examples/tcp_client against a node `net` server that greets like the
# seed's server: the client prints "client connected", the server receives
# exactly "world!\r\n", the client prints the greeting, ends, prints
# "client disconnected" when the server's end arrives, and exits 0.
. "$(dirname "$0")/lib.sh"
cat >"$TMP/server.js" <<'JS'
const net = require('net');
const srv = net.createServer((c) => {
  let got = Buffer.alloc(0);
  c.write('hello world\uff1a\n');
  c.on('data', (d) => { got = Buffer.concat([got, d]); });
  // allowHalfOpen is off: node ends its side right after this.
  c.on('end', () => console.log('received ' + got.toString('hex')));
  c.on('close', (hadError) => {
    console.log('close ' + hadError);
    srv.close();
  });
});
srv.listen(0, '127.0.0.1', () => {
  console.log('listening on tcp://127.0.0.1:' + srv.address().port);
});
setTimeout(() => process.exit(3), 20000).unref();
JS
start srv node "$TMP/server.js"
node_pid=${PIDS[-1]}

rc=0
timeout 20 "$EX/tcp_client" "$PORT" 127.0.0.1 >"$TMP/cli.out" 2>"$TMP/cli.err" ||
  rc=$?
cat "$TMP/cli.err" >&2
expect_eq "client exit status" 0 "$rc"
expect_eq "client output" \
  "$(printf 'client connected\nhello world\xef\xbc\x9a\n\nclient disconnected')" \
  "$(cat "$TMP/cli.out")"
wait_exit "$node_pid" "node server"
expect_eq "server exit status" 0 "$RC"
expect_eq "server received exactly world!\\r\\n" \
  "received $(printf 'world!\r\n' | od -An -tx1 | tr -d ' \n')" \
  "$(grep '^received' "$TMP/srv.out")"
expect_eq "server saw a clean close" "close false" \
  "$(grep '^close' "$TMP/srv.out")"
