# wire get -n 200 -c 4 against a node server that counts connections: all
# 200 requests answered, at most 4 connections (open at once and in all),
# and the printed counts match what the server saw; then with a body.
. "$(dirname "$0")/lib.sh"
cat >"$TMP/srv.js" <<'JS'
const http = require('http');
let conns = 0, open = 0, maxOpen = 0, reqs = 0, bytes = 0;
const srv = http.createServer((req, res) => {
  reqs++;
  req.on('data', (c) => (bytes += c.length));
  // Answer a little later so that requests overlap and the pool fills up.
  req.on('end', () => setTimeout(() => res.end('ok\n'), 1));
});
srv.on('connection', (s) => {
  conns++; open++; maxOpen = Math.max(maxOpen, open);
  s.on('close', () => open--);
});
srv.listen(0, '127.0.0.1', () =>
  console.log('listening on http://127.0.0.1:' + srv.address().port + '/'));
process.on('SIGUSR1', () =>
  console.log(`stats conns=${conns} maxopen=${maxOpen} reqs=${reqs} bytes=${bytes}`));
JS
start srv node "$TMP/srv.js"
# stats: asks the server for its counts and prints the new line (the
# server appends to its .out file, so count the lines already there).
stats() {
  local before i
  before=$(grep -c '^stats' "$TMP/srv.out" || true)
  kill -USR1 "${PIDS[0]}"
  for i in $(seq 1 200); do
    [ "$(grep -c '^stats' "$TMP/srv.out" || true)" -gt "$before" ] && break
    sleep 0.05
  done
  grep '^stats' "$TMP/srv.out" | sed -n "$((before + 1))p"
}
field() { echo "$1" | sed -E "s/.*$2=([0-9]+).*/\1/"; }

timeout 60 "$WIRE" get -n 200 -c 4 "http://127.0.0.1:$PORT/" >"$TMP/out" ||
  fail "get -n 200 -c 4: $(cat "$TMP/out")"
cat "$TMP/out"
s=$(stats)
echo "server: $s"
expect_eq "server answered" 200 "$(field "$s" reqs)"
conns=$(field "$s" conns)
[ "$conns" -le 4 ] || fail "$conns connections for -c 4"
[ "$(field "$s" maxopen)" -le 4 ] || fail "more than 4 open at once"
grep -qx 'requests: 200, completed 200, errors 0, status < 400: 200, >= 400: 0' \
  "$TMP/out" || fail "requests line"
grep -qE '^time: [0-9.]+ s, [0-9.]+ requests/s, 600 body bytes$' "$TMP/out" ||
  fail "time line"
grep -qE '^latency ms: p50 [0-9.]+, p90 [0-9.]+, p99 [0-9.]+, max [0-9.]+$' \
  "$TMP/out" || fail "latency line"
# The percentiles are in order.
read -r p50 p90 p99 max < <(sed -n 's/^latency ms: p50 \([0-9.]*\), p90 \([0-9.]*\), p99 \([0-9.]*\), max \([0-9.]*\)$/\1 \2 \3 \4/p' "$TMP/out")
awk -v a="$p50" -v b="$p90" -v c="$p99" -v d="$max" \
  'BEGIN {exit !(a > 0 && a <= b && b <= c && c <= d)}' ||
  fail "percentiles out of order: $p50 $p90 $p99 $max"
expect_eq "agent counts" \
  "agent: sockets 0, free sockets $conns, requests waiting 0, connections created $conns, reused $((200 - conns))" \
  "$(grep '^agent:' "$TMP/out")"

# With a body from a file: 20 POSTs of 1000 bytes, 2 at a time.
head -c 1000 /dev/urandom >"$TMP/body"
timeout 60 "$WIRE" get -n 20 -c 2 -d @"$TMP/body" "http://127.0.0.1:$PORT/" \
  >"$TMP/out" || fail "get -n 20 -c 2 -d @FILE"
s=$(stats)
expect_eq "server answered (total)" 220 "$(field "$s" reqs)"
expect_eq "body bytes seen" 20000 "$(field "$s" bytes)"
grep -q '^requests: 20, completed 20, errors 0' "$TMP/out" || fail "$(cat "$TMP/out")"

# Against nothing: every request fails, exit status 1.
dead=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
rc=0
timeout 60 "$WIRE" get -n 10 -c 3 "http://127.0.0.1:$dead/" >"$TMP/out" \
  2>"$TMP/err" || rc=$?
expect_eq "load against a closed port" 1 "$rc"
grep -q '^requests: 10, completed 0, errors 10' "$TMP/out" || fail "$(cat "$TMP/out")"
grep -qi 'connection refused' "$TMP/err" || fail "$(cat "$TMP/err")"
