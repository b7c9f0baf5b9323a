# Half-close both ways between `wire tcp` and node (allowHalfOpen), so each
# reply can only arrive after the other side's FIN:
#  (a) the peer ends first: a node client writes "ping" and ends; only once
#      its FIN is out does the script feed wire's stdin, and node must still
#      receive that reply; wire prints "ping" and exits 0.
#  (b) wire ends first: `wire tcp` sends "ping" and its stdin ends (FIN);
#      the node server replies only on 'end', and wire must still print it.
. "$(dirname "$0")/lib.sh"

# (a) wire listens; its stdin is a pipe the script holds open until node's
# 'finish' (its FIN was sent) is on record.
(
  for i in $(seq 1 400); do
    grep -qx finish "$TMP/a-node.out" 2>/dev/null && break
    sleep 0.05
  done
  printf 'pong after your FIN'
) | "$WIRE" tcp -l 127.0.0.1 0 >"$TMP/a-wire.out" 2>"$TMP/a-wire.err" &
wire_pid=$!
PIDS+=("$wire_pid")
wait_listening "$TMP/a-wire.out" || fail "wire tcp -l did not listen"

rc=0
timeout 20 node - "$PORT" >"$TMP/a-node.out" 2>"$TMP/a-node.err" <<'JS' || rc=$?
const net = require('net');
const c = net.connect({ port: Number(process.argv[2]), host: '127.0.0.1',
                        allowHalfOpen: true });
let got = '';
let ended = false;
c.on('connect', () => c.end('ping'));
c.on('finish', () => { ended = true; console.log('finish'); });
c.on('data', (d) => {
  if (!ended) console.log('data before our FIN');
  got += d;
});
c.on('end', () => console.log('received ' + got));
c.on('close', (hadError) => console.log('close ' + hadError));
c.on('error', (e) => console.error(e.message));
JS
cat "$TMP/a-node.err" >&2
expect_eq "(a) node exit status" 0 "$rc"
expect_eq "(a) nothing arrived before node's FIN" "" \
  "$(grep 'before our FIN' "$TMP/a-node.out" || true)"
expect_eq "(a) node got the reply after its FIN" \
  "received pong after your FIN" "$(grep '^received' "$TMP/a-node.out")"
expect_eq "(a) node saw a clean close" "close false" \
  "$(grep '^close' "$TMP/a-node.out")"
wait_exit "$wire_pid" "wire tcp -l"
cat "$TMP/a-wire.err" >&2
expect_eq "(a) wire tcp -l exit status" 0 "$RC"
expect_eq "(a) wire printed what node sent" \
  "$(printf 'listening on tcp://127.0.0.1:%s\nping' "$PORT")" \
  "$(cat "$TMP/a-wire.out")"

# (b) node listens and answers only after wire's FIN.
cat >"$TMP/server.js" <<'JS'
const net = require('net');
const srv = net.createServer({ allowHalfOpen: true }, (c) => {
  let got = '';
  c.on('data', (d) => { got += d; });
  c.on('end', () => {
    console.log('end after ' + got);
    c.end('pong after your FIN: ' + got);
  });
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
start b-node node "$TMP/server.js"
node_pid=${PIDS[-1]}
rc=0
printf 'ping' | timeout 20 "$WIRE" tcp 127.0.0.1 "$PORT" \
  >"$TMP/b-wire.out" 2>"$TMP/b-wire.err" || rc=$?
cat "$TMP/b-wire.err" >&2
expect_eq "(b) wire tcp exit status" 0 "$rc"
expect_eq "(b) wire got the reply after its own FIN" \
  "pong after your FIN: ping" "$(cat "$TMP/b-wire.out")"
wait_exit "$node_pid" "node server"
expect_eq "(b) node exit status" 0 "$RC"
expect_eq "(b) node saw wire's FIN after the data" "end after ping" \
  "$(grep '^end' "$TMP/b-node.out")"
expect_eq "(b) node saw a clean close" "close false" \
  "$(grep '^close' "$TMP/b-node.out")"
