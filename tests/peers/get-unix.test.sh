# wire get --unix against a node http server on a Unix socket: the body,
# the Host header from the URL, and a POST body.
. "$(dirname "$0")/lib.sh"
sock="$TMP/s.sock"
cat >"$TMP/srv.js" <<'JS'
const http = require('http');
const srv = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () =>
    res.end(`${req.method} ${req.url} host=${req.headers.host} body=${body}\n`));
});
srv.listen(process.argv[2], () => console.log('listening on unix:' + process.argv[2] + ':0'));
JS
start srv node "$TMP/srv.js" "$sock"
expect_eq "GET over a Unix socket" "GET /over/unix?x=1 host=localhost body=" \
  "$(timeout 30 "$WIRE" get --unix "$sock" 'http://localhost/over/unix?x=1')"
expect_eq "POST over a Unix socket" "POST /p host=example.test:8080 body=abc" \
  "$(timeout 30 "$WIRE" get --unix "$sock" -d abc http://example.test:8080/p)"
rc=0
timeout 30 "$WIRE" get --unix "$TMP/none.sock" http://localhost/ 2>"$TMP/err" || rc=$?
expect_eq "missing socket exit status" 1 "$rc"
