# The HTTP client against a node http server: http_get fetches a body;
# examples/http_client (the seed's agent with maxSockets 10) sends 20
# requests at once and the server sees at most 10 connections, all 20
# requests answered; and the agent's counts are printed while it works.
. "$(dirname "$0")/lib.sh"
cat > "$TMP/srv.js" <<'JS'
const http = require('http');
let conns = 0, reqs = 0, open = 0, maxOpen = 0;
const srv = http.createServer((req, res) => {
  reqs++;
  // Answer a little later so requests overlap and the pool fills up.
  setTimeout(() => res.end('hello from node ' + req.url + '\n'), 20);
});
srv.on('connection', s => {
  conns++; open++; maxOpen = Math.max(maxOpen, open);
  s.on('close', () => open--);
});
srv.listen(0, '127.0.0.1', () =>
  console.log('listening on http://127.0.0.1:' + srv.address().port + '/'));
process.on('SIGUSR1', () => console.log(`stats conns=${conns} reqs=${reqs} maxopen=${maxOpen}`));
JS
start srv node "$TMP/srv.js"
out=$("$EX/http_get" "http://127.0.0.1:$PORT/one" 2>"$TMP/get.err")
expect_eq "http_get body" "hello from node /one" "$out"
expect_eq "http_get status line" "HTTP/1.1 200 OK" "$(cat "$TMP/get.err")"

"$EX/http_client" "$PORT" 20 > "$TMP/client.out" || fail "http_client exit"
kill -USR1 "${PIDS[0]}"
wait_for "$TMP/srv.out" '^stats'
stats=$(grep '^stats' "$TMP/srv.out")
echo "$stats"
reqs=$(echo "$stats" | sed -E 's/.*reqs=([0-9]+).*/\1/')
maxopen=$(echo "$stats" | sed -E 's/.*maxopen=([0-9]+).*/\1/')
conns=$(echo "$stats" | sed -E 's/.*conns=([0-9]+).*/\1/')
expect_eq "all requests served (1 get + 20)" 21 "$reqs"
[ "$maxopen" -le 11 ] || fail "more than 10 pooled connections open at once: $maxopen"
[ "$conns" -le 11 ] || fail "the agent opened $conns connections for 20 requests (max 10 + the get)"
# While 20 requests share 10 sockets, some wait in the agent's queue.
grep -q 'agent: sockets=10 requests=[1-9]' "$TMP/client.out" ||
  fail "agent counts never showed queued requests: $(head -3 "$TMP/client.out")"
echo "ok: pooled ($conns connections, at most $maxopen open)"
