# 1,000 concurrent connections to examples/tcp_server from one node
# client, opened at once: each gets the exact greeting, sends one chunk,
# gets one reply and ends; all close cleanly; the server prints one
# "连接断开" per connection and still answers a new client afterwards.
. "$(dirname "$0")/lib.sh"
N=1000
# Both processes hold N sockets (plus listeners, pipes, epoll): raise the
# soft limit (up to the hard one) before starting them.
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt $((N + 200)) ]; then
  fail "hard fd limit $hard is below $((N + 200))"
fi
ulimit -n $((N * 2 + 200)) 2>/dev/null || ulimit -n "$hard"

start srv "$EX/tcp_server" 0
timeout 120 node - "$PORT" "$N" >"$TMP/cli.out" 2>"$TMP/cli.err" <<'JS' ||
const net = require('net');
const port = Number(process.argv[2]);
const n = Number(process.argv[3]);
const greeting = Buffer.from('hello world\uff1a\n');
const reply = Buffer.from('\u4f60\u597d');
const want = Buffer.concat([greeting, reply]);
let good = 0, bad = 0, closed = 0, errors = 0;
for (let i = 0; i < n; i++) {
  const c = net.connect(port, '127.0.0.1');
  let got = Buffer.alloc(0);
  let sent = false;
  c.on('data', (d) => {
    got = Buffer.concat([got, d]);
    if (!sent && got.length >= greeting.length) {
      sent = true;
      c.write('x' + i);
    }
    if (got.length >= want.length) c.end();
  });
  c.on('error', (e) => { errors++; console.error(i + ': ' + e.message); });
  c.on('close', (hadError) => {
    if (!hadError && got.equals(want)) good++; else bad++;
    if (++closed === n)
      console.log(`closed ${closed} good ${good} bad ${bad} errors ${errors}`);
  });
}
JS
  { head -n 20 "$TMP/cli.err" >&2; fail "node client"; }
head -n 20 "$TMP/cli.err" >&2
expect_eq "all connections got greeting + reply and closed cleanly" \
  "closed $N good $N bad 0 errors 0" "$(cat "$TMP/cli.out")"
for i in $(seq 1 400); do
  [ "$(grep -c '连接断开' "$TMP/srv.out")" -ge $N ] && break
  sleep 0.05
done
expect_eq "one disconnect line per connection" $N \
  "$(grep -c '连接断开' "$TMP/srv.out")"
kill -0 "${PIDS[0]}" 2>/dev/null || fail "the server died"
out=$(printf 'again' | timeout 10 socat -t 2 - TCP:127.0.0.1:"$PORT")
expect_eq "the server still answers afterwards" \
  "$(printf 'hello world\xef\xbc\x9a\n\xe4\xbd\xa0\xe5\xa5\xbd')" "$out"
